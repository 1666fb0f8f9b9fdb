"""Training speed of the DCGAN: float32 vs mixed_float16 vs mixed_bfloat16, XLA off/on.

Prints one table row per (image size, dtype policy, XLA) with the number of
real images `fit` consumes per second (one `train_step` = one D update on a
batch of real and fake images, then one G update). The input is one fixed
batch repeated, so the data pipeline is not measured. It runs on whatever
device TensorFlow picks (a GPU when there is one) and needs no download.

    python benchmarks/precision.py               # the full table
    python benchmarks/precision.py --smoke       # CI: 28x28, tiny nets, 2 steps

Each row builds fresh networks under its policy; the first epoch (tracing and
XLA compilation) is discarded, then `--repeats` epochs of `--steps` steps are
timed and the median is reported, with the slowest-to-fastest spread.
"""

import argparse
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import networks  # noqa: E402

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
IMAGES = {28: (28, 28, 1), 64: (64, 64, 3)}


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def measure(size, policy, xla, batch_size, steps, repeats, filters, latent_dim):
    """Returns (median img/s, min img/s, max img/s) for one configuration."""
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        shape = IMAGES[size]
        gan = keras_gan.GAN(
            networks.dcgan_generator(latent_dim, shape, filters=filters),
            networks.dcgan_discriminator(shape, filters=filters),
            seed=0,
        )
        gan.compile(
            keras.optimizers.Adam(2e-4, beta_1=0.5),
            keras.optimizers.Adam(2e-4, beta_1=0.5),
            loss="non_saturating",
            jit_compile=xla,
        )
        batch = np.random.default_rng(0).uniform(-1, 1, (batch_size,) + shape).astype("float32")
        data = tf.data.Dataset.from_tensors(batch).repeat()
        timer = _EpochTimer()
        gan.fit(data, epochs=1 + repeats, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    speeds = [batch_size * steps / s for s in timer.seconds[1:]]
    return statistics.median(speeds), min(speeds), max(speeds)


def device_name():
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{len(gpus)} x GPU ({details.get('device_name', 'unknown')}); timing uses the first"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=sorted(IMAGES), choices=sorted(IMAGES))
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=POLICIES)
    parser.add_argument("--xla", nargs="+", default=["off", "on"], choices=("off", "on"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--filters", type=int, default=64, help="DCGAN width")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--smoke", action="store_true",
                        help="CI check of every policy and XLA setting: 28x28 only, tiny nets "
                             "(filters 4, batch 8, 2 steps, 1 repeat)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_size, args.steps, args.repeats, args.filters, args.latent_dim = 8, 2, 1, 4, 8
        args.sizes = [28]

    print(f"DCGAN training speed on {device_name()}; TF {tf.__version__}, Keras {keras.__version__}")
    print(f"batch {args.batch_size}, filters {args.filters}, latent_dim {args.latent_dim}, "
          f"median of {args.repeats} x {args.steps} steps after a warm-up epoch")
    print()
    print("| image | policy | XLA | spread img/s | img/s |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        for policy in args.policies:
            for xla in [setting == "on" for setting in args.xla]:
                median, low, high = measure(size, policy, xla, args.batch_size, args.steps,
                                            args.repeats, args.filters, args.latent_dim)
                shape = "x".join(str(d) for d in IMAGES[size])
                print(f"| {shape} | {policy} | {'on' if xla else 'off'} | "
                      f"{low:.0f}-{high:.0f} | {median:.1f} |", flush=True)


if __name__ == "__main__":
    main()
