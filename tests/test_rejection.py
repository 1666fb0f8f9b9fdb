"""Discriminator rejection sampling: its formula, what it learns, and what it leaves alone."""

import numpy as np
import pytest
import keras

import keras_gan
from keras_gan import rejection

MODES = np.array([[-1.5, 0.0], [1.5, 0.0]], "float32")
STD = 0.1


def bridged_generator():
    """A fixed G like a trained one on two modes: the data's shape at +-1.5, plus bridges.

    x = (1.5 tanh(4 z0) + 0.1 z2, 0.1 z1): about a quarter of its samples lie
    on the bridge between the modes, where the data has no mass.
    """
    z = keras.Input((3,))
    fixed = keras.initializers.Constant

    def dense(units, kernel, **kwargs):
        return keras.layers.Dense(units, use_bias=False, kernel_initializer=fixed(kernel), **kwargs)

    side = dense(1, [[4.0], [0], [0]], activation="tanh")(z)
    noise = dense(2, [[0, 0], [0, 0.1], [0.1, 0]])(z)
    x = dense(2, [[1.5, 0]])(side)
    return keras.Model(z, keras.layers.Add()([x, noise]))


def two_modes(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    return (MODES[rng.integers(2, size=n)] + STD * rng.normal(size=(n, 2))).astype("float32")


def make_gan(pack=1):
    keras.utils.set_random_seed(0)
    d = (keras_gan.networks.toy_discriminator(2, units=(32, 32)) if pack == 1
         else keras_gan.networks.packed_discriminator("toy", (2,), pack=pack, units=(32, 32)))
    return keras_gan.GAN(bridged_generator(), d, seed=0, pack=pack)


def near_a_mode(x):
    """Per mode, the fraction of `x` within 3 std of it."""
    dist = np.linalg.norm(x[:, None] - MODES[None], axis=-1)
    return [(dist[:, k] <= 3 * STD).mean() for k in range(len(MODES))]


def test_acceptance_probability_matches_the_drs_formula():
    logits, d_max, gamma, eps = np.array([0.0, -1.0, -5.0]), 0.0, 0.5, 1e-6
    f = logits - d_max - np.log(1 - np.exp(logits - d_max - eps)) - gamma
    np.testing.assert_allclose(
        rejection.acceptance_probability(logits, d_max, gamma, eps), 1 / (1 + np.exp(-f)), rtol=1e-9)
    # Far below the max, DRS is exact rejection sampling: p ~ exp(D - D_M).
    p = rejection.acceptance_probability([-8.0], 0.0)
    np.testing.assert_allclose(p, np.exp(-8.0), rtol=1e-3)
    # No overflow at extreme logits, and more acceptance for a higher logit.
    p = rejection.acceptance_probability([-1e4, -3.0, -1.0], 0.0, gamma=-2.0)
    assert np.all(np.isfinite(p)) and p[0] < p[1] < p[2]


@pytest.mark.parametrize("pack", [1, 2])
def test_fine_tuned_discriminator_rejects_the_mass_between_modes(pack):
    gan = make_gan(pack)
    plain = near_a_mode(gan.generate(4000, seed=1))
    sampler = rejection.RejectionSampler(gan, percentile=80)
    sampler.fit(two_modes(), steps=300, batch_size=512, learning_rate=3e-3)
    kept = sampler.generate(1000, seed=1)
    filtered = near_a_mode(kept)
    assert kept.shape == (1000, 2)
    # Off every mode: about 23% of G's samples, under a third of that after
    # rejection; and the two modes stay balanced.
    assert 0.15 < 1 - sum(plain) < 0.3, plain
    assert 1 - sum(filtered) < (1 - sum(plain)) / 3, (plain, filtered)
    assert min(filtered) > 0.7 * max(filtered), filtered


def test_fit_leaves_the_gan_untouched_and_generate_is_reproducible():
    gan = make_gan()
    before = [w.copy() for w in gan.generator.get_weights() + gan.discriminator.get_weights()]
    sampler = rejection.RejectionSampler(gan).fit(two_modes(500), steps=20, burn_in=256)
    after = gan.generator.get_weights() + gan.discriminator.get_weights()
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert sampler.discriminator is not gan.discriminator
    np.testing.assert_array_equal(sampler.generate(64, seed=3), sampler.generate(64, seed=3))
    assert not np.array_equal(sampler.generate(64, seed=3), sampler.generate(64, seed=4))
    # Every kept sample is one of the first draw's candidates, in their order.
    import tensorflow as tf
    z = tf.random.stateless_normal((1024, gan.latent_dim), seed=[3, 0])
    candidates = gan.generate_from_noise(z)
    kept = sampler.generate(64, seed=3)
    index = np.argmin(np.linalg.norm(kept[:, None] - candidates[None], axis=-1), axis=1)
    np.testing.assert_allclose(kept, candidates[index], atol=1e-6)
    assert np.all(np.diff(index) > 0)
    assert sampler.get_config() == {"percentile": 50.0, "epsilon": 1e-6}


def test_a_lower_percentile_keeps_more_candidates():
    gan = make_gan()
    sampler = rejection.RejectionSampler(gan, percentile=None).fit(two_modes(500), steps=50, burn_in=512)
    logits = sampler.score(gan.generate(2048, seed=0))
    f = rejection.drs_f(logits, sampler.max_logit)
    rates = [rejection.acceptance_probability(logits, sampler.max_logit, np.percentile(f, q)).mean()
             for q in (20, 50, 80)]
    assert rates[0] > rates[1] > rates[2]


def test_bad_arguments_name_themselves():
    gan = make_gan()
    with pytest.raises(ValueError, match="`gan`.*keras_gan.GAN"):
        rejection.RejectionSampler("not a gan")
    with pytest.raises(ValueError, match="`percentile`.*\\[0, 100\\]"):
        rejection.RejectionSampler(gan, percentile=150)
    sampler = rejection.RejectionSampler(gan)
    with pytest.raises(ValueError, match="not fitted"):
        sampler.generate(4)
    with pytest.raises(ValueError, match="`x`.*shape \\(n, 2\\).*\\(10, 3\\)"):
        sampler.fit(np.zeros((10, 3), "float32"))
    with pytest.raises(ValueError, match="`x`.*finite.*1 NaN"):
        sampler.fit(np.where(np.arange(20).reshape(10, 2) == 3, np.nan, 0.0).astype("float32"))
    with pytest.raises(ValueError, match="`steps`"):
        sampler.fit(two_modes(10), steps=0)
    cond = keras_gan.GAN(
        keras_gan.networks.conditional_generator("toy", 4, (2,), 3),
        keras_gan.networks.conditional_discriminator("toy", (2,), 3), num_classes=3)
    with pytest.raises(ValueError, match="`gan`.*unconditional"):
        rejection.RejectionSampler(cond)
