"""Cost of the reliability callbacks: steps/s of the default digits GAN with and without them.

Configurations, run interleaved (A, B, C, A, B, C, ...) one epoch at a time on
the same model after a warm-up epoch, reporting medians of wall and process
CPU time per step:

- plain: `gan.fit` alone;
- guard: + `TerminateOnNonFinite` (reads the logs after every step);
- resume: + `ResumableTraining(save_every=N)` (the resume state every N steps
  and at the epoch end, each an fsync'ed atomic write).

    python benchmarks/reliability.py            # MLP GAN on digits, 7 rounds
    python benchmarks/reliability.py --smoke    # a tiny run for CI
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import callbacks, data, networks, resume  # noqa: E402


def _gan(smoke):
    if smoke:
        g, d = networks.toy_generator(8, 64, units=(16,)), networks.toy_discriminator(64, units=(16,))
    else:
        g, d = networks.mlp_generator(64, (8, 8, 1)), networks.mlp_discriminator((8, 8, 1))
    gan = keras_gan.GAN(g, d, seed=0, ema_decay=0.995)
    gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))
    return gan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--save-every", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="tiny networks, 1 round (CI)")
    args = parser.parse_args(argv)
    rounds = 1 if args.smoke else args.rounds
    images, _ = data.load_digits()
    x = images.reshape(len(images), -1) if args.smoke else images
    epochs = resume.SeededEpochs(x, batch_size=64, seed=0)
    gan = _gan(args.smoke)
    workdir = tempfile.mkdtemp(prefix="keras-gan-reliability-")
    configs = {
        "plain": lambda i: [],
        "guard": lambda i: [callbacks.TerminateOnNonFinite()],
        "resume": lambda i: [callbacks.TerminateOnNonFinite(),
                             resume.ResumableTraining(os.path.join(workdir, str(i)), save_every=args.save_every)],
    }
    steps = epochs.steps_per_epoch

    def epoch(cbs):
        wall, cpu = time.perf_counter(), time.process_time()
        gan.fit(epochs.dataset(0, 1), steps_per_epoch=steps, epochs=1, verbose=0, callbacks=cbs)
        return (time.perf_counter() - wall) / steps * 1e3, (time.process_time() - cpu) / steps * 1e3

    epoch([])  # trace the train step once
    results = {name: [] for name in configs}
    for i in range(rounds):
        for name, make in configs.items():
            results[name].append(epoch(make(i)))
    print(f"{'callbacks':<10} {'ms/step wall':>13} {'ms/step CPU':>12} {'vs plain':>9}   "
          f"({steps} steps per epoch, {rounds} rounds, medians; resume saves every {args.save_every})")
    base = statistics.median(w for w, _ in results["plain"])
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:<10} {wall:>13.2f} {cpu:>12.2f} {wall / base:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
