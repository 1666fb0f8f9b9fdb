"""CI smoke of benchmarks/stylegan2.py: tiny networks, a few CPU seconds a run, the table is made."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "stylegan2.py"


def test_smoke_run_trains_both_networks_and_prints_the_table(tmp_path):
    out = tmp_path / "smoke.json"
    root = str(BENCHMARK.parent.parent)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, str(BENCHMARK), "--smoke", "--only", "full", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [r["network"] for r in report["results"]] == ["dcgan", "stylegan2"]
    assert report["floor"] > 0
    for row in report["results"]:
        assert row["steps"] > 0 and np.isfinite(row["fd_over_floor"]) and row["fd_over_floor"] > 0
    assert "FD/floor" in proc.stdout and "stylegan2" in proc.stdout.split("FD/floor")[1]
