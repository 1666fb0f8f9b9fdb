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


def _g_steps_with_ema(gan, count):
    """Runs `count` G updates; returns G's weights before the first and after each."""
    weights = [gan.generator.get_weights()]
    emas = []
    for _ in range(count):
        gan.train_on_batch(REAL)
        weights.append(gan.generator.get_weights())
        emas.append(gan.ema_generator.get_weights())
    return weights, emas


def _assert_ema_followed(gan, weights, emas, decays):
    """EMA_k = d_k * EMA_(k-1) + (1 - d_k) * G_k on trainable weights; statistics copied."""
    trainable = [id(v) in {id(t) for t in gan.generator.trainable_weights} for v in gan.generator.weights]
    expected = weights[0]
    for step, decay in enumerate(decays):
        new = weights[step + 1]
        expected = [decay * e + (1 - decay) * w if avg else w for e, w, avg in zip(expected, new, trainable)]
        for got, want in zip(emas[step], expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"G update {step}")


def test_ema_warmup_ramps_the_decay_then_uses_the_plain_decay():
    # min(0.2, (1 + t) / (10 + t)): 1/10 and 2/11 for the first two G
    # updates, then 3/12 > 0.2, so the plain decay.
    gan = make_gan(decay=0.2)
    assert gan.ema_warmup
    weights, emas = _g_steps_with_ema(gan, 4)
    _assert_ema_followed(gan, weights, emas, [0.1, 2 / 11, 0.2, 0.2])
    assert not np.allclose(weights[0][0], weights[-1][0])  # G did move


def test_ema_without_warmup_uses_the_plain_decay_from_the_first_update():
    gan = make_gan(decay=0.9, ema_warmup=False)
    weights, emas = _g_steps_with_ema(gan, 2)
    _assert_ema_followed(gan, weights, emas, [0.9, 0.9])


def test_generate_uses_the_ema_generator():
    gan = make_gan(decay=0.5, ema_warmup=False)
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
    assert restored.ema_decay == 0.8 and restored.ema_warmup
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


def test_ema_warmup_is_in_the_config_and_bad_values_are_named():
    gan = make_gan(ema_warmup=False)
    assert gan.get_config()["ema_warmup"] is False
    assert keras_gan.GAN.from_config(gan.get_config()).ema_warmup is False
    with pytest.raises(ValueError, match=r"argument `ema_warmup`: expected True or False. Received: ema_warmup='no'"):
        make_gan(ema_warmup="no")
