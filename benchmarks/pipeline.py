"""Input pipeline cost: `keras_gan.data.pipeline` next to tf.data's per-sample recipe and no pipeline.

Each row feeds shuffled batches of the same in-memory samples, reshuffled
every epoch, to a `tf.function` that takes `--batches` batches from the
iterator (`get_next` inside the graph, as `fit`'s train function does) and
does nothing else with them, so the table is the pipeline's own cost per
batch: the time and CPU it takes from the cores a training step needs.
Rows:

- `in-memory batch`: one fixed batch, `from_tensors(batch).repeat()`: no
  input work at all, the floor every row is compared with;
- `keras_gan.data.pipeline`: one permutation per epoch, one gather per chunk
  of batches, a batch a slice of its chunk;
- `per-sample tf.data`: `from_tensor_slices().cache().shuffle(n).batch().prefetch()`,
  the usual recipe,
  whose work grows with every sample.

"over floor" is a row's CPU per batch minus the in-memory batch's: what the
pipeline adds to every training step. Median of `--repeats` interleaved runs
(A B C A B C ...) after a warm-up epoch.

    python benchmarks/pipeline.py                    # 100,000 2-D samples, batch 64 and 256
    python benchmarks/pipeline.py --samples 60000 --shape 28 28 1
    python benchmarks/pipeline.py --smoke            # CI: a few batches
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_gan  # noqa: E402


def per_sample(x, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices(x).cache().shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def in_memory_batch(x, batch_size, seed):
    return tf.data.Dataset.from_tensors(x[:batch_size]).repeat()


FLOOR = "in-memory batch"
PIPELINES = {
    FLOOR: in_memory_batch,
    "keras_gan.data.pipeline": lambda x, b, seed: keras_gan.data.pipeline(x, b, seed=seed, drop_remainder=True),
    "per-sample tf.data": per_sample,
}


def measure(x, batch_size, batches, repeats):
    """{name: (median us per batch wall, median us per batch CPU)} over interleaved runs."""

    @tf.function
    def take(iterator):
        # A batch's first value is used, so that no stage can be pruned away.
        total = tf.constant(0.0)
        for _ in tf.range(batches):
            total += tf.reshape(next(iterator), [-1])[0]
        return total

    iterators = {}
    for name, make in PIPELINES.items():
        iterators[name] = iter(make(x, batch_size, 0).repeat())
        for _ in range(len(x) // batch_size):  # warm-up: one epoch (fills a cache)
            next(iterators[name])
        take(iterators[name])  # traces
    runs = {name: [] for name in PIPELINES}
    for _ in range(repeats):
        for name, it in iterators.items():
            wall, cpu = time.perf_counter(), time.process_time()
            take(it)
            runs[name].append(((time.perf_counter() - wall) / batches, (time.process_time() - cpu) / batches))
    return {name: (statistics.median(r[0] for r in rs) * 1e6, statistics.median(r[1] for r in rs) * 1e6)
            for name, rs in runs.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100000)
    parser.add_argument("--shape", type=int, nargs="+", default=[2], help="shape of one sample")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--batches", type=int, default=1000, help="batches per timed run")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="CI: 2,000 samples, a few batches")
    args = parser.parse_args(argv)
    if args.smoke:
        args.samples, args.batches, args.repeats = 2000, 20, 1
    x = np.random.default_rng(0).normal(size=[args.samples] + args.shape).astype("float32")
    print(f"{args.samples} samples of shape {tuple(args.shape)}; median of {args.repeats} interleaved runs "
          f"of {args.batches} batches, after a warm-up epoch\n")
    print("| pipeline | batch | us per batch (wall) | us per batch (CPU) | CPU over floor (us) |")
    print("|---|---|---|---|---|")
    for batch_size in args.batch_sizes:
        results = measure(x, batch_size, args.batches, args.repeats)
        floor = results[FLOOR][1]
        for name, (wall, cpu) in results.items():
            print(f"| {name} | {batch_size} | {wall:.0f} | {cpu:.0f} | {cpu - floor:+.0f} |")


if __name__ == "__main__":
    main()
