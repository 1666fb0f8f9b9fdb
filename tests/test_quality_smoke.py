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
