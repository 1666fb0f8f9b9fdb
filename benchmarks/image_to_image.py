"""pix2pix against an L1-only generator: is the adversarial term sharper?

The user's argument: an L1 (or L2) loss alone gives blurry, averaged outputs
where the target is uncertain (colourising a black-and-white image), and a
learned adversarial loss does not. This script measures it on the offline
demo tasks (`keras_gan.data.digits_translation_samples`, 32x32):

- `colorize`: a grey digit to the same digit in one of six saturated
  colours, picked at random per image: the colour cannot be read from the
  input, so the L1-optimal output is a per-channel median, a washed-out
  colour.
- `edges`: a digit to its Sobel edge map (nearly deterministic: a control).

For each task and seed, two generators of the same architecture
(`keras_gan.networks.unet_generator`) are trained for the same number of
steps on the same batches with the same optimizer:

- `pix2pix`: `keras_gan.Pix2Pix` (conditional PatchGAN, `l1_weight=100`);
- `l1_only`: the same G trained on `mean|target - G(input)|` alone.

On held-out images it reports, output against target (1.00 = as the
targets): the sharpness, as the mean gradient magnitude (Sobel, norm over
channels and directions), and for colour outputs the colourfulness (mean
over pixels of max - min over the channels: 0 for grey, the "averaged
colour"), with the L1 error beside them (what the L1-only model minimises).
The variance of the Laplacian was tried and dropped: both generators'
small checkerboard artefacts dominate it (ratios of 10-40 against the
smooth upscaled targets), so it ranks noise, not sharpness.

    python benchmarks/image_to_image.py            # the full table (12 trainings; 31 min here
                                                   # on 2 cores shared with other jobs)
    python benchmarks/image_to_image.py --smoke    # CI: 2 steps of tiny networks, the table is made

With `--cyclegan` it measures `keras_gan.CycleGAN` instead, on digit -> edge
map with unpaired training (A = digits of one half of the training digits,
B = edge maps of the other half): the held-out digits are translated and
scored against their true edge maps, which training never pairs with them,
per normalisation (`--norms`), beside the untrained model and two reference
rows (the input itself; the per-pixel median edge map, which ignores the
input). Columns: L1 error, mean per-image Pearson correlation with the true
edge map (0 for a blank image), gradient magnitude ratio.

    python benchmarks/image_to_image.py --cyclegan --seeds 1 --steps 600 --depth 4
    python benchmarks/image_to_image.py --cyclegan --smoke
"""

import argparse
import json
import os
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
from keras_gan import data, networks  # noqa: E402

TEST_IMAGES = 297  # the last digits, never trained on


def _to_unit(images):
    return (np.asarray(images, "float32") + 1.0) / 2.0


def gradient_magnitude(images):
    """Mean over pixels of the Sobel gradient's norm over channels and directions ([0, 1] images)."""
    sobel = tf.image.sobel_edges(tf.constant(_to_unit(images)))
    return float(tf.reduce_mean(tf.sqrt(tf.reduce_sum(tf.square(sobel), axis=[-2, -1]))))


def colourfulness(images):
    """Mean over pixels of max - min over the channels ([0, 1] images): 0 for grey; None for 1 channel."""
    x = _to_unit(images)
    if x.shape[-1] == 1:
        return None
    return float(np.mean(x.max(axis=-1) - x.min(axis=-1)))


def _networks(task_shapes, filters, depth):
    (in_shape, out_shape) = task_shapes
    g = networks.unet_generator(in_shape, out_shape[-1], filters=filters, depth=depth)
    d = networks.pix2pix_discriminator(in_shape, out_shape, filters=filters, n_layers=3)
    return g, d


