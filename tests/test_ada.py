"""Adaptive discriminator augmentation (keras_gan.augment.Adaptive, keras_gan.components.ada)."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import networks
from keras_gan.components import ada


def _images(n=4, size=8, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype("float32")


def test_p_0_is_the_identity_and_inference_never_augments():
    x = _images()
    np.testing.assert_allclose(ada.augment_images(x, 0.0, tf.constant([1, 2])).numpy(), x, atol=1e-5)
    layer = keras_gan.augment.Adaptive(initial_p=1.0)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert np.abs(layer(x, training=True).numpy() - x).max() > 0.1


def test_resampling_by_a_quarter_turn_is_an_exact_rotation():
    x = _images(2, 6, 1)
    quarter = tf.constant([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]] * 2)
    y = ada._resample(tf.constant(x), quarter).numpy()
    # Output pixel (row r, col c) reads input pixel (row c, col W-1-r): np.rot90's quarter turn.
    np.testing.assert_allclose(y, np.rot90(x, k=1, axes=(1, 2)), atol=1e-5)


def test_blitting_only_moves_pixels():
    x = _images(6, 8, 1, seed=1)
    y = ada.augment_images(x, 1.0, tf.constant([3, 4]), "b").numpy()
    for before, after in zip(x, y):
        distance = np.abs(after.reshape(-1, 1) - before.reshape(1, -1)).min(axis=1)
        assert distance.max() < 1e-5  # every output pixel is an input pixel
    assert np.abs(y - x).max() > 0.1


def test_color_transforms_are_one_affine_color_map_per_image():
    x = _images(6, 8, 3, seed=2)
    y = ada.augment_images(x, 1.0, tf.constant([5, 6]), "c").numpy()
    for before, after in zip(x, y):
        design = np.concatenate([before.reshape(-1, 3), np.ones((64, 1))], axis=1)
        fit, *_ = np.linalg.lstsq(design, after.reshape(-1, 3), rcond=None)
        np.testing.assert_allclose(design @ fit, after.reshape(-1, 3), atol=1e-4)
    assert np.abs(y - x).max() > 0.1


def test_the_pipeline_is_differentiable_in_the_images():
    x = tf.constant(_images(4, 8, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.square(ada.augment_images(x, 1.0, tf.constant([7, 8]))))
    grad = tape.gradient(total, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0


def test_update_moves_p_every_interval_by_the_images_seen():
    layer = keras_gan.augment.Adaptive(target=0.6, interval=4, speed_kimg=1.0, initial_p=0.5)
    update = tf.function(layer.update)
    for _ in range(3):
        update(tf.ones((10, 1)))  # r_t = 1 > 0.6: D overconfident
    assert float(layer.p) == 0.5  # not yet: every 4 updates
    update(tf.ones((10, 1)))
    np.testing.assert_allclose(float(layer.p), 0.5 + 40 / 1000, rtol=1e-6)
    for _ in range(4):
        update(tf.constant([[1.0], [-1.0], [-1.0], [1.0]]))  # r_t = 0 < 0.6
    np.testing.assert_allclose(float(layer.p), 0.54 - 16 / 1000, rtol=1e-6)
    for _ in range(400):
        update(-tf.ones((10, 1)))
    assert float(layer.p) == 0.0  # clipped at 0
    fixed = keras_gan.augment.Adaptive(target=None, initial_p=0.3)
    fixed.update(tf.ones((10, 1)))
    assert float(fixed.p) == pytest.approx(0.3)


def _ada_gan(real, initial_p=0.0):
    shape = real.shape[1:]
    g = networks.dcgan_generator(8, shape, filters=8)
    d = networks.dcgan_discriminator(shape, filters=16)
    gan = keras_gan.GAN(g, d, seed=0, augment=keras_gan.augment.Adaptive(
        interval=1, speed_kimg=0.05, initial_p=initial_p, augment="bg", seed=0))
    # D learns fast, G not at all: D tells the few reals from the fakes, as an overfitting D does.
    gan.compile(keras.optimizers.Adam(5e-3, 0.5), keras.optimizers.Adam(0.0))
    return gan


def test_p_rises_when_d_overfits_a_tiny_real_set_and_falls_when_d_cannot():
    real = _images(8, 8, 1, seed=3)
    gan = _ada_gan(real)
    logs = gan.fit(real, batch_size=8, epochs=30, verbose=0).history
    assert logs["augment_p"][-1] > 0.2 and logs["d_real"][-1] > 0
    # A D that cannot tell (its logits on the reals are mostly negative): p falls.
    gan = _ada_gan(real, initial_p=0.5)
    gan.discriminator.layers[-1].bias.assign([-10.0])
    gan.d_optimizer.learning_rate.assign(0.0)
    logs = gan.fit(real, batch_size=8, epochs=5, verbose=0).history
    assert logs["augment_p"][-1] < 0.5


def test_p_and_the_seed_are_restored_on_load(tmp_path):
    real = _images(8, 8, 1, seed=4)
    gan = _ada_gan(real)
    gan.fit(real, batch_size=8, epochs=3, verbose=0)
    p = float(gan.augment.p)
    assert p > 0
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded.augment, keras_gan.augment.Adaptive)
    assert float(loaded.augment.p) == p
    np.testing.assert_array_equal(loaded.augment.seed_generator.state.numpy(),
                                  gan.augment.seed_generator.state.numpy())
    assert loaded.augment.get_config() == gan.augment.get_config()


def test_get_builds_ada_from_its_name():
    assert isinstance(keras_gan.augment.get("ada"), keras_gan.augment.Adaptive)


@pytest.mark.parametrize("kwargs, argument", [
    ({"target": 2.0}, "target"), ({"interval": 0}, "interval"), ({"speed_kimg": 0}, "speed_kimg"),
    ({"initial_p": 1.5}, "initial_p"), ({"augment": "bgx"}, "augment"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        keras_gan.augment.Adaptive(**kwargs)


def test_color_needs_one_or_three_channels():
    with pytest.raises(ValueError, match="argument `augment`"):
        keras_gan.augment.Adaptive()(tf.zeros((2, 8, 8, 2)), training=True)
