"""The update schedule: k1 G updates first, then k2 D updates, then the alternation."""

import numpy as np
import pytest
import keras

import keras_gan
from keras_gan import networks

DATA = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")  # 8 batches of 8


def make_gan(**compile_kwargs):
    gan = keras_gan.GAN(networks.toy_generator(3, 2, units=(8,)), networks.toy_discriminator(2, units=(8,)), seed=0)
    gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05), **compile_kwargs)
    return gan


def counts(gan):
    return int(gan.g_optimizer.iterations.numpy()), int(gan.d_optimizer.iterations.numpy())


def fit_batches(gan, n, **kwargs):
    gan.fit(DATA[: 8 * n], batch_size=8, epochs=1, shuffle=False, verbose=0, **kwargs)


def test_warm_up_updates_only_g_then_only_d_then_alternates():
    gan = make_gan(warmup_g_steps=3, warmup_d_steps=2, d_steps=2, g_steps=1)
    d0, g0 = gan.discriminator.get_weights(), gan.generator.get_weights()
    fit_batches(gan, 3)
    assert counts(gan) == (3, 0)
    assert all(np.array_equal(a, b) for a, b in zip(gan.discriminator.get_weights(), d0))
    assert not np.allclose(gan.generator.get_weights()[0], g0[0])

    g1 = gan.generator.get_weights()
    fit_batches(gan, 2)
    assert counts(gan) == (3, 2)
    assert all(np.array_equal(a, b) for a, b in zip(gan.generator.get_weights(), g1))

    fit_batches(gan, 3)  # regular: 2 D updates and 1 G update per batch
    assert counts(gan) == (3 + 3, 2 + 6)


def test_schedule_switches_phase_within_one_fit_call():
    gan = make_gan(warmup_g_steps=2, warmup_d_steps=3)
    fit_batches(gan, 8)
    assert counts(gan) == (2 + 3, 3 + 3)
    assert gan._phase == "regular"


def test_schedule_resumes_after_save_and_load(tmp_path):
    gan = make_gan(warmup_g_steps=2, warmup_d_steps=2)
    fit_batches(gan, 3)  # 2 G warm-up batches, 1 of the 2 D warm-up batches
    assert counts(gan) == (2, 1)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert (restored.warmup_g_steps, restored.warmup_d_steps) == (2, 2)
    g = restored.generator.get_weights()
    fit_batches(restored, 1)  # the last D warm-up batch: G does not move
    assert counts(restored) == (2, 2)
    assert all(np.array_equal(a, b) for a, b in zip(restored.generator.get_weights(), g))
    fit_batches(restored, 1)
    assert counts(restored) == (3, 3)


def test_without_warm_up_every_batch_is_regular():
    gan = make_gan()
    fit_batches(gan, 2)
    assert counts(gan) == (2, 2)


@pytest.mark.parametrize("name", ["warmup_g_steps", "warmup_d_steps"])
def test_bad_warm_up_values_are_named(name):
    with pytest.raises(ValueError, match=f"argument `{name}`.*non-negative integer.*Received: {name}=-1"):
        make_gan(**{name: -1})
