"""Mixed precision: float16/bfloat16 compute, float32 variables and losses,
loss scaling on both optimizers, overflow handling, agreement with float32."""

import os
import subprocess
import sys

import numpy as np
import pytest
import keras

import keras_gan
from keras_gan import networks

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def policy():
    """Sets a global dtype policy for one test and restores float32 after."""

    def set_policy(name):
        keras.mixed_precision.set_global_policy(name)

    yield set_policy
    keras.mixed_precision.set_global_policy("float32")


def toy_gan(init=None, d_optimizer=None, g_optimizer=None, loss="non_saturating", **compile_kwargs):
    """A small 1D GAN built under the current global policy.

    `init` is `(generator_weights, discriminator_weights)` to start from.
    """
    keras.utils.set_random_seed(1)
    generator = networks.toy_generator(4, 1, units=(16, 16))
    discriminator = networks.toy_discriminator(1, units=(16, 16))
    if init is not None:
        generator.set_weights(init[0])
        discriminator.set_weights(init[1])
    gan = keras_gan.GAN(generator, discriminator, seed=3)
    gan.compile(
        d_optimizer or keras.optimizers.SGD(0.1),
        g_optimizer or keras.optimizers.SGD(0.1),
        loss=loss,
        **compile_kwargs,
    )
    return gan


def weights(gan):
    return [np.array(w) for w in gan.generator.get_weights() + gan.discriminator.get_weights()]


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


REAL = np.random.default_rng(0).normal(4.0, 1.25, (64, 1)).astype("float32")


def one_step(gan):
    return gan.fit(REAL, batch_size=64, epochs=1, shuffle=False, verbose=0).history


def test_mixed_float16_computes_in_float16_with_float32_variables_logits_and_losses(policy):
    policy("mixed_float16")
    gan = toy_gan()
    hidden = gan.generator.layers[1]
    assert hidden.compute_dtype == "float16"
    assert {v.dtype for v in gan.generator.variables + gan.discriminator.variables} == {"float32"}
    z = gan.sample_noise(8)
    assert gan.generator(z).dtype == "float32"
    logits = gan.discriminator(gan.generator(z))
    assert logits.dtype == "float32"
    assert gan.gan_loss.discriminator_loss(logits, logits).dtype == "float32"
    assert gan.gan_loss.generator_loss(logits).dtype == "float32"
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)


def test_compile_keeps_an_optimizer_that_is_already_loss_scaled(policy):
    policy("mixed_float16")
    wrapped = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=128.0)
    gan = toy_gan(d_optimizer=wrapped)
    assert gan.d_optimizer is wrapped
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(gan.g_optimizer.inner_optimizer, keras.optimizers.LossScaleOptimizer)


def test_float32_policy_does_not_wrap_the_optimizers(policy):
    policy("float32")
    gan = toy_gan()
    assert not isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)


def test_mixed_bfloat16_trains_without_loss_scaling(policy):
    policy("mixed_bfloat16")
    gan = toy_gan()
    assert gan.generator.layers[1].compute_dtype == "bfloat16"
    assert not isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    before = flat(weights(gan))
    history = gan.fit(REAL, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    after = flat(weights(gan))
    assert all(np.isfinite(history[k]).all() for k in ("d_loss", "g_loss"))
    assert np.isfinite(after).all() and not np.allclose(before, after)


def test_losses_stay_finite_over_several_mixed_float16_steps_of_a_dcgan(policy):
    # Convolutions and BatchNorm, the layers where float16 goes wrong first.
    policy("mixed_float16")
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(
        networks.dcgan_generator(8, (8, 8, 1), filters=8),
        networks.dcgan_discriminator((8, 8, 1), filters=8),
        seed=0,
    )
    gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5),
                loss="non_saturating", d_steps=2)
    images = np.random.default_rng(0).uniform(-1, 1, (96, 8, 8, 1)).astype("float32")
    history = gan.fit(images, batch_size=16, epochs=2, verbose=0).history
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.isfinite(history[key]).all(), (key, history[key])
    assert np.isfinite(flat(weights(gan))).all()
    assert gan.d_optimizer.iterations.numpy() == 2 * 6 * 2  # epochs * batches * d_steps: none skipped


def test_an_injected_overflow_skips_the_step_and_halves_the_scale(policy):
    # A loss scale of 2**60 overflows float16 gradients (max 65504) while the
    # float32 scaled loss itself stays finite.
    policy("mixed_float16")
    optimizers = [
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0**60)
        for _ in range(2)
    ]
    gan = toy_gan(d_optimizer=optimizers[0], g_optimizer=optimizers[1])
    before = weights(gan)
    history = one_step(gan)
    for a, b in zip(before, weights(gan)):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    for optimizer in optimizers:
        assert optimizer.dynamic_scale.numpy() == 2.0**59
        assert optimizer.iterations.numpy() == 0


@pytest.mark.parametrize("compile_kwargs", [{}, dict(feature_matching_weight=0.5)], ids=["plain", "feature_matching"])
def test_a_mixed_float16_step_agrees_with_a_float32_step(policy, compile_kwargs):
    policy("float32")
    reference = toy_gan(**compile_kwargs)
    init = (reference.generator.get_weights(), reference.discriminator.get_weights())
    start = flat(weights(reference))
    one_step(reference)
    policy("mixed_float16")
    mixed = toy_gan(init=init, **compile_kwargs)  # same weights and the same seed, so the same noise
    one_step(mixed)
    update32 = flat(weights(reference)) - start
    update16 = flat(weights(mixed)) - start
    # float16 keeps ~3 significant digits; the update, computed from scaled
    # float16 gradients and applied in float32, must agree to 1%.
    relative = np.linalg.norm(update16 - update32) / np.linalg.norm(update32)
    assert relative < 1e-2, relative
    assert np.linalg.norm(update32) > 1e-3


def test_the_1d_gaussian_still_learns_under_mixed_float16(policy):
    policy("mixed_float16")
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.toy_generator(4, 1, units=(32, 32)),
                        networks.toy_discriminator(1, units=(32, 32)), seed=0)
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5),
                loss="non_saturating")
    before = gan.generate(4000, seed=0)
    gan.fit(keras_gan.data.gaussian_1d(mean=4.0, std=1.25, n=1024, batch_size=64), epochs=6, verbose=0)
    samples = gan.generate(4000, seed=0)
    assert abs(before.mean() - 4.0) > 3.0  # it starts far from the target
    # Target N(4, 1.25^2): over seeds 0-2 the mean is within 0.1, the std 1.24-1.63.
    assert abs(samples.mean() - 4.0) < 0.25, samples.mean()
    assert 1.0 < samples.std() < 1.8, samples.std()


def test_precision_benchmark_smoke_run_prints_every_configuration():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "benchmarks", "precision.py"), "--smoke"],
        capture_output=True, text=True, timeout=240, env=env, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("|") and "img/s" not in line
            and "---" not in line]
    assert len(rows) == 3 * 2, result.stdout  # policies x XLA off/on, 28x28 only
    for policy_name in ("float32", "mixed_float16", "mixed_bfloat16"):
        assert sum(f" {policy_name} " in row for row in rows) == 2
    for row in rows:
        speed = float(row.split("|")[-2])
        assert speed > 0
