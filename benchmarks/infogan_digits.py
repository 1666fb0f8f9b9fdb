"""Unsupervised InfoGAN on digits: do the categorical codes find the digit classes?

Trains `keras-gan train --network dcgan --categories 10` (the CLI's digits
defaults, as a user would run it) once per seed, then generates
`--per-code` samples of every code (`keras_gan.codes.with_code`), reads them
with the digits classifier (`keras_gan.evaluation.train_classifier`) and
prints `keras_gan.evaluation.code_alignment`: the purity (samples of their
code's most frequent digit), the normalized mutual information of code and
digit (NMI: over the larger of the two entropies, about log 10), and how many
digits are the most frequent of some code.

    python benchmarks/infogan_digits.py                 # 1 seed, 300 epochs (the CLI default)
    python benchmarks/infogan_digits.py --seeds 3 --epochs 150
    python benchmarks/infogan_digits.py --smoke         # CI: a short run, against a floor
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import cli, codes, data, evaluation  # noqa: E402

CATEGORIES = 10
SMOKE_EPOCHS = 25
# --smoke must reach this normalized mutual information: an untrained G scores 0.002 (seeds 0, 1),
# the smoke run (seed 0) 0.23, the default 300 epochs 0.75.
SMOKE_FLOOR = 0.1


def score(gan, classifier, per_code, seed):
    """`evaluation.code_alignment` of `per_code` samples of every code of `gan`."""
    n = per_code * gan.code_categories
    z = np.random.default_rng(seed).normal(size=(n, gan.latent_dim))
    code = np.arange(n) % gan.code_categories
    predicted = classifier.predict_classes(gan.generate_from_noise(codes.with_code(z, code, gan.code_categories)))
    return evaluation.code_alignment(code, predicted, gan.code_categories, 10)


def run(seed, epochs, per_code, classifier, out_dir):
    """Trains one InfoGAN through the CLI; returns its scores and CPU seconds."""
    flags = ["train", "--out", out_dir, "--verbose", "0", "--network", "dcgan",
             "--categories", str(CATEGORIES), "--seed", str(seed)]
    if epochs:
        flags += ["--epochs", str(epochs)]
    start = time.process_time()
    if cli.main(flags) != 0:
        raise SystemExit(f"keras-gan {' '.join(flags)} failed")
    cpu = time.process_time() - start
    return score(keras_gan.load_gan(os.path.join(out_dir, "model.keras")), classifier, per_code, seed), cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="default: the CLI's (300 for digits)")
    parser.add_argument("--per-code", type=int, default=1000, help="samples generated per code")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_EPOCHS} epochs, one seed; "
                                                             f"exit 1 below NMI {SMOKE_FLOOR}")
    parser.add_argument("--json", help="write the per-seed results here")
    args = parser.parse_args(argv)
    epochs = SMOKE_EPOCHS if args.smoke else args.epochs
    seeds = range(args.first_seed, args.first_seed + (1 if args.smoke else args.seeds))
    images, labels = data.load_digits()
    classifier = evaluation.train_classifier(images, labels, seed=0)
    print(f"digits classifier: held-out accuracy {classifier.held_out_accuracy:.4f}")
    print("\n| seed | purity | NMI | digits owning a code | most frequent digit per code | "
          "CPU s |")
    print("|---|---|---|---|---|---|")
    rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as out_dir:
            scores, cpu = run(seed, epochs, 200 if args.smoke else args.per_code, classifier, out_dir)
        rows.append({"seed": seed, "cpu_seconds": cpu, **{k: v for k, v in scores.items() if k != "table"},
                     "table": scores["table"].tolist()})
        print(f"| {seed} | {scores['purity']:.3f} | {scores['nmi']:.3f} | {scores['classes_owning_a_code']} | "
              f"{scores['table'].argmax(axis=1).tolist()} | {cpu:.0f} |", flush=True)
    if len(rows) > 1:
        print("| mean ± std | " + " | ".join(
            f"{np.mean([r[k] for r in rows]):.3f} ± {np.std([r[k] for r in rows]):.3f}"
            for k in ("purity", "nmi", "classes_owning_a_code")) + " | | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"epochs": epochs, "runs": rows}, f, indent=1)
    if args.smoke and rows[0]["nmi"] < SMOKE_FLOOR:
        print(f"\nbelow the smoke floor: NMI {rows[0]['nmi']:.3f} < {SMOKE_FLOOR}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
