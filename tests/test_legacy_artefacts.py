"""Checkpoints, CLI runs and exports written by keras-gan 0.1.0 (tests/data/legacy_0.1.0)
still load with today's code and give the outputs they gave when they were written."""

import csv
import os
import shutil

import numpy as np
import pytest

import keras
import keras_gan
from keras_gan import cli

LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "legacy_0.1.0")


def _path(name):
    return os.path.join(LEGACY, name)


def test_a_gan_checkpoint_loads_with_its_optimizers_and_generates_the_same_samples():
    gan = keras.models.load_model(_path("gan.keras"))
    assert isinstance(gan, keras_gan.GAN)
    assert gan.code_classifier is not None and gan.ema_generator is not None
    assert isinstance(gan.gan_loss, keras_gan.losses.Hinge)
    assert isinstance(gan.penalties[0], keras_gan.penalties.R1) and gan.penalties[0].interval == 2
    assert gan.d_steps == 2 and gan.feature_matching_weight == pytest.approx(0.1)
    # Trained 4 batches: the optimizers' state came back, not a fresh optimizer.
    assert int(gan.d_optimizer.iterations) == 8 and int(gan.g_optimizer.iterations) == 4
    np.testing.assert_allclose(gan.generate(8, seed=5), np.load(_path("gan_samples.npy")), rtol=1e-6, atol=1e-6)
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    before = [w.copy() for w in gan.generator.get_weights()]
    gan.fit(x, batch_size=16, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, gan.generator.get_weights()))


def test_a_conditional_gan_checkpoint_generates_the_same_samples():
    gan = keras_gan.load_gan(_path("conditional_gan.keras"))
    assert gan.num_classes == 10 and gan.augment is not None
    np.testing.assert_allclose(gan.generate(4, seed=2, labels=7), np.load(_path("conditional_samples.npy")),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, cls", [("pix2pix", keras_gan.Pix2Pix), ("cyclegan", keras_gan.CycleGAN)])
def test_image_to_image_checkpoints_translate_as_before(name, cls):
    model = keras.models.load_model(_path(f"{name}.keras"))
    assert isinstance(model, cls) and int(model.g_optimizer.iterations) == 2
    np.testing.assert_allclose(model.translate(np.load(_path("inputs.npy"))), np.load(_path(f"{name}_out.npy")),
                               rtol=1e-5, atol=1e-5)


def test_an_export_loads_and_serves_the_checkpoints_samples():
    exported = keras_gan.load_generator(_path("gan_export"))
    gan = keras.models.load_model(_path("gan.keras"))
    z = np.random.default_rng(1).normal(size=(5, gan.latent_dim)).astype("float32")
    np.testing.assert_allclose(exported(z), gan.generate_from_noise(z), rtol=1e-5, atol=1e-6)


def test_a_cli_run_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "run"
    shutil.copytree(_path("run_ring_2d"), out)
    cli.main(["train", "--dataset", "ring_2d", "--epochs", "3", "--verbose", "0", "--out", str(out)])
    with open(out / "log.csv") as f:
        epochs = [row["epoch"] for row in csv.DictReader(f)]
    assert epochs == ["1", "2", "3"]
