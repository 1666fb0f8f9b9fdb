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
import tensorflow as tf
import keras_gan
from keras_gan import callbacks, cli, networks, resume

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")


# Tiny deterministic runs, no XLA, a resume state every 5 steps: toy nets (40 steps an
# epoch); pix2pix and CycleGAN on the digits demo (8 steps an epoch), whose U-Nets
# draw dropout masks and CycleGAN's pools draw from their noise seed.
_TASK_FLAGS = {
    "gan": ["--dataset", "gaussian_1d", "--latent-dim", "4", "--batch-size", "256"],
    "pix2pix": ["--task", "pix2pix", "--batch-size", "240"],
    "cyclegan": ["--task", "cyclegan", "--batch-size", "120"],
}


def _train_command(out, epochs=2, task="gan"):
    return [sys.executable, "-m", "keras_gan.cli", "train", *_TASK_FLAGS[task], "--epochs", str(epochs),
            "--no-xla", "--save-every", "5", "--verbose", "0", "--out", str(out)]


def _h5_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def _csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _wait_for_mid_epoch_state(process, out, timeout=90, ready=lambda progress: progress["batch"] > 0):
    progress_path = os.path.join(out, "resume", resume.PROGRESS_FILE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run ended (code {process.returncode}) before it could be killed")
        try:
            progress = resume.load_progress(os.path.dirname(progress_path))
        except ValueError:
            progress = None  # progress.json between writes cannot happen (atomic), but be safe
        if progress and ready(progress):
            return progress
        time.sleep(0.02)
    process.kill()
    pytest.fail("no checkpoint of the awaited kind appeared in time")


@pytest.mark.parametrize("task", ["gan", "pix2pix", "cyclegan"])
def test_cli_killed_mid_epoch_and_rerun_matches_an_uninterrupted_run(tmp_path, task):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    reference = subprocess.Popen(_train_command(straight, task=task), env=ENV, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    victim = subprocess.Popen(_train_command(killed, task=task), env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_for_mid_epoch_state(victim, str(killed))
        victim.send_signal(signal.SIGKILL)  # kill -9: no handler, no cleanup
        assert victim.wait(timeout=30) == -signal.SIGKILL
        rerun = subprocess.run(_train_command(killed, task=task), env=ENV, capture_output=True, text=True,
                               timeout=180)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "resuming from" in rerun.stdout and ", batch " in rerun.stdout
        output, _ = reference.communicate(timeout=180)
        assert reference.returncode == 0, output
    finally:
        for p in (reference, victim):
            if p.poll() is None:
                p.kill()
    # Bitwise equal on our CPU; 1e-6 leaves room for other BLAS builds.
    # Same networks (and EMA), both optimizers' state (moments, iteration counts), noise
    # seed state, the U-Nets' dropout seeds and CycleGAN's pools.
    final = "checkpoint-000002-000000.weights.h5"
    a = _h5_arrays(straight / "resume" / final)
    b = _h5_arrays(killed / "resume" / final)
    assert a.keys() == b.keys() and any("optimizer" in k for k in a) and any("noise_seed" in k for k in a)
    if task != "gan":
        assert any("layer_seed_" in k for k in a)
    if task == "cyclegan":
        assert any("pool" in k for k in a)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6, err_msg=name)
    # Every epoch logged once, with the same values.
    rows_a, rows_b = _csv_rows(straight / "log.csv"), _csv_rows(killed / "log.csv")
    assert [r["epoch"] for r in rows_b] == ["1", "2"] == [r["epoch"] for r in rows_a]
    for ra, rb in zip(rows_a, rows_b):
        for key in ra:
            np.testing.assert_allclose(float(rb[key]), float(ra[key]), rtol=1e-4, err_msg=key)


def test_cli_under_the_mirrored_strategy_killed_after_an_epoch_end_continues_from_it(tmp_path):
    # `--strategy mirrored` over 2 logical CPUs (tests/_cli_worker.py), with --save-every:
    # killed once an epoch has ended, the rerun of the same command ends as a run never killed.
    def command(out):
        return [sys.executable, os.path.join(ROOT, "tests", "_cli_worker.py"), "--logical-cpus", "2", "--",
                "train", "--strategy", "mirrored", *_TASK_FLAGS["gan"], "--epochs", "3", "--no-xla",
                "--save-every", "5", "--verbose", "0", "--out", str(out)]

    straight, killed = tmp_path / "straight", tmp_path / "killed"
    reference = subprocess.Popen(command(straight), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    victim = subprocess.Popen(command(killed), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        progress = _wait_for_mid_epoch_state(victim, str(killed), timeout=150,
                                             ready=lambda progress: progress["epoch"] >= 1)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        assert progress["epoch"] < 3
        rerun = subprocess.run(command(killed), env=ENV, capture_output=True, text=True, timeout=180)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "resuming from" in rerun.stdout
        output, _ = reference.communicate(timeout=180)
        assert reference.returncode == 0, output
    finally:
        for p in (reference, victim):
            if p.poll() is None:
                p.kill()
                p.wait()
    final = "checkpoint-000003-000000.weights.h5"
    a, b = _h5_arrays(straight / "resume" / final), _h5_arrays(killed / "resume" / final)
    assert a.keys() == b.keys() and any("optimizer" in k for k in a) and any("noise_seed" in k for k in a)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=0, atol=1e-6, err_msg=name)
    rows_a, rows_b = _csv_rows(straight / "log.csv"), _csv_rows(killed / "log.csv")
    assert [r["epoch"] for r in rows_b] == ["1", "2", "3"] == [r["epoch"] for r in rows_a]
    for ra, rb in zip(rows_a, rows_b):
        for key in ra:
            np.testing.assert_allclose(float(rb[key]), float(ra[key]), rtol=1e-4, err_msg=key)


# ------------------------------------------------------------------ in process
def _toy_gan(ema_decay=None):
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(8,)), networks.toy_discriminator(2, units=(8,)),
                        seed=0, ema_decay=ema_decay)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


def test_a_loaded_gan_draws_the_dropout_masks_an_uninterrupted_one_would(tmp_path):
    def gan_with_dropout():
        keras.utils.set_random_seed(0)
        gan = keras_gan.GAN(networks.dcgan_generator(4, (8, 8, 1), filters=4),
                            networks.dcgan_discriminator((8, 8, 1), filters=4, dropout=0.5), seed=0)
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), jit_compile=False)
        return gan

    x = np.random.default_rng(0).uniform(-1, 1, size=(16, 8, 8, 1)).astype("float32")
    straight, saved = gan_with_dropout(), gan_with_dropout()
    straight.fit(x, batch_size=8, epochs=2, shuffle=False, verbose=0)
    saved.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    saved.save_weights(tmp_path / "state.weights.h5")
    loaded = gan_with_dropout()  # a fresh process would start with the initial dropout seeds
    loaded.load_weights(tmp_path / "state.weights.h5")
    names = [n for n in loaded._seed_generators_by_name() if n.startswith("layer_seed_")]
    assert len(names) == 2  # D's two Dropout layers
    loaded.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.weights, loaded.weights):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=0, atol=1e-6, err_msg=a.path)


