"""The EMA copy of G: its update rule, its use by generate(), and save/load."""

import numpy as np
import pytest
import keras

import keras_gan


def bn_generator(latent_dim=3, dim=2):
    """A tiny G with BatchNorm, so the EMA also has statistics to copy."""
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(8)(z)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dense(dim)(keras.layers.ReLU()(x))
    return keras.Model(z, x, name="bn_generator")


def make_gan(decay=0.9, **kwargs):
    gan = keras_gan.GAN(bn_generator(), keras_gan.networks.toy_discriminator(2, units=(8,)),
                        seed=0, ema_decay=decay, **kwargs)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    return gan


REAL = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")


def test_ema_generator_starts_as_an_independent_copy_of_g():
    gan = make_gan()
    ema, g = gan.ema_generator, gan.generator
    assert ema is not g and not ema.trainable
    assert not {id(v) for v in ema.weights} & {id(v) for v in g.weights}
    for a, b in zip(ema.get_weights(), g.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert gan.inference_generator is ema


def test_ema_update_after_each_g_step_averages_weights_and_copies_statistics():
    gan = make_gan(decay=0.9)
    trainable = {id(v) for v in gan.generator.trainable_weights}
    before = gan.generator.get_weights()
    gan.train_on_batch(REAL)
    after = gan.generator.get_weights()
    for w, old, new, ema in zip(gan.generator.weights, before, after, gan.ema_generator.get_weights()):
        if id(w) in trainable:
            np.testing.assert_allclose(ema, 0.9 * old + 0.1 * new, rtol=1e-5, atol=1e-7)
        else:  # BatchNorm moving statistics
            np.testing.assert_allclose(ema, new, rtol=1e-6)
    assert not np.allclose(before[0], after[0])


def test_generate_uses_the_ema_generator():
    gan = make_gan(decay=0.5)
    gan.train_on_batch(REAL)
    gan.train_on_batch(REAL)
    z = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    np.testing.assert_allclose(gan.generate_from_noise(z), gan.ema_generator.predict(z, verbose=0), rtol=1e-5)
    assert not np.allclose(gan.generate_from_noise(z), gan.generator.predict(z, verbose=0))


def test_ema_generator_and_both_optimizers_survive_save_and_load(tmp_path):
    gan = make_gan(decay=0.8)
    gan.fit(REAL, batch_size=8, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert restored.ema_decay == 0.8
    for a, b in zip(restored.ema_generator.get_weights(), gan.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(restored.generate(4, seed=3), gan.generate(4, seed=3))
    for mine, theirs in ((restored.d_optimizer, gan.d_optimizer), (restored.g_optimizer, gan.g_optimizer)):
        for a, b in zip(mine.variables, theirs.variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    restored.fit(REAL, batch_size=8, epochs=1, verbose=0)  # training resumes


def test_no_ema_by_default():
    gan = keras_gan.GAN(keras_gan.networks.toy_generator(3, 2), keras_gan.networks.toy_discriminator(2))
    assert gan.ema_generator is None and gan.inference_generator is gan.generator


@pytest.mark.parametrize("bad", [1.0, -0.1, "x"])
def test_bad_ema_decay_is_named(bad):
    with pytest.raises(ValueError, match="argument `ema_decay`"):
        keras_gan.GAN(keras_gan.networks.toy_generator(3, 2), keras_gan.networks.toy_discriminator(2),
                      ema_decay=bad)