def _optimizer():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def train(kind, x, y, steps, batch_size, filters, depth, seed):
    """Trains one generator; returns it and the seconds of `fit` (tracing included)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    g, d = _networks((x.shape[1:], y.shape[1:]), filters, depth)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True).take(steps)
    if kind == "pix2pix":
        model = keras_gan.Pix2Pix(g, d, l1_weight=100.0, seed=seed)
        model.compile(_optimizer(), _optimizer())
    else:
        model = g
        model.compile(_optimizer(), loss="mean_absolute_error")
    before = {net.name: [w.numpy() for w in net.trainable_weights] for net in (g, d)}
    start = time.perf_counter()
    model.fit(dataset, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    # How far training moved each network's trainable weights (BatchNorm's
    # moving statistics, which change outputs without any update, excluded).
    trained = (g, d) if kind == "pix2pix" else (g,)
    moved = {f"{label}_weight_change": float(np.sqrt(sum(np.sum((w.numpy() - b) ** 2) for w, b in
                                                          zip(net.trainable_weights, before[net.name]))))
             for label, net in zip(("g", "d"), trained)}
    return g, seconds, moved


def evaluate(g, x, y):
    out = keras.ops.convert_to_numpy(g.predict(x, batch_size=128, verbose=0))
    return {
        "l1": float(np.mean(np.abs(out - y))),
        "grad_ratio": gradient_magnitude(out) / gradient_magnitude(y),
        "colour_ratio": None if y.shape[-1] == 1 else colourfulness(out) / colourfulness(y),
    }


def run(tasks, seeds, steps, batch_size, filters, depth):
    results = []
    for task in tasks:
        x, y = data.digits_translation_samples(task, 32)
        x_train, y_train, x_test, y_test = x[:-TEST_IMAGES], y[:-TEST_IMAGES], x[-TEST_IMAGES:], y[-TEST_IMAGES:]
        for seed in seeds:
            # Interleaved per seed: both models see the same machine load.
            for kind in ("pix2pix", "l1_only"):
                g, seconds, moved = train(kind, x_train, y_train, steps, batch_size, filters, depth, seed)
                row = {"task": task, "model": kind, "seed": seed, "seconds": seconds, **moved,
                       **evaluate(g, x_test, y_test)}
                results.append(row)
                print(f"  {task} {kind} seed {seed}: {row}", flush=True)
    return results


def summarise(results):
    """Median over seeds per (task, model)."""
    table = {}
    for row in results:
        table.setdefault((row["task"], row["model"]), []).append(row)
    summary = []
    for (task, model), rows in table.items():
        med = {k: None if rows[0].get(k) is None else statistics.median(r[k] for r in rows)
               for k in ("l1", "correlation", "grad_ratio", "colour_ratio", "seconds")}
        summary.append({"task": task, "model": model, "seeds": len(rows), **med})
    return summary


def print_table(summary, steps, batch_size):
    print(f"\nOutput vs target on {TEST_IMAGES} held-out digits, {steps} steps of batch {batch_size}, "
          "median over seeds (ratio 1.00 = as sharp as the targets)\n")
    print("| task | model | seeds | L1 error | gradient magnitude ratio | colourfulness ratio | train s |")
    print("|---|---|---|---|---|---|---|")
    for r in summary:
        colour = "-" if r["colour_ratio"] is None else f"{r['colour_ratio']:.3f}"
        print(f"| {r['task']} | {r['model']} | {r['seeds']} | {r['l1']:.4f} | {r['grad_ratio']:.3f} "
              f"| {colour} | {r['seconds']:.0f} |")


# ------------------------------------------------------------------ CycleGAN
def cyclegan_networks(shape_a, shape_b, filters, depth, norm):
    """CycleGAN's four networks: two U-Nets and two PatchGANs with `norm`."""
    g = [networks.unet_generator(a, b[-1], filters=filters, depth=depth, norm=norm, name=f"g_{n}")
         for a, b, n in ((shape_a, shape_b, "ab"), (shape_b, shape_a, "ba"))]
    d = [networks.patchgan_discriminator(s, filters=filters, n_layers=min(3, depth), norm=norm, name=f"d_{n}")
         for s, n in ((shape_a, "a"), (shape_b, "b"))]
    return g + d


