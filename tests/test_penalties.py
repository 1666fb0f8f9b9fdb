"""Gradient penalties: the math on D's with known input gradients, and the D phase."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import penalties

SEED = tf.constant([1, 2], tf.int32)


def linear_critic(w, dim=2):
    """D(x) = w . x: its input gradient is w for every sample."""
    x = keras.Input((dim,))
    d = keras.Model(x, keras.layers.Dense(1, name="logits")(x))
    d.set_weights([np.asarray(w, "float32").reshape(dim, 1), np.zeros(1, "float32")])
    return d


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    d = linear_critic([3.0, 4.0])  # |w| = 5
    real, fake = np.random.default_rng(0).normal(size=(2, 8, 2)).astype("float32")
    value = penalties.GradientPenalty()(lambda x: d(x), real, fake, SEED)
    assert float(value) == pytest.approx((5.0 - 1.0) ** 2, rel=1e-5)
    assert float(penalties.GradientPenalty(target=5.0)(lambda x: d(x), real, fake, SEED)) == pytest.approx(0.0, abs=1e-4)


def test_gradient_penalty_interpolates_uniformly_one_factor_per_sample():
    seen = []

    def quadratic(x):  # grad = 2 x_hat
        seen.append(x)
        return tf.reduce_sum(tf.square(x), axis=1, keepdims=True)

    real = np.tile([[1.0, 1.0, 1.0]], (256, 1)).astype("float32")
    fake = np.zeros_like(real)
    value = penalties.GradientPenalty()(quadratic, real, fake, SEED)
    x_hat = seen[0].numpy()
    u = x_hat[:, 0]
    # One u per sample (all features share it), on the segment fake -> real.
    np.testing.assert_allclose(x_hat, np.repeat(u[:, None], 3, axis=1))
    assert u.min() >= 0.0 and u.max() <= 1.0
    # Uniform, not normal (keras-io#143): mean 1/2, variance 1/12.
    assert abs(u.mean() - 0.5) < 0.06 and abs(u.var() - 1 / 12) < 0.02
    norms = 2 * np.sqrt(3) * u
    assert float(value) == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-4)


def test_gradient_penalty_gradient_is_finite_when_d_is_flat():
    d = linear_critic([0.0, 0.0])
    real = fake = np.ones((4, 2), "float32")
    with tf.GradientTape() as tape:
        value = penalties.GradientPenalty()(lambda x: d(x), real, fake, SEED)
    grads = tape.gradient(value, d.trainable_variables)
    assert float(value) == pytest.approx(1.0, abs=1e-5)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads if g is not None)


def test_r1_is_half_the_mean_squared_gradient_norm_on_real_data():
    d = linear_critic([3.0, 4.0])
    real = np.ones((4, 2), "float32")
    assert float(penalties.R1()(lambda x: d(x), real, real * 7, SEED)) == pytest.approx(12.5, rel=1e-5)

    def quadratic(x):
        return tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    images = np.random.default_rng(1).normal(size=(3, 4, 4, 2)).astype("float32")
    expected = 0.5 * np.mean(np.sum((2 * images.reshape(3, -1)) ** 2, axis=1))
    assert float(penalties.R1()(quadratic, images, images, SEED)) == pytest.approx(expected, rel=1e-5)


def _constant_generator(latent_dim=2, dim=2):
    """G(z) = 0: fakes are known exactly."""
    z = keras.Input((latent_dim,))
    g = keras.Model(z, keras.layers.Dense(dim, kernel_initializer="zeros")(z))
    return g


def test_d_phase_descends_the_penalised_loss():
    """One SGD D step: w <- w - lr * (grad of the Wasserstein loss + grad of 10 * GP)."""
    w = np.array([3.0, 4.0], "float32")
    gan = keras_gan.GAN(_constant_generator(), linear_critic(w), seed=0)
    gan.compile(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01), loss="wasserstein",
                penalties=[penalties.GradientPenalty(10.0)])
    real = np.random.default_rng(0).normal(2.0, 1.0, size=(16, 2)).astype("float32")
    logs = gan.train_on_batch(real, return_dict=True)
    # d/dw [mean(w.fake) - mean(w.real)] = -mean(real);  d/dw 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|.
    grad = -real.mean(axis=0) + 20 * (5.0 - 1.0) * w / 5.0
    np.testing.assert_allclose(gan.discriminator.get_weights()[0][:, 0], w - 0.01 * grad, rtol=1e-5)
    assert logs["d_penalty"] == pytest.approx(160.0, rel=1e-5)


def test_lazy_interval_applies_every_nth_d_update_scaled_by_n():
    d = linear_critic([3.0, 4.0])
    gan = keras_gan.GAN(_constant_generator(), d, seed=0)
    gan.compile("sgd", "sgd", penalties=[penalties.R1(weight=2.0, interval=3)])
    real = np.ones((4, 2), "float32")
    values = []
    for step in range(6):
        gan.d_optimizer.iterations.assign(step)
        values.append(float(gan.d_terms[0].loss(keras_gan.terms.DStep(gan, real, real, None))))
    # weight 2 * R1 12.5 = 25, times 3 every third D update, else 0.
    np.testing.assert_allclose(values, [75.0, 0, 0, 75.0, 0, 0], rtol=1e-5)


def _critic_gradient_norms(penalty):
    """Mean and spread of a WGAN critic's gradient norm at interpolates, after training on the ring.

    Both runs start from the same critic, its logits scaled up 8x, so its
    gradient norms start far above 1: the penalty must bring them down.
    """
    keras.utils.set_random_seed(0)
    critic = keras_gan.networks.toy_discriminator(2, units=(32, 32))
    kernel, bias = critic.get_layer("logits").get_weights()
    critic.get_layer("logits").set_weights([8 * kernel, bias])
    gan = keras_gan.GAN(keras_gan.networks.toy_generator(4, 2, units=(32,)), critic, seed=0)
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5),
                loss="wasserstein", d_steps=2, penalties=[penalties.GradientPenalty(10.0)] if penalty else None)
    history = gan.fit(keras_gan.data.ring_2d(n=2048, batch_size=128), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))
    real = keras_gan.data.mixture_samples(keras_gan.data.ring_modes(), 0.01, 512, seed=3)
    fake = gan.generate(512, seed=0)
    u = np.random.default_rng(0).uniform(size=(512, 1)).astype("float32")
    x = tf.constant(u * real + (1 - u) * fake)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reduce_sum(gan.discriminator(x))
    return np.linalg.norm(tape.gradient(out, x).numpy(), axis=1).mean()


def test_wgan_gp_critic_gradient_norm_ends_near_one_and_without_the_penalty_does_not():
    """WGAN-GP on the ring: the critic's gradient norm at interpolates ends near 1; the control's stays far."""
    assert 0.5 < _critic_gradient_norms(penalty=True) < 1.5
    assert _critic_gradient_norms(penalty=False) > 3.0


def test_penalties_augmentation_and_ema_compile_together_under_xla():
    # One XLA compile for all stabilisers: XLA compiles cost ~10 s each on 2 cores.
    images = np.random.default_rng(0).uniform(-1, 1, size=(32, 8, 8, 1)).astype("float32")
    gan = keras_gan.GAN(keras_gan.networks.mlp_generator(4, (8, 8, 1), units=(16,)),
                        keras_gan.networks.mlp_discriminator((8, 8, 1), units=(16,)), seed=0,
                        ema_decay=0.5, augment="translation,cutout,color")
    gan.compile("adam", "adam", loss="wasserstein", jit_compile=True,
                penalties=[penalties.GradientPenalty(10.0), penalties.R1(0.1, interval=2)])
    history = gan.fit(images, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_penalty"][0]) and history.history["d_penalty"][0] > 0
    assert not np.allclose(gan.ema_generator.get_weights()[0], gan.generator.get_weights()[0])


def test_penalties_round_trip_through_save_and_load(tmp_path):
    gan = keras_gan.GAN(keras_gan.networks.toy_generator(4, 2), keras_gan.networks.toy_discriminator(2), seed=0)
    gan.compile("adam", "adam", loss="wasserstein",
                penalties=["gp", penalties.R1(weight=0.5, interval=16)])
    gan.fit(keras_gan.data.ring_2d(n=128, batch_size=64), epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert [p.get_config() for p in restored.penalties] == [p.get_config() for p in gan.penalties]
    assert [type(p) for p in restored.penalties] == [penalties.GradientPenalty, penalties.R1]
    assert int(restored.d_optimizer.iterations.numpy()) == 2


def test_bad_penalty_arguments_are_named():
    with pytest.raises(ValueError, match="argument `weight`.*Received: weight=-1"):
        penalties.R1(weight=-1)
    with pytest.raises(ValueError, match="argument `weight`: expected a non-negative float. Received: weight=inf"):
        penalties.GradientPenalty(weight=float("inf"))
    with pytest.raises(ValueError, match="argument `interval`.*Received: interval=0"):
        penalties.GradientPenalty(interval=0)
    with pytest.raises(ValueError, match="argument `penalties`"):
        penalties.get("l2")


DISTRIBUTED = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, keras_gan
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    # One GAN with every replica-sensitive part: penalties (replica seeds), the
    # EMA (cross-replica assign), DiffAugment (replica seeds), labels.
    images = np.random.default_rng(0).uniform(-1, 1, size=(32, 8, 8, 1)).astype("float32")
    labels = (np.arange(32) % 3).astype("int32")
    with strategy.scope():
        nets = keras_gan.networks
        gan = keras_gan.GAN(nets.conditional_generator("mlp", 4, (8, 8, 1), 3, units=(16,)),
                            nets.conditional_discriminator("mlp", (8, 8, 1), 3, units=(16,)),
                            num_classes=3, seed=0, ema_decay=0.9, augment="translation,cutout,color")
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="wasserstein",
                    penalties=[keras_gan.penalties.GradientPenalty(), keras_gan.penalties.R1(1.0, interval=2)])
    h = gan.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(16), epochs=1, verbose=0)
    assert np.isfinite(h.history["d_penalty"][0]) and h.history["d_penalty"][0] > 0, h.history
    g = gan.generator.get_weights()
    e = gan.ema_generator.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(g, e)), "EMA did not lag G"
    for w in gan.ema_generator.weights:  # both replicas hold the same EMA
        first, second = (c.numpy() for c in w.value.values)
        np.testing.assert_array_equal(first, second)
    assert int(gan.d_optimizer.iterations.numpy()) == 2
    assert gan.generate(3, labels=[0, 1, 2], seed=0).shape == (3, 8, 8, 1)
    print("DISTRIBUTED_OK")
""")


def test_stabilisers_and_conditional_training_work_under_mirrored_strategy():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True,
                            timeout=240, env=env)
    assert "DISTRIBUTED_OK" in result.stdout, result.stderr[-3000:]
