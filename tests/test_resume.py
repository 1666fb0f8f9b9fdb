"""Resuming training: `keras-gan train` killed with SIGKILL mid-epoch and rerun ends
with the weights of an uninterrupted run; `keras_gan.resume` in process."""

import csv
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import keras
import keras_gan
from keras_gan import callbacks, networks, resume

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")


def _train_command(out, epochs=2):
    # Tiny deterministic run: toy nets, no XLA, a resume state every 5 of 40 steps.
    return [sys.executable, "-m", "keras_gan.cli", "train", "--dataset", "gaussian_1d",
            "--epochs", str(epochs), "--latent-dim", "4", "--batch-size", "256", "--no-xla", "--save-every", "5",
            "--verbose", "0", "--out", str(out)]


def _h5_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def _csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _wait_for_mid_epoch_state(process, out, timeout=90):
    progress_path = os.path.join(out, "resume", resume.PROGRESS_FILE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run ended (code {process.returncode}) before it could be killed")
        try:
            progress = resume.load_progress(os.path.dirname(progress_path))
        except ValueError:
            progress = None  # progress.json between writes cannot happen (atomic), but be safe
        if progress and progress["batch"] > 0:
            return progress
        time.sleep(0.02)
    process.kill()
    pytest.fail("no mid-epoch checkpoint appeared in time")


def test_cli_killed_mid_epoch_and_rerun_matches_an_uninterrupted_run(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    reference = subprocess.Popen(_train_command(straight), env=ENV, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    victim = subprocess.Popen(_train_command(killed), env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_for_mid_epoch_state(victim, str(killed))
        victim.send_signal(signal.SIGKILL)  # kill -9: no handler, no cleanup
        assert victim.wait(timeout=30) == -signal.SIGKILL
        rerun = subprocess.run(_train_command(killed), env=ENV, capture_output=True, text=True, timeout=180)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "resuming from" in rerun.stdout and ", batch " in rerun.stdout
        output, _ = reference.communicate(timeout=180)
        assert reference.returncode == 0, output
    finally:
        for p in (reference, victim):
            if p.poll() is None:
                p.kill()
    # Bitwise equal on our CPU; 1e-6 leaves room for other BLAS builds.
    # Same G, D, EMA, both optimizers' state (moments, iteration counts) and noise seed state.
    final = "checkpoint-000002-000000.weights.h5"
    a = _h5_arrays(straight / "resume" / final)
    b = _h5_arrays(killed / "resume" / final)
    assert a.keys() == b.keys() and any("optimizer" in k for k in a) and any("noise_seed" in k for k in a)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6, err_msg=name)
    # Every epoch logged once, with the same values.
    rows_a, rows_b = _csv_rows(straight / "log.csv"), _csv_rows(killed / "log.csv")
    assert [r["epoch"] for r in rows_b] == ["1", "2"] == [r["epoch"] for r in rows_a]
    for ra, rb in zip(rows_a, rows_b):
        for key in ra:
            np.testing.assert_allclose(float(rb[key]), float(ra[key]), rtol=1e-4, err_msg=key)
