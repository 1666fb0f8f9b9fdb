"""Sample quality of keras-gan's default recipes next to the published numbers.

Trains and scores, over several seeds, with `keras_gan.evaluation`:

- ring:  8 Gaussians on the unit circle (std 0.01), VEEGAN/PacGAN protocol.
- grid:  25 Gaussians at {-4..4}^2 (std 0.05), same protocol.
- gaussian_1d: N(4, 1.25^2): mean, std, KS, W1.
- digits: scikit-learn's 8x8 digits: Frechet distance (and KID) on the
  features of a digits classifier (InceptionV3's weights cannot be downloaded
  offline), next to the real-vs-real floor (two disjoint halves of the data);
  class coverage through the same classifier.
- stacked_digits: three digits as channels, 1000 modes, 26,000 samples read by
  the digits classifier (held-out accuracy printed; >= 0.97 required).

Published, same protocol: PacGAN (Lin et al. 2018), Tables 1 and 2.

Usage:
    python benchmarks/quality.py                      # every benchmark, 3 seeds
    python benchmarks/quality.py --seeds 10 --only grid ring
    python benchmarks/quality.py --smoke --json out.json   # CI: 1 short run each
    python benchmarks/quality.py --only grid --set steps=4000 --set pack=2
    python benchmarks/quality.py --report a.json b.json   # merge runs, print the table

Seeds are the outer loop, so a run stopped early has the same number of
seeds for every benchmark, and `--json` is rewritten after every run.

Each run's wall time and process CPU time (build, train, evaluate) are
printed (CPU time is the fairer figure on a shared machine); the digits
classifier is trained once per process (its time is printed apart).
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
from keras_gan import data, evaluation, networks, rejection  # noqa: E402

# PacGAN (Lin et al. 2018), Tables 1 and 2, as quoted in issue 5 (means only:
# the issue gives no spreads, so none is printed).
PUBLISHED = {
    "ring": {
        "GAN": {"modes": 6.3, "high_quality": 0.982, "kl": 0.45},
        "PacGAN2": {"modes": 7.9, "high_quality": 0.956, "kl": 0.07},
    },
    "grid": {
        "GAN": {"modes": 17.3, "high_quality": 0.948, "kl": 0.70},
        "PacGAN4": {"modes": 24.8, "high_quality": 0.936, "kl": 0.04},
    },
    "stacked_digits": {
        "DCGAN (stacked MNIST)": {"modes": 99.0, "kl": 3.4},
        "PacDCGAN2 (stacked MNIST)": {"modes": 1000.0, "kl": 0.06},
    },
}

# The targets for the default recipe: metric -> (comparison, value).
TARGETS = {
    "ring": {"modes": (">=", 8), "high_quality": (">=", 0.99), "kl": ("<=", 0.02)},
    "grid": {"modes": (">=", 25), "high_quality": (">=", 0.97), "kl": ("<=", 0.02)},
    "stacked_digits": {"modes": (">=", 1000), "kl": ("<=", 0.05)},
    "digits": {"fd_over_floor": ("<=", 1.5)},
}

# The default recipes. Every key can be overridden with --set key=value.
RECIPES = {
    # Ring: G's clusters come out tighter than the data's; the high-quality samples
    # it misses lie on "bridges" between modes. R1 on D keeps every mode, PacGAN
    # packing of 2 thins the bridges, and an InfoGAN code of 8 categories (one per
    # mode, at a small weight so it does not split modes) removes most of them.
    "ring": dict(
        latent_dim=16, g_units=(128, 128, 128), d_units=(128, 128, 128), pack=2,
        loss="non_saturating", lr=2e-3, end_lr_fraction=0.01, beta_1=0.5, batch_size=256,
        steps=24000, ema_decay=0.999, r1=0.1, categories=8, info_weight=0.3,
    ),
    # Grid: R1 keeps all 25 modes; packing and an EMA of G cost high-quality
    # samples here. The long run and the batch of 512 show D the rare bridge
    # samples often enough to thin them; longer runs gain little.
    "grid": dict(
        latent_dim=16, g_units=(128, 128, 128), d_units=(128, 128, 128), pack=1,
        loss="non_saturating", lr=2e-3, end_lr_fraction=0.01, beta_1=0.5, batch_size=512,
        steps=24000, ema_decay=0.0, r1=0.1,
    ),
    # 1D Gaussian: minibatch deviation features let D see a wrong spread.
    "gaussian_1d": dict(
        latent_dim=4, g_units=(32, 32), d_units=(32, 32), pack=1, minibatch_features="deviation",
        loss="non_saturating", lr=2e-3, end_lr_fraction=0.01, beta_1=0.5, batch_size=256,
        steps=2000, ema_decay=0.99, r1=0.0,
    ),
    # Digits: spectral normalization keeps D from overfitting the 1,797 images,
    # which is what lets a long run keep improving; translation augmentation
    # does the same for D's view of the data; an EMA of G smooths the samples.
    "digits": dict(
        latent_dim=32, filters=64, pack=1, augment="translation", spectral_norm=True,
        loss="non_saturating", lr=1e-3, end_lr_fraction=0.1, beta_1=0.5, batch_size=128,
        steps=12000, ema_decay=0.995, r1=0.0,
    ),
    # Stacked digits: packing of 2 and minibatch standard deviation in D push G
    # to cover the 1000 modes evenly; an EMA of G (0.999) lowers the KL further.
    # Most of what remains over the sampling noise is per-channel digit imbalance.
    "stacked_digits": dict(
        latent_dim=64, filters=64, pack=2, augment=None,
        loss="non_saturating", lr=1e-3, end_lr_fraction=0.1, beta_1=0.5, batch_size=128,
        steps=9000, ema_decay=0.999, r1=0.0, minibatch_stddev=True,
    ),
}

# --smoke: one short run per benchmark below, which must beat these floors (CI).
# Each floor sits above what uniform noise over the data's bounding box, a Gaussian
# of the data's mean and covariance and the untrained G score (tests/test_quality_smoke.py
# computes all three). High quality and Frechet distance carry the margin: noise
# already hits most ring and grid modes. The digits smoke drops spectral normalization,
# which pays only on long runs. Stacked digits is left out: a Gaussian of the data's
# mean and covariance covers all 1000 modes with a low KL, which no run short enough
# for CI can beat; its full run is the benchmark.
SMOKE_STEPS = {"ring": 1500, "grid": 3000, "gaussian_1d": 300, "digits": 1500}
SMOKE_OVERRIDES = {"digits": {"spectral_norm": False}}
SMOKE_FLOORS = {
    "ring": {"modes": (">=", 8), "high_quality": (">=", 0.1)},
    "grid": {"modes": (">=", 24), "high_quality": (">=", 0.1)},
    "gaussian_1d": {"ks": ("<=", 0.08), "w1": ("<=", 0.25)},
    "digits": {"class_kl": ("<=", 0.03), "fd_over_floor": ("<=", 8.0)},
}

BENCHMARKS = tuple(RECIPES)


# ------------------------------------------------------------------ training
def _optimizer(recipe, updates_per_step=1, lr=None):
    lr = recipe["lr"] if lr is None else lr
    schedule = keras.optimizers.schedules.PolynomialDecay(
        lr, max(recipe["steps"] * updates_per_step, 1), lr * recipe["end_lr_fraction"]
    )
    return keras.optimizers.Adam(schedule, beta_1=recipe["beta_1"])


def _networks(name, recipe):
    """G and D for one benchmark."""
    pack = recipe["pack"]
    if name in ("ring", "grid", "gaussian_1d"):
        dim = 1 if name == "gaussian_1d" else 2
        g = networks.toy_generator(recipe["latent_dim"], dim, units=tuple(recipe["g_units"]),
                                   categories=recipe.get("categories"))
        d_kwargs = dict(units=tuple(recipe["d_units"]), spectral_norm=recipe.get("spectral_norm", False))
        if recipe.get("minibatch_features"):
            d_kwargs["minibatch_features"] = recipe["minibatch_features"]
        if pack > 1:
            d = networks.packed_discriminator("toy", (dim,), pack=pack, **d_kwargs)
        else:
            d = networks.toy_discriminator(dim, **d_kwargs)
        q = None
        if recipe.get("categories"):
            # Q (InfoGAN) as wide as D, one hidden layer fewer.
            q = networks.toy_code_classifier(dim, recipe["categories"], units=tuple(recipe["d_units"][:2]))
        return g, d, q
    channels = 3 if name == "stacked_digits" else 1
    shape = (8, 8, channels)
    g = networks.dcgan_generator(recipe["latent_dim"], shape, filters=recipe.get("g_filters", recipe["filters"]))
    d_kwargs = dict(filters=recipe["filters"], minibatch_stddev=recipe.get("minibatch_stddev", False),
                    dropout=recipe.get("dropout", 0.0), spectral_norm=recipe.get("spectral_norm", False))
    if pack > 1:
        d = networks.packed_discriminator("dcgan", shape, pack=pack, **d_kwargs)
    else:
        d = networks.dcgan_discriminator(shape, **d_kwargs)
    return g, d, None


def _training_data(name, seed):
    if name == "ring":
        return data.mixture_samples(data.ring_modes(), 0.01, 100000, seed=seed)
    if name == "grid":
        return data.mixture_samples(data.grid_modes(), 0.05, 100000, seed=seed)
    if name == "gaussian_1d":
        return data.gaussian_1d_samples(100000, seed=seed)
    if name == "digits":
        return data.load_digits()[0]
    return data.stacked_digits_samples(100000, seed=seed)[0]


def train(name, recipe, seed):
    """Builds and trains the GAN of one benchmark; returns it."""
    keras.utils.set_random_seed(seed)
    g, d, q = _networks(name, recipe)
    gan = keras_gan.GAN(
        g, d, seed=seed, pack=recipe["pack"], ema_decay=recipe["ema_decay"] or None,
        augment=recipe.get("augment"), ema_warmup=recipe.get("ema_warmup", True),
        code_classifier=q, info_weight=recipe.get("info_weight", 1.0),
    )
    penalties = [keras_gan.penalties.R1(recipe["r1"])] if recipe["r1"] else None
    gan.compile(
        # `g_lr`: G's own learning rate (two time scales); D keeps `lr`.
        _optimizer(recipe, recipe.get("d_steps", 1)), _optimizer(recipe, lr=recipe.get("g_lr")), loss=recipe["loss"],
        penalties=penalties, d_steps=recipe.get("d_steps", 1),
        feature_matching_weight=recipe.get("feature_matching_weight", 0.0),
        # XLA speeds the MLPs up but makes CPU convolutions ~7x slower (measured).
        jit_compile=name in ("ring", "grid", "gaussian_1d"), steps_per_execution=50,
    )
    x = _training_data(name, seed)
    ds = (
        tf.data.Dataset.from_tensor_slices(x)
        .shuffle(len(x), seed=seed)
        .repeat()
        .batch(recipe["batch_size"], drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    if recipe["steps"]:
        gan.fit(ds, steps_per_epoch=recipe["steps"], epochs=1, verbose=0)
    return gan


# ---------------------------------------------------------------- evaluation
class _Digits:
    """The digits classifier and the real-vs-real Frechet floor, made once."""

    classifier = None

    @classmethod
    def get(cls):
        if cls.classifier is None:
            start = time.time()
            images, labels = data.load_digits()
            cls.classifier = evaluation.train_classifier(images, labels, seed=0)
            cls.images = images
            half = np.random.default_rng(0).permutation(len(images))
            cls.half_a, cls.half_b = images[half[: len(images) // 2]], images[half[len(images) // 2:]]
            cls.features_b = cls.classifier.features(cls.half_b)
            cls.floor = evaluation.frechet_distance(cls.classifier.features(cls.half_a), cls.features_b)
            cls.seconds = time.time() - start
        return cls


def evaluate(name, gan, seed, drs_steps=0):
    """Scores a trained GAN with `keras_gan.evaluation`; returns a flat dict.

    `drs_steps` > 0 adds the ring's, grid's and stacked digits' scores under
    discriminator rejection sampling (`keras_gan.rejection`, D fine-tuned
    that many steps), as `drs_*` entries.
    """
    sample_seed = 10_000 + seed
    if name in ("ring", "grid"):
        modes, std = (data.ring_modes(), 0.01) if name == "ring" else (data.grid_modes(), 0.05)

        def score(samples):
            scores = evaluation.evaluate_mixture(samples, modes, std)
            return {k: scores[k] for k in ("modes", "high_quality", "kl")}

        return _scores_with_drs(name, gan, seed, sample_seed, drs_steps, evaluation.MIXTURE_SAMPLES, score)
    if name == "gaussian_1d":
        return evaluation.evaluate_gaussian_1d(gan.generate(10000, seed=sample_seed))
    digits = _Digits.get()
    if name == "digits":
        # Same sample size as each real half, so the floor is a fair yardstick.
        fake = gan.generate(len(digits.half_a), seed=sample_seed)
        f_fake = digits.classifier.features(fake)
        fd = evaluation.frechet_distance(f_fake, digits.features_b)
        kid, _ = evaluation.kernel_inception_distance(f_fake, digits.features_b)
        cov = evaluation.class_coverage(digits.classifier.predict_classes(fake), 10)
        return {"frechet_distance": fd, "fd_floor": digits.floor, "fd_over_floor": fd / digits.floor,
                "kid": kid, "classes": cov["classes"], "class_kl": cov["kl"]}

    def score(samples):
        scores = evaluation.evaluate_stacked_digits(samples, digits.classifier)
        return {"modes": scores["modes"], "kl": scores["kl"],
                "fd_over_floor": _stacked_frechet(samples, digits) / digits.floor}

    # D fine-tuned at batch 512 (docs/benchmarks.md); the 2048 of the 2-D nets costs 4x per step.
    return _scores_with_drs(name, gan, seed, sample_seed, drs_steps, evaluation.STACKED_SAMPLES, score,
                            batch_size=512)


def _stacked_frechet(images, digits):
    """Frechet distance of the channels of stacked-digits images to the real half, as many images as the half.

    Mode counts read by the classifier do not see blurry digits: a Gaussian of the data's mean and
    covariance covers every mode; its channels sit far from real digits in the classifier's features.
    """
    channels = np.moveaxis(np.asarray(images, "float32"), -1, 1).reshape((-1,) + images.shape[1:3] + (1,))
    return evaluation.frechet_distance(digits.classifier.features(channels[: len(digits.half_a)]), digits.features_b)


def _scores_with_drs(name, gan, seed, sample_seed, drs_steps, n, score, batch_size=2048):
    """`score` of `n` samples of G, plus `drs_`-prefixed scores of `n` rejection-sampled ones.

    The rejection-sampled scores are reported apart: the targets are for plain samples.
    """
    out = score(gan.generate(n, seed=sample_seed))
    if drs_steps:
        cpu_start = time.process_time()
        sampler = rejection.RejectionSampler(gan).fit(
            _training_data(name, seed), steps=drs_steps, batch_size=batch_size, seed=seed)
        out.update({f"drs_{k}": v for k, v in score(sampler.generate(n, seed=sample_seed)).items()})
        out["drs_cpu_seconds"] = time.process_time() - cpu_start
    return out


def real_data_scores(name):
    """The same scores for real samples: the ceiling any generator can reach."""
    if name in ("ring", "grid"):
        modes, std = (data.ring_modes(), 0.01) if name == "ring" else (data.grid_modes(), 0.05)
        scores = evaluation.evaluate_mixture(
            data.mixture_samples(modes, std, evaluation.MIXTURE_SAMPLES, seed=99), modes, std)
        return {k: scores[k] for k in ("modes", "high_quality", "kl")}
    if name == "gaussian_1d":
        return evaluation.evaluate_gaussian_1d(data.gaussian_1d_samples(10000, seed=99))
    digits = _Digits.get()
    if name == "digits":
        return {"frechet_distance": digits.floor, "fd_over_floor": 1.0}
    images, _ = data.stacked_digits_samples(evaluation.STACKED_SAMPLES, seed=99)
    scores = evaluation.evaluate_stacked_digits(images, digits.classifier)
    return {"modes": scores["modes"], "kl": scores["kl"],
            "fd_over_floor": _stacked_frechet(images, digits) / digits.floor}


# -------------------------------------------------------------------- report
def _passes(value, rule):
    op, bound = rule
    return value >= bound if op == ">=" else value <= bound


def _fmt(value):
    return f"{float(value):.4g}"


def _mean_spread(values):
    values = np.asarray(values, "float64")
    return f"{_fmt(values.mean())} ± {_fmt(values.std())}"


def print_table(results, real, seconds, cpu_seconds, rules, title):
    print(f"\n## {title}\n")
    print("| benchmark | metric | ours: mean ± std (seeds) | real data | published | target | met |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        metrics = list(runs[0])
        for metric in metrics:
            values = [r[metric] for r in runs]
            published = "; ".join(
                f"{label} {_fmt(m[metric])}"
                for label, m in PUBLISHED.get(name, {}).items() if metric in m
            ) or "-"
            rule = rules.get(name, {}).get(metric)
            target = f"{rule[0]} {_fmt(rule[1])}" if rule else "-"
            met = "-" if not rule else ("yes" if _passes(np.mean(values), rule) else "NO")
            shown = real.get(name, {}).get(metric)
            print(f"| {name} | {metric} | {_mean_spread(values)} ({len(values)}) | "
                  f"{'-' if shown is None else _fmt(shown)} | {published} | {target} | {met} |")
        secs = seconds[name]
        print(f"| {name} | wall time per run (s) | {_mean_spread(secs)} ({len(secs)}) | - | - | - | - |")
        cpu = cpu_seconds.get(name)
        if cpu:
            print(f"| {name} | CPU time per run (s) | {_mean_spread(cpu)} ({len(cpu)}) | - | - | - | - |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS,
                        help="benchmarks to run (default: all; with --smoke, those with smoke floors)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per benchmark (0..n-1)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="one short run per benchmark; exit 1 below the smoke floors")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe entry (Python literal), for every benchmark run")
    # 3000 as RejectionSampler.fit's default: D's fine-tuning needs that long to
    # bring the KL of the ring's rejection-sampled modes down.
    parser.add_argument("--drs-steps", type=int, default=3000,
                        help="ring, grid, stacked digits: also score rejection-sampled G "
                             "(D fine-tuned this many steps; 0: off)")
    parser.add_argument("--json", help="write the per-run results to this file (after every run)")
    parser.add_argument("--report", nargs="+", metavar="JSON",
                        help="train nothing: print the table of these --json files, merged")
    args = parser.parse_args(argv)
    if args.only is None:
        args.only = list(SMOKE_STEPS) if args.smoke else list(BENCHMARKS)
    elif args.smoke and set(args.only) - set(SMOKE_STEPS):
        parser.error(f"Invalid value for argument `--only`: --smoke runs {', '.join(SMOKE_STEPS)}. "
                     f"Received: --only {' '.join(args.only)}")
    if args.report:
        return _report(merge_reports(args.report))
    if args.seeds < 1:
        parser.error(f"Invalid value for argument `--seeds`: expected a positive integer. "
                     f"Received: --seeds={args.seeds}")
    import ast

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"Invalid value for argument `--set`: expected KEY=VALUE. Received: {item!r}")
        try:
            overrides[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[key] = value
    seeds = [args.first_seed] if args.smoke else list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"keras-gan quality benchmark: TF {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPU cores, seeds {seeds}{' (smoke)' if args.smoke else ''}")
    results, seconds, cpu_seconds, real, untrained, recipes = {}, {}, {}, {}, {}, {}
    for name in args.only:
        recipe = dict(RECIPES[name])
        optional = {"minibatch_features", "augment", "minibatch_stddev", "ema_warmup", "dropout", "spectral_norm",
                    "d_steps", "g_filters", "categories", "info_weight", "g_lr",
                    "feature_matching_weight"}
        unknown = set(overrides) - set(recipe) - optional
        if unknown:
            parser.error(f"Invalid value for argument `--set`: unknown recipe keys {sorted(unknown)} "
                         f"for {name}. Expected some of {sorted(recipe)}")
        recipe.update(overrides)
        if args.smoke:
            recipe.update(SMOKE_OVERRIDES.get(name, {}), steps=SMOKE_STEPS[name])
            # A shorter run needs a shorter EMA horizon (about steps / 5), else
            # the EMA copy is still mostly the initial G.
            if recipe["ema_decay"]:
                recipe["ema_decay"] = min(recipe["ema_decay"], 1.0 - 5.0 / recipe["steps"])
        else:
            real[name] = real_data_scores(name)
        recipes[name] = recipe
    # Seeds outside, benchmarks inside: a run cut short has as many seeds of
    # every benchmark, and the machine's load spreads over all of them.
    for seed in seeds:
        for name, recipe in recipes.items():
            start, cpu_start = time.time(), time.process_time()
            gan = train(name, recipe, seed)
            scores = evaluate(name, gan, seed, drs_steps=min(args.drs_steps, 200) if args.smoke else args.drs_steps)
            # Wall time is distorted when other processes share the cores:
            # the process CPU time (all threads) is kept next to it.
            elapsed, cpu = time.time() - start, time.process_time() - cpu_start
            results.setdefault(name, []).append(scores)
            seconds.setdefault(name, []).append(elapsed)
            cpu_seconds.setdefault(name, []).append(cpu)
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in scores.items())
            print(f"{name} seed {seed}: {shown} ({elapsed:.1f} s wall, {cpu:.1f} s CPU)", flush=True)
            keras.backend.clear_session()
            if args.json:  # after every run, so an interrupted run keeps what finished
                _write_json(args.json, results, seconds, cpu_seconds, recipes, untrained, args.smoke, real)
    if _Digits.classifier is not None:
        print(f"\ndigits classifier: held-out accuracy {_Digits.classifier.held_out_accuracy:.4f}, "
              f"trained in {_Digits.seconds:.1f} s; Frechet real-vs-real floor {_Digits.floor:.4f}")
    report = _write_json(args.json, results, seconds, cpu_seconds, recipes, untrained, args.smoke, real)
    return _report(report)


def _failed(results, rules):
    return [
        f"{name}.{metric}" for name, runs in results.items()
        for metric, rule in rules.get(name, {}).items()
        if not _passes(np.mean([r[metric] for r in runs]), rule)
    ]


def _write_json(path, results, seconds, cpu_seconds, recipes, untrained, smoke, real=None):
    """The per-run results as a dict, also written to `path` when given."""
    rules = SMOKE_FLOORS if smoke else TARGETS
    report = {
        "results": results, "seconds": seconds, "cpu_seconds": cpu_seconds,
        "failed": _failed(results, rules), "untrained": untrained, "real": real or {},
        "floors": rules, "smoke": smoke, "recipes": recipes,
        "classifier_accuracy": getattr(_Digits.classifier, "held_out_accuracy", None),
    }
    if path:
        with open(path, "w") as f:
            json.dump(report, f, default=float, indent=1)
    return report


def _report(report):
    """Prints the table of one report; returns the exit code (1: smoke below floor)."""
    smoke = report["smoke"]
    print_table(report["results"], report["real"], report["seconds"], report["cpu_seconds"],
                report["floors"], "smoke floors" if smoke else "quality vs published")
    if not smoke and {"ring", "grid"} & set(report["results"]):
        print("\nring/grid high_quality: real samples themselves score 1 - exp(-4.5) = 98.9% "
              "(a 2-D Gaussian within 3 std), so the ring's 99% target needs a G slightly "
              "tighter than the data.")
    if report["failed"]:
        print(f"\nbelow {'floor' if smoke else 'target'}: {', '.join(report['failed'])}")
    return 1 if (smoke and report["failed"]) else 0


def merge_reports(paths):
    """Merges the JSON files of several runs (e.g. one per benchmark) into one report."""
    merged = {"results": {}, "seconds": {}, "cpu_seconds": {}, "real": {}, "untrained": {},
              "recipes": {}, "smoke": False, "classifier_accuracy": None}
    for path in paths:
        with open(path) as f:
            part = json.load(f)
        for key in ("results", "seconds", "cpu_seconds", "real", "untrained", "recipes"):
            for name, value in part.get(key, {}).items():
                if key in ("results", "seconds", "cpu_seconds"):
                    merged[key].setdefault(name, []).extend(value)
                else:
                    merged[key][name] = value
        merged["smoke"] = merged["smoke"] or part.get("smoke", False)
        merged["classifier_accuracy"] = merged["classifier_accuracy"] or part.get("classifier_accuracy")
    merged["floors"] = SMOKE_FLOORS if merged["smoke"] else TARGETS
    merged["failed"] = _failed(merged["results"], merged["floors"])
    return merged

if __name__ == "__main__":
    sys.exit(main())
