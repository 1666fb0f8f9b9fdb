"""CI smoke of benchmarks/quality.py: one short training run per benchmark.

The script runs in a subprocess (a clean TF state, a hard timeout) with
`--smoke`: each benchmark trains for a few thousand steps at most. This test
reads the scores from its JSON and judges them itself against the floors
(`SMOKE_FLOORS` in `benchmarks/quality.py`), after checking that those floors
sit, with a margin, above what three stand-ins for a generator score with
the same evaluation: uniform noise over the data's bounding box, a Gaussian of
the data's mean and covariance, and the untrained generator.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keras
from keras_gan import evaluation

from _benchmarks import load_benchmark

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "quality.py"


class _Samples:
    """Stands in for a trained GAN: `generate(n)` returns the first n of fixed samples."""

    def __init__(self, samples, shape):
        self.samples, self.shape = samples.astype("float32"), shape

    def generate(self, n, seed=None):
        assert n <= len(self.samples)
        return self.samples[:n].reshape((n,) + self.shape)


def _baselines(quality, name, recipe):
    """Scores of noise over the data's bounding box, a moment-matched Gaussian and the untrained G."""
    x = quality._training_data(name, 0)
    flat = x.reshape(len(x), -1).astype("float64")
    rng = np.random.default_rng(0)
    n = 10_000
    out = {"noise": quality.evaluate(name, _Samples(rng.uniform(flat.min(0), flat.max(0), (n, flat.shape[1])),
                                                    x.shape[1:]), 0)}
    if name != "gaussian_1d":  # there, the moment-matched Gaussian is the target itself
        cov = np.atleast_2d(np.cov(flat, rowvar=False))
        out["gaussian"] = quality.evaluate(name, _Samples(rng.multivariate_normal(flat.mean(0), cov, n), x.shape[1:]), 0)
    out["untrained"] = quality.evaluate(name, quality.train(name, dict(recipe, steps=0), 0), 0)
    keras.backend.clear_session()
    return out


def _passes(value, rule):
    op, bound = rule
    return value >= bound if op == ">=" else value <= bound


def _check_smoke_report(report, baselines):
    """The trained scores pass every floor; every baseline fails every floor, and by a margin."""
    floors = load_benchmark("quality.py").SMOKE_FLOORS
    assert set(report["results"]) == set(floors) == set(baselines)
    for name, rules in floors.items():
        (trained,) = report["results"][name]
        for metric, rule in rules.items():
            assert _passes(trained[metric], rule), (name, metric, trained[metric], rule)
            for label, scores in baselines[name].items():
                assert not _passes(scores[metric], rule), (name, metric, label, scores[metric], rule)
        base = baselines[name].values()
        if name in ("ring", "grid"):
            # Noise hits most modes; the margin is in the fraction of high-quality samples.
            assert trained["high_quality"] >= 4 * max(b["high_quality"] for b in base), (name, trained)
            # Rejection sampling (D fine-tuned, samples kept by D's judgement) keeps every mode and
            # raises the high-quality fraction: a sampler keeping all or the wrong samples does not.
            assert trained["drs_modes"] >= trained["modes"], trained
            assert trained["drs_high_quality"] >= trained["high_quality"] + 0.005, trained
            assert trained["drs_kl"] <= trained["kl"] + 0.1, trained
        if name == "gaussian_1d":
            assert trained["ks"] <= min(b["ks"] for b in base) / 2 and trained["w1"] <= min(b["w1"] for b in base) / 2
            assert abs(trained["std"] - 1.25) <= 0.1 and abs(trained["mean"] - 4.0) <= 0.1, trained
            # Half the target's spread fails the floors.
            narrow = evaluation.evaluate_gaussian_1d(np.random.default_rng(0).normal(4.0, 0.625, 10_000))
            assert not all(_passes(narrow[m], rule) for m, rule in rules.items()), narrow
        if name == "digits":
            # Frechet distance over the real-vs-real floor: at most half any baseline's.
            assert trained["fd_over_floor"] <= min(b["fd_over_floor"] for b in base) / 2, (trained, baselines[name])


def test_each_benchmark_trains_briefly_and_beats_noise_a_gaussian_and_the_untrained_generator(tmp_path):
    out = tmp_path / "smoke.json"
    # The script's own directory heads sys.path: put the repository on it too,
    # so the checked-out keras_gan is imported even without an install.
    root = str(BENCHMARK.parent.parent)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", "--json", str(out)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["classifier_accuracy"] >= 0.97
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "| grid | modes |" in proc.stdout  # the printed table
    quality = load_benchmark("quality.py")
    baselines = {name: _baselines(quality, name, report["recipes"][name]) for name in quality.SMOKE_STEPS}
    _check_smoke_report(report, baselines)


def test_report_merges_runs_seed_by_seed_and_judges_the_mean_against_the_targets(tmp_path, capsys):
    quality = load_benchmark("quality.py")
    parts = []
    for i, (hq, kl) in enumerate([(0.99, 0.01), (0.96, 0.01)]):
        path = tmp_path / f"part{i}.json"
        quality._write_json(str(path), {"grid": [{"modes": 25, "high_quality": hq, "kl": kl}]},
                            {"grid": [60.0 + i]}, {"grid": [50.0]}, {}, {}, False)
        parts.append(str(path))
    merged = quality.merge_reports(parts)
    assert [r["high_quality"] for r in merged["results"]["grid"]] == [0.99, 0.96]
    assert merged["seconds"]["grid"] == [60.0, 61.0]
    assert merged["failed"] == []  # the mean HQ, 0.975, meets ">= 0.97"
    assert quality.main(["--report", parts[1]]) == 0  # below target: a full run only reports
    out = capsys.readouterr().out
    assert "| grid | high_quality | 0.96 ± 0 (1) |" in out and "| >= 0.97 | NO |" in out
    assert "below target: grid.high_quality" in out
    assert "| grid | CPU time per run (s) | 50 ± 0 (1) |" in out


def test_a_recipes_g_lr_gives_g_its_own_learning_rate_and_d_keeps_lr():
    quality = load_benchmark("quality.py")
    recipe = dict(quality.RECIPES["gaussian_1d"], steps=0)
    for g_lr, expected in ((None, recipe["lr"]), (5e-3, 5e-3)):
        gan = quality.train("gaussian_1d", dict(recipe, g_lr=g_lr), seed=0)
        g, d = (opt.get_config()["learning_rate"]["config"] for opt in (gan.g_optimizer, gan.d_optimizer))
        assert g["initial_learning_rate"] == expected and d["initial_learning_rate"] == recipe["lr"]
        # Each decays to end_lr_fraction of its own start.
        assert g["end_learning_rate"] == pytest.approx(expected * recipe["end_lr_fraction"])


def test_infogan_digits_smoke_run_finds_digits_in_the_codes(capsys):
    module = load_benchmark("infogan_digits.py")
    assert module.main(["--smoke"]) == 0  # exit 1 below the floor
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| 0 |"))
    purity, nmi = (float(cell) for cell in row.split("|")[2:4])
    assert nmi >= module.SMOKE_FLOOR and 0.1 <= purity <= 1.0