def _toy_data():
    x = np.random.default_rng(0).normal(size=(60, 2)).astype("float32")
    return resume.SeededEpochs(x, batch_size=8, seed=3)  # 8 batches per epoch, the last of 4


class _Crash(keras.callbacks.Callback):
    """Raises after `steps` training steps, as a kill would stop the run."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.steps:
            raise KeyboardInterrupt("crash")


def _state(gan):
    arrays = [w.numpy() for w in gan.weights]
    arrays += [v.numpy() for opt in (gan.d_optimizer, gan.g_optimizer) for v in opt.variables]
    return arrays + [gan.seed_generator.state.numpy()]


def test_seeded_epochs_fix_each_epochs_order_and_skip_exactly_the_done_batches():
    data = _toy_data()

    def batches(*args):
        return [b.numpy() for b in data.dataset(*args)]

    first, second = batches(0, 1), batches(1, 2)
    assert len(first) == data.steps_per_epoch == 8 and len(first[-1]) == 4
    assert np.array_equal(np.sort(np.concatenate(first), axis=0), np.sort(np.concatenate(second), axis=0))
    assert not np.array_equal(first[0], second[0])  # reshuffled each epoch...
    assert all(np.array_equal(a, b) for a, b in zip(batches(1, 2), second))  # ...the same in every call
    resumed = batches(0, 2, 5)
    assert len(resumed) == 3 + 8 and all(np.array_equal(a, b) for a, b in zip(resumed, first[5:] + second))
    # The documented order (the same in every version, or old runs would resume on other batches):
    # stateless_shuffle(range(n), seed=[seed, epoch]) cut into consecutive batches.
    x = data._arrays[0].numpy()
    order = tf.random.experimental.stateless_shuffle(tf.range(60, dtype=tf.int64), seed=[3, 1]).numpy()
    assert all(np.array_equal(b, x[order[i * 8:(i + 1) * 8]]) for i, b in enumerate(second))


def test_unpaired_seeded_epochs_shuffle_each_domain_alone_and_zip_the_shorter_length():
    a = np.arange(10, dtype="float32")[:, None]
    b = 100 + np.arange(7, dtype="float32")[:, None]
    data = resume.SeededEpochs(a, b, batch_size=3, seed=3, paired=False)
    assert data.steps_per_epoch == 3  # 7 pairs an epoch, as zip of the two domains gives

    def batches(*args):
        return [(x.numpy().ravel(), y.numpy().ravel()) for x, y in data.dataset(*args)]

    first = batches(0, 1)
    xs, ys = (np.concatenate(parts) for parts in zip(*first))
    assert len(xs) == len(ys) == 7 and len(set(xs)) == 7 and sorted(ys) == list(b.ravel())
    # Each domain has its own order: seed 3 for A, seed 4 for B (the pairing is not fixed).
    order_a, order_b = (tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=[s, 0]).numpy()
                        for n, s in ((10, 3), (7, 4)))
    assert np.array_equal(xs, order_a[:7]) and np.array_equal(ys, 100 + order_b)
    # Over epochs every A image is seen, and a resumed epoch skips exactly the done batches.
    seen = set(np.concatenate([x for x, _ in batches(0, 6)]))
    assert seen == set(a.ravel())
    resumed, second = batches(1, 2, 1), batches(1, 2)
    assert all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1]) for p, q in zip(resumed, second[1:]))
    with pytest.raises(ValueError, match="`y`: paired=False needs a second domain"):
        resume.SeededEpochs(a, paired=False)
    with pytest.raises(ValueError, match="expected 10 rows, one per sample of `x` .or paired=False"):
        resume.SeededEpochs(a, b)


def test_resume_fit_after_a_crash_mid_epoch_matches_an_uninterrupted_run(tmp_path):
    straight = _toy_gan(ema_decay=0.9)
    resume.fit(straight, _toy_data(), 3, str(tmp_path / "straight"), verbose=0)
    expected = _state(straight)

    crashed = _toy_gan(ema_decay=0.9)
    log = callbacks.CSVLog(str(tmp_path / "log.csv"), append=True)
    with pytest.raises(KeyboardInterrupt):  # step 14 = batch 6 of epoch 2; last save at batch 4
        resume.fit(crashed, _toy_data(), 3, str(tmp_path / "run"), save_every=4, verbose=0,
                   callbacks=[log, _Crash(14)])
    assert resume.load_progress(str(tmp_path / "run"))["batch"] == 4
    rerun = _toy_gan(ema_decay=0.9)  # a new process: fresh objects, initial weights
    resume.fit(rerun, _toy_data(), 3, str(tmp_path / "run"), save_every=4, verbose=0,
               callbacks=[callbacks.CSVLog(str(tmp_path / "log.csv"), append=True)])
    for a, b in zip(expected, _state(rerun)):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
    assert [row.split(",")[0] for row in (tmp_path / "log.csv").read_text().splitlines()[1:]] == ["1", "2", "3"]
    # A completed run: rerunning does nothing.
    assert resume.fit(rerun, _toy_data(), 3, str(tmp_path / "run"), verbose=0) is None


def test_resumable_training_alone_resumes_plain_fit_at_the_last_completed_epoch(tmp_path):
    data = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    gan = _toy_gan()
    with pytest.raises(KeyboardInterrupt):  # 4 steps per epoch: step 10 is in epoch 3
        gan.fit(data, batch_size=16, epochs=3, verbose=0,
                callbacks=[resume.ResumableTraining(str(tmp_path)), _Crash(10)])
    assert resume.load_progress(str(tmp_path))["epoch"] == 2
    rerun = _toy_gan()
    history = rerun.fit(data, batch_size=16, epochs=3, verbose=0, callbacks=[resume.ResumableTraining(str(tmp_path))])
    assert history.epoch == [2] and int(rerun.d_optimizer.iterations.numpy()) == 12  # 8 restored + 4
    # The override ends with that fit: a later one starts at epoch 0 again.
    assert len(rerun.fit(data, batch_size=16, epochs=1, verbose=0).epoch) == 1


def test_the_cli_refuses_to_resume_a_run_with_other_settings_unless_told_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    (out / "resume").mkdir(parents=True)
    (out / "resume" / "checkpoint-000001-000000.weights.h5").write_bytes(b"")
    (out / "resume" / resume.PROGRESS_FILE).write_text(
        '{"epoch": 1, "batch": 0, "checkpoint": "checkpoint-000001-000000.weights.h5", '
        '"config": {"dataset": "gaussian_1d", "latent_dim": 8}}')
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--dataset", "gaussian_1d", "--epochs", "1", "--latent-dim", "4", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1
    assert "--latent-dim 8 -> 4" in err[0] and "--overwrite" in err[0]
    # --overwrite discards that state and starts afresh.
    assert cli.main(["train", "--dataset", "gaussian_1d", "--epochs", "1", "--latent-dim", "4", "--batch-size", "512",
                     "--no-xla", "--verbose", "0", "--overwrite", "--out", str(out)]) == 0
    progress = resume.load_progress(str(out / "resume"))
    assert progress["epoch"] == 1 and progress["config"]["latent_dim"] == 4
    assert sorted(os.listdir(out / "resume")) == sorted([resume.PROGRESS_FILE, progress["checkpoint"]])


def _log_epochs(path):
    return [row.split(",")[0] for row in path.read_text().splitlines()[1:]]


def test_a_save_interval_saves_fewer_epoch_ends_and_a_crash_repeats_no_epoch_in_the_log(tmp_path):
    straight = _toy_gan(ema_decay=0.9)
    resume.fit(straight, _toy_data(), 4, str(tmp_path / "straight"), verbose=0)
    expected = _state(straight)

    crashed = _toy_gan(ema_decay=0.9)
    log = tmp_path / "log.csv"
    with pytest.raises(KeyboardInterrupt):  # step 21 = batch 5 of epoch 3; epochs 1 and 2 logged
        resume.fit(crashed, _toy_data(), 4, str(tmp_path / "run"), save_every=4, save_interval=3600, verbose=0,
                   callbacks=[callbacks.CSVLog(str(log), append=True), _Crash(21)])
    progress = resume.load_progress(str(tmp_path / "run"))
    # No epoch end was saved (within the interval): the last save is batch 4 of epoch 3.
    assert (progress["epoch"], progress["batch"]) == (2, 4) and _log_epochs(log) == ["1", "2"]
    rerun = _toy_gan(ema_decay=0.9)
    resume.fit(rerun, _toy_data(), 4, str(tmp_path / "run"), save_every=4, save_interval=3600, verbose=0,
               callbacks=[callbacks.CSVLog(str(log), append=True)])
    for a, b in zip(expected, _state(rerun)):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
    assert _log_epochs(log) == ["1", "2", "3", "4"]
    assert resume.load_progress(str(tmp_path / "run"))["epoch"] == 4  # the last epoch is always saved


class _Signal(keras.callbacks.Callback):
    """Sends this process `signum` after `steps` training steps, as Ctrl-C or `kill` would."""

    def __init__(self, signum, steps):
        super().__init__()
        self.signum, self.steps, self.seen = signum, steps, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.steps:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_save_at_the_current_step_and_the_rerun_matches(tmp_path, signum):
    straight = _toy_gan()
    resume.fit(straight, _toy_data(), 3, str(tmp_path / "straight"), verbose=0)
    expected = _state(straight)

    before = signal.getsignal(signum)
    stopped = _toy_gan()
    with pytest.raises(resume.TrainingInterrupted) as info:  # step 11 = batch 3 of epoch 2
        resume.fit(stopped, _toy_data(), 3, str(tmp_path / "run"), save_interval=3600, verbose=0,
                   callbacks=[_Signal(signum, 11)])
    assert (info.value.signal_number, info.value.epoch, info.value.batch) == (signum, 1, 3)
    progress = resume.load_progress(str(tmp_path / "run"))
    assert (progress["epoch"], progress["batch"]) == (1, 3)
    assert signal.getsignal(signum) is before  # the handler is gone with the fit
    rerun = _toy_gan()
    resume.fit(rerun, _toy_data(), 3, str(tmp_path / "run"), save_interval=3600, verbose=0)
    for a, b in zip(expected, _state(rerun)):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)


def test_cli_stopped_by_sigint_saves_and_exits_130_and_the_rerun_completes(tmp_path):
    out = tmp_path / "run"
    command = _train_command(out, epochs=4)
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_mid_epoch_state(process, str(out))
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    assert "stopped by SIGINT" in output and "rerun the same command" in output
    assert os.path.exists(out / "model.keras")
    rerun = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0 and "resuming from" in rerun.stdout, rerun.stdout + rerun.stderr
    assert [r["epoch"] for r in _csv_rows(out / "log.csv")] == ["1", "2", "3", "4"]
