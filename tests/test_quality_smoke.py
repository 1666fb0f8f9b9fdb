"""CI smoke of benchmarks/quality.py: one short training run per benchmark.

The script runs in a subprocess (a clean TF state, a hard timeout) with
`--smoke`: each benchmark trains for a few hundred steps and must beat the
floors stated in `benchmarks/quality.py` (`SMOKE_FLOORS`), far below the
targets of the full recipe but far above what an untrained generator scores.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from _benchmarks import load_benchmark

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "quality.py"


def test_each_benchmark_trains_briefly_and_beats_its_floor(tmp_path):
    out = tmp_path / "smoke.json"
    # The script's own directory heads sys.path: put the repository on it too,
    # so the checked-out keras_gan is imported even without an install.
    root = str(BENCHMARK.parent.parent)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", "--json", str(out)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"ring", "grid", "gaussian_1d", "digits", "stacked_digits"}
    assert report["classifier_accuracy"] >= 0.97
    assert report["failed"] == [], proc.stdout[-3000:]
    # The floors mean something: the untrained generators are below them.
    for name, floors in report["floors"].items():
        for metric, (op, bound) in floors.items():
            value = report["untrained"][name][metric]
            assert not (value >= bound if op == ">=" else value <= bound), (name, metric, value)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "| grid | modes |" in proc.stdout  # the printed table
    for name in ("ring", "grid"):  # the same G through rejection sampling, reported apart
        (run,) = report["results"][name]
        assert 0.0 <= run["drs_high_quality"] <= 1.0 and run["drs_modes"] >= 1, run
    (run,) = report["results"]["stacked_digits"]
    assert run["drs_modes"] >= 1 and 0.0 <= run["drs_kl"] < 7.0, run  # log(1000) = 6.9: one mode


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
