"""StyleGAN2 against DCGAN, and ADA against no augmentation, at an equal CPU budget.

Data: scikit-learn's 8x8 digits upscaled (bilinear) to 32x32, the
image-to-image demo's inputs (`keras_gan.data.digits_translation_samples`).
Score: the Frechet distance between 2000 generated samples and the real
images, on the features of a digits classifier trained on the same 32x32
images (InceptionV3's weights cannot be downloaded offline), divided by the
real-vs-real floor (two disjoint halves of the data): 1.0 is as close as
real data gets.

Two comparisons, each run trained until its process CPU time reaches the
budget (`--budget` seconds, counting the networks' build and the step's
tracing; generation and scoring not counted):

- `full`: DCGAN (`dcgan_generator`/`dcgan_discriminator`, 32 filters) and
  StyleGAN2 (32 channels per block, 8 mapping layers, lazy R1 gamma 0.01
  every 16 D updates, Adam beta_1=0, beta_2=0.99), all 1797 images.
- `subset500`: StyleGAN2 with ADA (`keras_gan.augment.Adaptive`, target 0.6,
  `--ada-kimg` thousand images from p=0 to 1: the paper's 500 is meant for
  runs thousands of times longer) against StyleGAN2 without augmentation,
  on 500 images.

Both G keep an EMA copy (decay 0.999), which is what is scored.

Usage:
    python benchmarks/stylegan2.py                       # 3 seeds, 600 CPU-seconds a run
    python benchmarks/stylegan2.py --seeds 1 --budget 120 --only full
    python benchmarks/stylegan2.py --smoke --json out.json   # CI: tiny networks, seconds a run
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import data, evaluation, networks  # noqa: E402

RUNS = {
    "full": ("dcgan", "stylegan2"),
    "subset500": ("stylegan2+ada", "stylegan2"),
}


def digits_32():
    images = data.digits_translation_samples("edges", image_size=32)[0]
    return images, data.load_digits()[1]


def _networks(kind, latent_dim, smoke):
    if kind == "dcgan":
        filters = 8 if smoke else 32
        return (networks.dcgan_generator(latent_dim, (32, 32, 1), filters=filters),
                networks.dcgan_discriminator((32, 32, 1), filters=filters))
    widths = dict(channel_base=256, channel_max=8) if smoke else dict(channel_base=1024, channel_max=32)
    g = networks.stylegan2_generator(32, 1, latent_dim=latent_dim, w_dim=latent_dim,
                                     mapping_layers=2 if smoke else 8, **widths)
    return g, networks.stylegan2_discriminator(32, 1, **widths)


def train(kind, images, seed, budget, batch_size, ada_kimg, smoke):
    """Trains `kind` on `images` until the process CPU time spent training reaches `budget` s."""
    keras.utils.set_random_seed(seed)
    latent_dim = 16 if smoke else 64
    g, d = _networks(kind.split("+")[0], latent_dim, smoke)
    augment = keras_gan.augment.Adaptive(speed_kimg=ada_kimg, seed=seed) if kind.endswith("+ada") else None
    gan = keras_gan.GAN(g, d, seed=seed, ema_decay=0.999, augment=augment)
    if kind.startswith("stylegan2"):
        def adam():
            return keras.optimizers.Adam(0.0025, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
        gan.compile(adam(), adam(), penalties=[keras_gan.penalties.R1(weight=0.01, interval=16)])
    else:
        gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))
    ds = (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed).repeat()
          .batch(batch_size, drop_remainder=True))
    start, steps, chunk, ps = time.process_time(), 0, 2 if smoke else 20, []
    while time.process_time() - start < budget:
        gan.fit(ds, steps_per_epoch=chunk, epochs=1, verbose=0)
        steps += chunk
        if augment is not None:  # p after every chunk: whether ADA ever turned on, not only where p ended
            ps.append(float(gan.augment.p))
    p, p_max = (ps[-1], max(ps)) if ps else (None, None)
    return gan, {"steps": steps, "cpu_seconds": time.process_time() - start, "augment_p": p, "augment_p_max": p_max}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=600.0, help="CPU seconds of training per run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--ada-kimg", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", choices=sorted(RUNS), default=sorted(RUNS))
    parser.add_argument("--smoke", action="store_true", help="tiny networks, 1 seed, a few seconds a run")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.budget, args.batch_size = 1, 3.0, 16
    images, labels = digits_32()
    start = time.process_time()
    classifier = evaluation.train_classifier(images, labels, epochs=2 if args.smoke else 30, seed=0)
    half = np.random.default_rng(0).permutation(len(images))
    half_a, half_b = images[half[: len(images) // 2]], images[half[len(images) // 2:]]
    real_features = classifier.features(images)
    floor = evaluation.frechet_distance(classifier.features(half_a), classifier.features(half_b))
    print(f"classifier and floor: {time.process_time() - start:.0f} CPU s; real-vs-real Frechet floor {floor:.4g}")
    results = []
    for seed in range(args.seeds):
        subset = images[np.random.default_rng(seed).permutation(len(images))[:500]]
        for comparison in args.only:
            for kind in RUNS[comparison]:
                train_images = images if comparison == "full" else subset
                gan, info = train(kind, train_images, seed, args.budget, args.batch_size, args.ada_kimg, args.smoke)
                fake = gan.generate(256 if args.smoke else 2000, seed=seed)
                fd = evaluation.frechet_distance(classifier.features(fake), real_features)
                results.append({"comparison": comparison, "network": kind, "seed": seed,
                                "frechet_distance": fd, "fd_over_floor": fd / floor, **info})
                print(json.dumps(results[-1]), flush=True)
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump({"floor": floor, "results": results, "smoke": args.smoke}, f, indent=1)
    print_table(results, floor, args)
    return 0


def print_table(results, floor, args):
    print(f"\nFrechet distance / real-vs-real floor ({floor:.4g}); digits 32x32; "
          f"{args.budget:g} CPU s of training per run; batch {args.batch_size}; mean +- std over seeds")
    print(f"{'comparison':<11} {'network':<15} {'FD/floor':>16} {'steps':>8} {'CPU s':>7} {'p end/max':>11}")
    for comparison in args.only:
        for kind in RUNS[comparison]:
            rows = [r for r in results if r["comparison"] == comparison and r["network"] == kind]
            if not rows:
                continue
            ratio = np.array([r["fd_over_floor"] for r in rows])
            steps = np.mean([r["steps"] for r in rows])
            cpu = np.mean([r["cpu_seconds"] for r in rows])
            p = ""
            if rows[0]["augment_p"] is not None:  # mean over seeds of the final p / the largest p of any seed
                p = f"{np.mean([r['augment_p'] for r in rows]):.3f}/{max(r['augment_p_max'] for r in rows):.3f}"
            print(f"{comparison:<11} {kind:<15} {ratio.mean():>9.2f} +- {ratio.std():<4.2f} {steps:>8.0f} "
                  f"{cpu:>7.0f} {p:>11}")


if __name__ == "__main__":
    raise SystemExit(main())
