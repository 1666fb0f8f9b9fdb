"""Inference speed: an exported generator (`keras_gan.load_generator`) next to in-process Keras.

For each network, the generator is exported with `keras_gan.export_generator`
(to a temporary directory) and loaded back with `keras_gan.load_generator`,
the TensorFlow-only loader a serving client uses. The weights are untrained
(speed does not depend on them). It measures, on the same noise:

- `load_generator`: `g(z)`, i.e. the export's `serving_default` signature
  plus the numpy conversion in and out,
- `serving_default`: the signature called directly with a tensor (what TF
  Serving runs, minus its RPC),
- `keras G(z)`: the in-process Keras generator called eagerly
  (`generator(z, training=False)`),
- `keras predict_on_batch`: the in-process generator's traced predict
  function.

Rows give images/s at batch 1, 64 and 1024 (median of `--repeats`
interleaved runs, A B C D A B C D ..., after a warm-up call, with the
slowest-fastest spread) and, at batch 1, the p50 and p99 latency of single
calls.

    python benchmarks/inference.py                 # MLP and DCGAN, 28x28
    python benchmarks/inference.py --networks dcgan64 --batch-sizes 1 64
    python benchmarks/inference.py --smoke         # CI: tiny MLP, a few calls
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import networks  # noqa: E402

# name: (builder(latent_dim, width), latent_dim)
NETWORKS = {
    "mlp28": (lambda z, w: networks.mlp_generator(z, (28, 28, 1), units=tuple(u * w // 64 for u in (128, 256, 512, 1024))), 100),
    "dcgan28": (lambda z, w: networks.dcgan_generator(z, (28, 28, 1), filters=w), 100),
    "dcgan64": (lambda z, w: networks.dcgan_generator(z, (64, 64, 3), filters=w), 100),
}
PATHS = ("load_generator", "serving_default", "keras G(z)", "keras predict_on_batch")


def make_callers(generator, exported):
    """{path: f(z numpy) -> numpy images} for every measured path."""
    signature = exported.signatures["serving_default"]
    return {
        "load_generator": lambda z: exported(z),
        "serving_default": lambda z: signature(z=tf.constant(z))["images"].numpy(),
        "keras G(z)": lambda z: generator(z, training=False).numpy(),
        "keras predict_on_batch": lambda z: generator.predict_on_batch(z),
    }


def throughput(callers, z, calls, repeats):
    """{path: (median img/s, low, high)} over interleaved runs of `calls` calls each."""
    for call in callers.values():
        call(z)  # warm-up: traces and caches
    speeds = {path: [] for path in callers}
    for _ in range(repeats):
        for path, call in callers.items():
            start = time.perf_counter()
            for _ in range(calls):
                call(z)
            speeds[path].append(len(z) * calls / (time.perf_counter() - start))
    return {p: (statistics.median(s), min(s), max(s)) for p, s in speeds.items()}


def latencies(callers, z, calls):
    """{path: (p50 ms, p99 ms)} of single calls, the paths interleaved call by call."""
    times = {path: [] for path in callers}
    for _ in range(calls):
        for path, call in callers.items():
            start = time.perf_counter()
            call(z)
            times[path].append((time.perf_counter() - start) * 1000)
    return {p: (float(np.percentile(t, 50)), float(np.percentile(t, 99))) for p, t in times.items()}


def calls_for(batch_size, budget_images):
    return max(3, budget_images // batch_size)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["mlp28", "dcgan28"], choices=list(NETWORKS))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs per path")
    parser.add_argument("--images", type=int, default=4096,
                        help="images per run (at least 3 calls); batch 1 runs use --latency-calls")
    parser.add_argument("--latency-calls", type=int, default=300, help="single calls timed at batch 1")
    parser.add_argument("--width", type=int, default=64, help="DCGAN filters; MLP units scale by width/64")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check: tiny MLP, batches 1 and 8, a few calls, 1 repeat")
    args = parser.parse_args(argv)
    if args.smoke:
        args.networks, args.batch_sizes, args.repeats = ["mlp28"], [1, 8], 1
        args.images, args.latency_calls, args.width = 16, 5, 4

    print(f"Inference speed on CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores); "
          f"TF {tf.__version__}, Keras {keras.__version__}")
    print(f"img/s: median of {args.repeats} interleaved runs (spread); latency: {args.latency_calls} "
          "single calls at batch 1, interleaved")
    print()
    print("| network | path | batch | img/s | spread img/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for network in args.networks:
        builder, latent_dim = NETWORKS[network]
        keras.utils.set_random_seed(0)
        generator = builder(latent_dim, args.width)
        with tempfile.TemporaryDirectory() as base:
            keras_gan.export_generator(generator, base)
            exported = keras_gan.load_generator(base)
            callers = make_callers(generator, exported)
            rng = np.random.default_rng(0)
            for batch_size in args.batch_sizes:
                z = rng.normal(size=(batch_size, latent_dim)).astype("float32")
                outputs = [call(z) for call in callers.values()]
                for out in outputs[1:]:  # every path computes the same images
                    np.testing.assert_allclose(out, outputs[0], atol=1e-4)
                calls = args.latency_calls if batch_size == 1 else calls_for(batch_size, args.images)
                speeds = throughput(callers, z, calls, args.repeats)
                lat = latencies(callers, z, args.latency_calls) if batch_size == 1 else {}
                for path in callers:
                    median, low, high = speeds[path]
                    p50, p99 = (f"{v:.2f}" for v in lat[path]) if path in lat else ("", "")
                    print(f"| {network} | {path} | {batch_size} | {median:.0f} | {low:.0f}-{high:.0f} | "
                          f"{p50} | {p99} |", flush=True)
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
