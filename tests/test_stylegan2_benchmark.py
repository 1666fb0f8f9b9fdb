"""CI smoke of benchmarks/stylegan2.py: tiny networks, a few CPU seconds a run, the table is made."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "stylegan2.py"


def test_smoke_run_trains_every_network_and_prints_the_table(tmp_path):
    out = tmp_path / "smoke.json"
    root = str(BENCHMARK.parent.parent)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, str(BENCHMARK), "--smoke", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [(r["comparison"], r["network"]) for r in report["results"]] == [
        ("full", "dcgan"), ("full", "stylegan2"), ("subset500", "stylegan2+ada"), ("subset500", "stylegan2")]
    assert report["floor"] > 0
    for row in report["results"]:
        assert row["steps"] > 0 and np.isfinite(row["fd_over_floor"]) and row["fd_over_floor"] > 0
        # ADA's p: a probability, and the largest p seen is at least where it ended.
        if row["network"].endswith("+ada"):
            assert 0.0 <= row["augment_p"] <= row["augment_p_max"] <= 1.0, row
        else:
            assert row["augment_p"] is None and row["augment_p_max"] is None, row
    table = proc.stdout.split("FD/floor")[1]
    assert "stylegan2+ada" in table and "p end/max" in proc.stdout