def train_cyclegan(norm, x, y, steps, batch_size, filters, depth, seed, identity_weight=None):
    """Trains a CycleGAN on unpaired halves of (x, y); returns it and the seconds of `fit`."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(order) // 2
    domain_a = tf.data.Dataset.from_tensor_slices(x[order[:half]]).shuffle(half, seed=seed).repeat()
    domain_b = tf.data.Dataset.from_tensor_slices(y[order[half: 2 * half]]).shuffle(half, seed=seed + 1).repeat()
    dataset = tf.data.Dataset.zip((domain_a.batch(batch_size, drop_remainder=True),
                                   domain_b.batch(batch_size, drop_remainder=True))).take(steps)
    model = keras_gan.CycleGAN(*cyclegan_networks(x.shape[1:], y.shape[1:], filters, depth, norm),
                               identity_weight=identity_weight, seed=seed)
    model.compile(_optimizer(), _optimizer())
    start = time.perf_counter()
    if steps:
        model.fit(dataset, epochs=1, verbose=0)
    return model, time.perf_counter() - start


def correlation(out, y):
    """Mean over images of the Pearson correlation of each output with its true target (0 for a blank output)."""
    o = out.reshape(len(out), -1) - out.reshape(len(out), -1).mean(1, keepdims=True)
    t = y.reshape(len(y), -1) - y.reshape(len(y), -1).mean(1, keepdims=True)
    denominator = np.sqrt((o * o).sum(1) * (t * t).sum(1))
    return float(np.mean(np.where(denominator > 0, (o * t).sum(1) / np.maximum(denominator, 1e-12), 0.0)))


def evaluate_translation(out, y):
    """L1 error, correlation and gradient-magnitude ratio of translated images `out` against true targets `y`."""
    return {"l1": float(np.mean(np.abs(out - y))), "correlation": correlation(out, y),
            "grad_ratio": gradient_magnitude(out) / gradient_magnitude(y)}


def run_cyclegan(norms, seeds, steps, batch_size, filters, depth):
    """CycleGAN per norm and seed on `edges`, scored against the held-out digits' true edge maps."""
    x, y = data.digits_translation_samples("edges", 32)
    x_train, y_train, x_test, y_test = x[:-TEST_IMAGES], y[:-TEST_IMAGES], x[-TEST_IMAGES:], y[-TEST_IMAGES:]
    # Reference rows: the input itself, and the one image closest in L1 to every edge map
    # (the per-pixel median of the training edge maps, which ignores the input).
    results = [{"task": "edges", "model": "identity map (the input)", "seed": 0, "seconds": 0.0,
                **evaluate_translation(x_test, y_test)},
               {"task": "edges", "model": "median edge map (ignores the input)", "seed": 0, "seconds": 0.0,
                **evaluate_translation(np.broadcast_to(np.median(y_train, axis=0), y_test.shape), y_test)}]
    for seed in seeds:
        for norm in norms:  # interleaved per seed: the norms see the same machine load
            for kind, n in (("untrained", 0), ("cyclegan", steps)):
                model, seconds = train_cyclegan(norm, x_train, y_train, n, batch_size, filters, depth, seed)
                row = {"task": "edges", "model": f"{kind} {norm} norm", "seed": seed, "seconds": seconds,
                       **evaluate_translation(model.translate(x_test, batch_size=128), y_test)}
                results.append(row)
                print(f"  {row}", flush=True)
    return results


def print_cyclegan_table(summary, steps, batch_size):
    print(f"\nCycleGAN digit -> edge map (unpaired training; scored against the true edge maps of "
          f"{TEST_IMAGES} held-out digits), {steps} steps of batch {batch_size}, median over seeds\n")
    print("| model | seeds | L1 to true edge map | correlation with it | gradient magnitude ratio | train s |")
    print("|---|---|---|---|---|---|")
    for r in summary:
        print(f"| {r['model']} | {r['seeds']} | {r['l1']:.4f} | {r['correlation']:.3f} | {r['grad_ratio']:.3f} "
              f"| {r['seconds']:.0f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="colorize,edges", help="comma-separated: colorize, edges")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per task (default: 3)")
    parser.add_argument("--steps", type=int, default=1000, help="training steps (default: 1000)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--filters", type=int, default=16, help="width of G's and D's first layer")
    parser.add_argument("--depth", type=int, default=3, help="U-Net levels")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: colorize only (with --cyclegan: instance norm only), tiny networks, 2 steps, one seed")
    parser.add_argument("--cyclegan", action="store_true",
                        help="the CycleGAN table instead (digit -> edges, unpaired, per --norms)")
    parser.add_argument("--norms", default="instance,batch", help="CycleGAN: comma-separated: instance, batch, none")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.tasks, args.seeds, args.steps, args.filters, args.depth = "colorize", 1, 2, 8, 2
    if args.cyclegan:
        norms = ["instance"] if args.smoke else [n for n in args.norms.split(",") if n]
        results = run_cyclegan(norms, range(args.seeds), args.steps, args.batch_size, args.filters, args.depth)
        summary = summarise(results)
        print_cyclegan_table(summary, args.steps, args.batch_size)
    else:
        tasks = [t for t in args.tasks.split(",") if t]
        results = run(tasks, range(args.seeds), args.steps, args.batch_size, args.filters, args.depth)
        summary = summarise(results)
        print_table(summary, args.steps, args.batch_size)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results, "summary": summary}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
