"""Sample grids, crash-safe checkpoints and logs, and the non-finite loss guard."""

import os

import numpy as np
import pytest
from PIL import Image

import keras

import keras_gan
from keras_gan import callbacks, images, networks


def _image_gan():
    gan = keras_gan.GAN(networks.dcgan_generator(8, (8, 8, 1), filters=4),
                        networks.dcgan_discriminator((8, 8, 1), filters=4))
    gan.compile("adam", "adam")
    return gan


def test_sample_grid_uses_the_same_fixed_noise_every_epoch(tmp_path):
    gan = _image_gan()
    cb = callbacks.SampleGrid(str(tmp_path), n=16, seed=3)
    cb.set_model(gan)
    cb.on_train_begin()
    cb.on_epoch_end(0)
    cb.on_epoch_end(1)
    first, second = (tmp_path / "epoch_001.png").read_bytes(), (tmp_path / "epoch_002.png").read_bytes()
    assert first == second  # same weights, same noise: same grid
    grid = np.asarray(Image.open(tmp_path / "epoch_001.png"))
    # 16 8x8 images upscaled x4 in a 4x4 grid with 1-pixel padding.
    assert grid.shape == (4 * 33 + 1, 4 * 33 + 1)


def test_make_grid_maps_minus_one_one_to_uint8():
    grid = images.make_grid(np.array([[[[-1.0]]], [[[1.0]]]]), cols=2, scale=1, padding=0)
    assert grid.dtype == np.uint8 and grid[..., 0].tolist() == [[0, 255]]


def test_checkpoint_is_never_half_written(tmp_path, monkeypatch):
    gan = _image_gan()
    path = str(tmp_path / "model.keras")
    callbacks.save_atomic(gan, path)
    good = open(path, "rb").read()

    def crash(target, *args, **kwargs):
        with open(target, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(gan, "save", crash)
    cb = callbacks.AtomicCheckpoint(path)
    cb.set_model(gan)
    with pytest.raises(OSError, match="disk full"):
        cb.on_epoch_end(0)
    assert open(path, "rb").read() == good
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary file left behind


def test_checkpoint_path_must_end_in_keras():
    with pytest.raises(ValueError, match=r"`path`.*\.keras"):
        callbacks.AtomicCheckpoint("model.h5")


def test_csv_log_writes_only_logged_keys_and_starts_afresh(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("stale\n")
    log = callbacks.CSVLog(str(path))
    log.on_epoch_end(0, {"g_loss": 0.5, "d_loss": 1.25})
    log.on_epoch_end(1, {"g_loss": 0.75, "d_loss": 1.0})
    assert path.read_text().splitlines() == ["epoch,d_loss,g_loss", "1,1.25,0.5", "2,1,0.75"]
    resumed = callbacks.CSVLog(str(path), append=True)
    resumed.on_epoch_end(2, {"g_loss": 1.0, "d_loss": 2.0})
    assert path.read_text().splitlines()[-1] == "3,2,1" and len(path.read_text().splitlines()) == 4


def _toy_gan(**compile_kwargs):
    gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(8,)), networks.toy_discriminator(2, units=(8,)), seed=0)
    gan.compile(compile_kwargs.pop("d_optimizer", "adam"), compile_kwargs.pop("g_optimizer", "adam"), **compile_kwargs)
    return gan


def test_csv_log_drops_rows_it_would_repeat_after_a_resume(tmp_path):
    path = tmp_path / "log.csv"
    first = callbacks.CSVLog(str(path))
    for epoch in range(3):
        first.on_epoch_end(epoch, {"d_loss": float(epoch)})
    # Resumed from a checkpoint taken after epoch 2: epoch 3 is trained (and logged) again.
    resumed = callbacks.CSVLog(str(path), append=True)
    resumed.on_epoch_end(2, {"d_loss": 30.0})
    assert path.read_text().splitlines() == ["epoch,d_loss", "1,0", "2,1", "3,30"]


