"""Minibatch layers for D: packing (PacGAN), minibatch stddev, squared deviation."""

import numpy as np
import pytest
import keras

import keras_gan
from keras_gan import layers, networks


def test_pack_samples_concatenates_consecutive_samples_on_the_last_axis():
    x = np.arange(8, dtype="float32").reshape(4, 2)
    np.testing.assert_array_equal(layers.pack_samples(x, 2), [[0, 1, 2, 3], [4, 5, 6, 7]])
    images = np.arange(4 * 2 * 2 * 1, dtype="float32").reshape(4, 2, 2, 1)
    packed = np.asarray(layers.pack_samples(images, 2))
    assert packed.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(packed[1, ..., 0], images[2, ..., 0])
    np.testing.assert_array_equal(packed[1, ..., 1], images[3, ..., 0])


def test_pack_samples_layer_shape_and_config():
    layer = layers.PackSamples(3)
    assert layer.compute_output_shape((None, 8, 8, 2)) == (None, 8, 8, 6)
    assert layers.PackSamples.from_config(layer.get_config()).pack == 3
    with pytest.raises(ValueError, match="argument `pack`.*Received: pack=0"):
        layers.PackSamples(0)


def test_minibatch_stddev_appends_the_mean_feature_stddev():
    x = np.array([[0.0, 0.0], [2.0, 4.0]], "float32")  # stds 1 and 2: mean 1.5
    out = np.asarray(layers.MinibatchStddev(epsilon=0.0)(x))
    np.testing.assert_allclose(out, [[0, 0, 1.5], [2, 4, 1.5]], rtol=1e-6)
    images = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype("float32")
    out = np.asarray(layers.MinibatchStddev(epsilon=0.0)(images))
    assert out.shape == (4, 3, 3, 3)
    np.testing.assert_allclose(out[..., 2], np.full((4, 3, 3), images.std(axis=0).mean()), rtol=1e-5)


def test_minibatch_stddev_groups_like_stylegan():
    x = np.array([[0.0], [10.0], [2.0], [30.0]], "float32")
    out = np.asarray(layers.MinibatchStddev(group_size=2, epsilon=0.0)(x))[:, 1]
    # Groups are samples {0, 2} (std 1) and {1, 3} (std 10).
    np.testing.assert_allclose(out, [1.0, 10.0, 1.0, 10.0], rtol=1e-6)


def test_minibatch_stddev_gradient_is_finite_for_identical_samples():
    import tensorflow as tf

    x = tf.ones((4, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layers.MinibatchStddev()(x))
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


def test_squared_deviation_from_batch_mean():
    x = np.array([[1.0], [3.0], [5.0]], "float32")
    np.testing.assert_allclose(layers.SquaredDeviationFromBatchMean()(x), [[1, 4], [3, 0], [5, 4]])


def test_a_collapsed_batch_is_visible_in_the_deviation_feature():
    real = np.random.default_rng(0).normal(4.0, 1.25, size=(256, 1)).astype("float32")
    collapsed = np.full((256, 1), 4.0, "float32")
    feature = layers.SquaredDeviationFromBatchMean()
    assert np.mean(np.asarray(feature(real))[:, 1]) == pytest.approx(1.25**2, rel=0.2)
    assert np.max(np.asarray(feature(collapsed))[:, 1]) == 0.0


@pytest.mark.parametrize("option", ["deviation", "stddev"])
def test_toy_discriminator_minibatch_option_trains_and_round_trips(option, tmp_path):
    d = networks.toy_discriminator(1, units=(8, 8), minibatch_features=option)
    gan = keras_gan.GAN(networks.toy_generator(2, 1, units=(8,)), d, seed=0)
    gan.compile("adam", "adam")
    gan.fit(keras_gan.data.gaussian_1d(n=128, batch_size=32), epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    x = np.linspace(0, 8, 16, dtype="float32")[:, None]
    np.testing.assert_allclose(restored.discriminator(x), gan.discriminator(x), rtol=1e-5)
    with pytest.raises(ValueError, match="argument `minibatch_features`"):
        networks.toy_discriminator(1, minibatch_features="pca")


def test_packed_gan_shows_d_groups_of_m_samples():
    seen = []

    class Spy(keras.layers.Layer):
        def call(self, x):
            seen.append(tuple(x.shape))
            return x

    x = keras.Input((4,))
    d = keras.Model(x, keras.layers.Dense(1)(Spy()(x)))
    gan = keras_gan.GAN(networks.toy_generator(3, 2), d, pack=2, seed=0)
    gan.compile("adam", "adam", d_steps=2, run_eagerly=True)
    seen.clear()  # drop the symbolic calls that built `combined`
    gan.train_on_batch(np.zeros((12, 2), "float32"))
    # d_steps=2 slices of 6 samples = 3 packed pairs, for real and fake; then G's 3 pairs.
    assert seen[:2] == [(3, 4), (3, 4)]
    assert all(shape[0] == 3 for shape in seen)


def test_packed_gan_trains_saves_and_rejects_an_unpacked_d(tmp_path):
    gan = keras_gan.GAN(networks.toy_generator(3, 2, units=(8,)),
                        networks.packed_discriminator("toy", (2,), pack=4, units=(8,)), pack=4, seed=0)
    gan.compile("adam", "adam", loss="relativistic_average", d_steps=2)
    # 50 per batch: slices of 25 are cut to 24 = 6 groups of 4.
    gan.fit(keras_gan.data.grid_2d(n=100, batch_size=50), epochs=1, verbose=0)
    assert gan.generate(5, seed=0).shape == (5, 2)
    gan.save(tmp_path / "gan.keras")
    assert keras.models.load_model(tmp_path / "gan.keras").pack == 4
    with pytest.raises(ValueError, match=r"once packed by pack=4, i.e. \(8,\)"):
        keras_gan.GAN(networks.toy_generator(3, 2), networks.toy_discriminator(2), pack=4)
    with pytest.raises(ValueError, match="argument `pack`"):
        keras_gan.GAN(networks.toy_generator(3, 2), networks.toy_discriminator(2), pack=0)


def test_dcgan_discriminator_minibatch_stddev_sees_batch_spread():
    d = networks.dcgan_discriminator((8, 8, 1), filters=4, minibatch_stddev=True)
    assert any(isinstance(layer, layers.MinibatchStddev) for layer in d.layers)
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")
    # The same first image scores differently next to a different batch.
    spread = np.asarray(d(np.concatenate([x[:1], x[1:] * 5])))[0]
    alone = np.asarray(d(np.concatenate([x[:1], x[:1] * 1, x[:1], x[:1]])))[0]
    assert not np.allclose(spread, alone)


def test_packed_discriminator_for_images():
    d = networks.packed_discriminator("dcgan", (8, 8, 1), pack=2, filters=4)
    assert d.input_shape == (None, 8, 8, 2)
    with pytest.raises(ValueError, match="argument `kind`"):
        networks.packed_discriminator("resnet", (8, 8, 1), pack=2)
