"""Sample grids and crash-safe checkpoints."""

import os

import numpy as np
import pytest
from PIL import Image

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