def test_csv_log_keeps_the_previous_file_when_its_writer_fails(tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    log = callbacks.CSVLog(str(path))
    log.on_epoch_end(0, {"d_loss": 1.0})
    good = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(images.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        log.on_epoch_end(1, {"d_loss": 2.0})
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["log.csv"]


def test_sample_grid_write_failure_keeps_the_previous_png(tmp_path, monkeypatch):
    target = tmp_path / "grid.png"
    images.save_grid(np.zeros((4, 8, 8, 1)), str(target))
    good = target.read_bytes()
    monkeypatch.setattr(images, "png_bytes", lambda array: (_ for _ in ()).throw(OSError("no space")))
    with pytest.raises(OSError):
        images.save_grid(np.ones((4, 8, 8, 1)), str(target))
    assert target.read_bytes() == good and os.listdir(tmp_path) == ["grid.png"]


def test_temporary_paths_keep_the_weights_h5_suffix(tmp_path):
    tmp = images.temporary_path(str(tmp_path / "state.weights.h5"))
    assert os.path.basename(tmp).startswith(".tmp-state-") and tmp.endswith(".weights.h5")


def test_nan_loss_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    gan = _toy_gan(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01))
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    path = str(tmp_path / "model.keras")
    checkpoint = callbacks.AtomicCheckpoint(path)
    gan.fit(x, batch_size=16, epochs=1, verbose=0, callbacks=[callbacks.TerminateOnNonFinite(), checkpoint])
    good = open(path, "rb").read()
    gan.d_optimizer.learning_rate.assign(float("nan"))  # D's first update poisons its weights
    with pytest.raises(callbacks.NonFiniteLossError, match=r"epoch 2, step 1: the G loss \(g_loss=nan\)"):
        gan.fit(x, batch_size=16, epochs=2, initial_epoch=1, verbose=0,
                callbacks=[callbacks.TerminateOnNonFinite(), checkpoint])
    assert open(path, "rb").read() == good
    # Even when asked directly, the checkpoint refuses to overwrite it with NaN weights.
    with pytest.warns(UserWarning, match="not finite"):
        checkpoint.on_epoch_end(1, {"d_loss": 1.0})
    assert open(path, "rb").read() == good


def test_mixed_precision_skipped_steps_are_counted_in_the_logs(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    # A loss scale of 2**60 overflows float16 gradients: the first steps are skipped.
    gan = _toy_gan(d_optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(), initial_scale=2.0**60),
                   g_optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(), initial_scale=2.0**60))
    x = np.random.default_rng(0).normal(size=(128, 2)).astype("float32")
    log = callbacks.CSVLog(str(tmp_path / "log.csv"))
    history = gan.fit(x, batch_size=8, epochs=1, verbose=0, callbacks=[callbacks.TerminateOnNonFinite(), log])
    d_skipped, g_skipped = history.history["d_skipped_steps"][0], history.history["g_skipped_steps"][0]
    applied = int(gan.d_optimizer.iterations.numpy())
    assert d_skipped >= 1 and g_skipped >= 1 and applied + d_skipped == 16
    assert "d_skipped_steps" in (tmp_path / "log.csv").read_text().splitlines()[0]


def test_run_progress_is_one_line_for_the_whole_run_with_epochs_done_of_total(tmp_path):
    import io

    stream = io.StringIO()
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    toy = keras_gan.GAN(keras_gan.networks.toy_generator(2, 2, units=(4,)),
                        keras_gan.networks.toy_discriminator(2, units=(4,)), seed=0)
    toy.compile("adam", "adam")
    toy.fit(x, batch_size=16, epochs=5, verbose=0,
            callbacks=[keras_gan.callbacks.RunProgress(5, interval=3600, stream=stream)])
    lines = stream.getvalue().splitlines()
    # Not a tty: the first batch's line and the last epoch's, not one per epoch or step.
    assert len(lines) == 2, lines
    assert lines[0].startswith("epoch 0/5 ") and lines[-1].startswith("epoch 5/5 [====================]")
    assert "d_loss" in lines[-1] and "elapsed" in lines[-1] and "ETA" not in lines[-1]


def test_checkpoint_with_a_save_interval_skips_epoch_ends_but_saves_the_last(tmp_path, monkeypatch):
    saved = []
    monkeypatch.setattr(callbacks, "save_atomic", lambda model, path: saved.append(path))
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    toy = keras_gan.GAN(keras_gan.networks.toy_generator(2, 2, units=(4,)),
                        keras_gan.networks.toy_discriminator(2, units=(4,)), seed=0)
    toy.compile("adam", "adam")
    toy.fit(x, batch_size=16, epochs=4, verbose=0,
            callbacks=[callbacks.AtomicCheckpoint(str(tmp_path / "m.keras"), save_interval=3600)])
    assert len(saved) == 1  # the last epoch only
    saved.clear()
    toy.fit(x, batch_size=16, epochs=4, verbose=0, callbacks=[callbacks.AtomicCheckpoint(str(tmp_path / "m.keras"))])
    assert len(saved) == 4  # no interval: every epoch
