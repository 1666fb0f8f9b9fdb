"""DiffAugment: each transform's geometry, differentiability, and its place in the GAN."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import augment, networks

SEED = tf.constant([3, 4], tf.int32)
IMAGES = np.random.default_rng(0).uniform(0.1, 1.0, size=(16, 8, 8, 1)).astype("float32")


def shifted(image, dy, dx):
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    for y in range(h):
        for x in range(w):
            if 0 <= y - dy < h and 0 <= x - dx < w:
                out[y, x] = image[y - dy, x - dx]
    return out


def test_translation_shifts_each_image_by_at_most_an_eighth_with_zero_fill():
    out = augment.translation(tf.constant(IMAGES), SEED).numpy()
    shifts = set()
    for image, moved in zip(IMAGES, out):
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if np.array_equal(shifted(image, dy, dx), moved)]
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 2  # per-image shifts


def test_cutout_zeroes_one_square_of_half_the_size_per_image():
    ones = np.ones((32, 8, 8, 1), "float32")
    out = augment.cutout(tf.constant(ones), SEED).numpy()[..., 0]
    for image in out:
        rows, cols = np.nonzero(image == 0)
        assert 0 < len(rows) <= 16
        # The zeroed pixels form a full rectangle (a square clipped by the border).
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        # Half of 8 is 4: a 4x4 square, clipped by the border to no less than half of it.
        assert 2 <= rows.max() - rows.min() + 1 <= 4 and 2 <= cols.max() - cols.min() + 1 <= 4
    counts = [int((image == 0).sum()) for image in out]
    assert 16 in counts  # some square lies whole inside the image
    assert len(set(counts)) > 1  # clipped at different borders


def test_color_is_a_per_image_affine_map():
    rgb = np.random.default_rng(1).uniform(-1, 1, size=(8, 4, 4, 3)).astype("float32")
    out = augment.color(tf.constant(rgb), SEED).numpy()
    # Brightness, saturation and contrast: out = a * x + b * channel_mean + c, per image.
    for x, y in zip(rgb, out):
        design = np.stack([x.ravel(), np.repeat(x.mean(axis=-1), 3).ravel(), np.ones(x.size)], axis=1)
        coef, *_ = np.linalg.lstsq(design, y.ravel(), rcond=None)
        np.testing.assert_allclose(design @ coef, y.ravel(), atol=1e-4)
    assert not np.allclose(out, rgb)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "translation,cutout,color"])
def test_every_policy_is_differentiable(policy):
    layer = augment.DiffAugment(policy, seed=0)
    x = tf.constant(IMAGES)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x, training=True) * 2.0)
    grad = tape.gradient(y, x)
    assert grad is not None and np.all(np.isfinite(grad.numpy())) and np.any(grad.numpy() != 0)


def test_identity_outside_training_and_config_round_trip():
    layer = augment.DiffAugment(["cutout", "translation"], seed=5)
    np.testing.assert_array_equal(layer(IMAGES), IMAGES)
    assert not np.array_equal(layer(IMAGES, training=True), IMAGES)
    restored = augment.DiffAugment.from_config(layer.get_config())
    assert restored.policy == "translation,cutout" and restored.seed == 5


def test_bad_policy_and_bad_inputs_are_named():
    with pytest.raises(ValueError, match="argument `policy`.*Received: policy='rotate'"):
        augment.DiffAugment("rotate")
    with pytest.raises(ValueError, match="argument `augment`"):
        augment.get(3)
    with pytest.raises(ValueError, match="image batches"):
        augment.DiffAugment("color")(np.zeros((4, 2), "float32"))


def test_gan_augments_real_and_fake_in_both_phases():
    calls = []

    class Recorder(keras.layers.Layer):
        def call(self, x, training=False):
            calls.append(bool(training))
            return x

    gan = keras_gan.GAN(networks.dcgan_generator(4, (8, 8, 1), filters=4),
                        networks.dcgan_discriminator((8, 8, 1), filters=4), seed=0, augment=Recorder())
    assert any(layer is gan.augment for layer in gan.combined.layers)  # G -> augment -> D
    gan.compile("adam", "adam", run_eagerly=True)
    calls.clear()
    gan.train_on_batch(IMAGES)
    assert calls == [True, True, True]  # real and fake in the D phase, fake in the G phase


def test_augmented_gan_round_trips_with_its_random_state(tmp_path):
    gan = keras_gan.GAN(networks.mlp_generator(4, (8, 8, 1), units=(16,)),
                        networks.mlp_discriminator((8, 8, 1), units=(16,)), seed=0,
                        augment="translation,cutout,color")
    gan.compile("adam", "adam")  # XLA: tests/test_penalties.py
    history = gan.fit(IMAGES, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(restored.augment, augment.DiffAugment)
    assert restored.augment.policy == "color,translation,cutout"
    # The augmentation's random sequence resumes where it stopped.
    np.testing.assert_array_equal(restored.augment.seed_generator.state.numpy(),
                                  gan.augment.seed_generator.state.numpy())
    np.testing.assert_array_equal(restored.seed_generator.state.numpy(), gan.seed_generator.state.numpy())
