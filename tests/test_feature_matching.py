"""Feature matching: the term's math, its gradient in the G phase, phase isolation, saving, errors."""

import numpy as np
import pytest
import tensorflow as tf
import keras
from keras import layers

import keras_gan
from keras_gan import networks
from keras_gan.feature_matching import feature_matching_loss, with_features

from _nets import SubclassedDiscriminator, bn_discriminator, bn_generator

W1 = np.array([[0.5, -1.0, 2.0]], "float32")  # D's hidden layer: f(x) = x W1 + B1 (linear)
B1 = np.array([0.1, 0.2, -0.3], "float32")
V = np.array([[0.3], [-0.4], [0.2]], "float32")  # D's logits layer: f V + B
B = 0.05


def _linear_gan(c, weight, g_lr=0.0, loss="non_saturating"):
    """G always outputs `c` (zero kernel); D = linear features then linear logits, known weights."""
    z = keras.Input((2,))
    g = keras.Model(z, layers.Dense(1, kernel_initializer="zeros",
                                    bias_initializer=keras.initializers.Constant(c))(z))
    x = keras.Input((1,))
    f = layers.Dense(3, kernel_initializer=keras.initializers.Constant(W1),
                     bias_initializer=keras.initializers.Constant(B1))(x)
    d = keras.Model(x, layers.Dense(1, kernel_initializer=keras.initializers.Constant(V),
                                    bias_initializer=keras.initializers.Constant(B))(f))
    gan = keras_gan.GAN(g, d, seed=0)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(g_lr), loss=loss,
                feature_matching_weight=weight)
    return gan


def test_loss_is_the_squared_distance_between_the_batch_means():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(5, 2, 3)), rng.normal(size=(4, 2, 3))
    expected = np.sum((real.mean(0) - fake.mean(0)) ** 2)
    assert float(feature_matching_loss(real, fake)) == pytest.approx(expected, rel=1e-5)
    assert float(feature_matching_loss(real, real[::-1])) == pytest.approx(0.0, abs=1e-6)


def test_only_the_fakes_get_a_gradient():
    real = tf.constant(np.random.default_rng(1).normal(size=(6, 4)), "float32")
    fake = tf.constant(np.random.default_rng(2).normal(size=(3, 4)), "float32")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        loss = feature_matching_loss(real, fake)
    assert tape.gradient(loss, real) is None or np.all(tape.gradient(loss, real).numpy() == 0)
    expected = 2 * (fake.numpy().mean(0) - real.numpy().mean(0)) / 3
    np.testing.assert_allclose(tape.gradient(loss, fake).numpy(), np.tile(expected, (3, 1)), rtol=1e-5)


def test_a_conditional_d_gives_the_features_its_body_s_logits_read():
    d = networks.conditional_discriminator("toy", (2,), 3, units=(8, 6))
    x, label = np.random.default_rng(0).normal(size=(4, 2)).astype("float32"), np.arange(4) % 3
    logits, features = with_features(d)([x, label])
    np.testing.assert_allclose(logits, d([x, label]), rtol=1e-5, atol=1e-6)
    assert features.shape == (4, 6)
    np.testing.assert_allclose(d.layers[-1].layers[-1](features), logits, rtol=1e-5, atol=1e-6)


def test_with_features_returns_d_logits_and_what_its_last_layer_reads():
    d = networks.dcgan_discriminator((8, 8, 1), filters=8, minibatch_stddev=True)
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")
    logits, features = with_features(d)(x)
    np.testing.assert_allclose(logits, d(x), rtol=1e-5, atol=1e-6)
    assert features.shape == (4, d.layers[-1].input.shape[-1])
    head = d.layers[-1]
    np.testing.assert_allclose(head(features), logits, rtol=1e-5, atol=1e-6)


def test_logged_value_is_the_hand_computed_term():
    c, x = 1.5, np.array([[-1.0], [0.0], [0.5], [2.0]], "float32")
    gan = _linear_gan(c, weight=0.3)
    logs = gan.evaluate(x, batch_size=4, verbose=0, return_dict=True)
    # Linear features: mean f(real) - f(fake) = (mean x - c) W1.
    expected = float(np.sum(((x.mean() - c) * W1) ** 2))
    assert logs["feature_matching"] == pytest.approx(expected, rel=1e-5)
    train_logs = gan.train_on_batch(x, return_dict=True)  # learning rates 0: the same D and G
    assert train_logs["feature_matching"] == pytest.approx(expected, rel=1e-5)
    assert "feature_matching" not in _linear_gan(c, weight=0.0).evaluate(x, verbose=0, return_dict=True)


@pytest.mark.parametrize("weight", [0.0, 0.7])
def test_a_g_update_descends_adversarial_plus_weight_times_matching(weight):
    c, lr, x = 1.5, 0.1, np.array([[-1.0], [0.0], [0.5], [2.0]], "float32")
    gan = _linear_gan(c, weight, g_lr=lr)
    gan.train_on_batch(x)
    logit = float(((c * W1 + B1) @ V)[0, 0] + B)
    d_adversarial = -(1 / (1 + np.exp(logit))) * float((W1 @ V)[0, 0])  # d softplus(-l(c)) / dc
    d_matching = -2 * float(np.sum(W1 ** 2)) * (x.mean() - c)
    new_c = float(gan.generator.layers[-1].bias.numpy()[0])
    assert new_c == pytest.approx(c - lr * (d_adversarial + weight * d_matching), rel=1e-5)


def test_g_phase_with_feature_matching_changes_no_d_variable_batchnorm_included():
    gan = keras_gan.GAN(bn_generator(), bn_discriminator(), seed=0)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.Adam(1e-2), feature_matching_weight=1.0)
    before = [v.numpy().copy() for v in gan.discriminator.weights]
    g_before = [v.numpy().copy() for v in gan.generator.trainable_weights]
    x = tf.constant(np.random.default_rng(0).normal(size=(32, 2)), "float32")
    tf.function(gan._g_step)(x)  # the G phase alone (a D phase moves D's BatchNorm statistics)
    assert any(isinstance(l, layers.BatchNormalization) for l in gan.discriminator.layers)
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(before, gan.discriminator.weights))
    assert gan.discriminator.trainable
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(g_before, gan.generator.trainable_weights))


@pytest.mark.parametrize("kwargs, compile_kwargs", [
    (dict(pack=2), {}),
    (dict(num_classes=3), {}),
    ({}, dict(loss="relativistic_average", reuse_fakes=True)),
])
def test_feature_matching_trains_with_packing_labels_and_a_relativistic_loss(kwargs, compile_kwargs):
    nets = networks
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(64, 2)) * 0.5 + 2.0).astype("float32")  # far from G's first samples
    if "num_classes" in kwargs:
        make = lambda: (nets.conditional_generator("toy", 4, (2,), 3, units=(16,)),  # noqa: E731
                        nets.conditional_discriminator("toy", (2,), 3, units=(16,)))
        data = (x, np.arange(64) % 3)
    else:
        make = lambda: (nets.toy_generator(4, 2, units=(16,)),  # noqa: E731
                        nets.packed_discriminator("toy", (2,), pack=2, units=(16,)) if "pack" in kwargs
                        else nets.toy_discriminator(2, units=(16,)))
        data = (x,)
    left = {}
    for weight in (0.0, 10.0):
        keras.utils.set_random_seed(0)
        g, d = make()
        gan = keras_gan.GAN(g, d, seed=0, **kwargs)
        # D fixed (lr 0): its features are a fixed yardstick; only G learns.
        gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.Adam(1e-2), feature_matching_weight=weight,
                    **compile_kwargs)
        history = gan.fit(*data, batch_size=16, epochs=8, verbose=0).history
        assert np.all(np.isfinite(history["g_loss"]))
        if weight:
            assert np.all(np.isfinite(history["feature_matching"]))
            left[weight] = history["feature_matching"][-1] / history["feature_matching"][0]
        # The matching term, measured the same way for both runs: D's features of real vs generated.
        fake = gan.generate(64, seed=1, **({"labels": data[1]} if len(data) > 1 else {}))
        left.setdefault("gap", {})[weight] = float(np.sum((x.mean(0) - fake.mean(0)) ** 2))
    # With the term, G closes the gap in D's features (and the sample means) far more than without.
    assert left[10.0] < 0.3, left
    assert left["gap"][10.0] < 0.5 * left["gap"][0.0], left


def test_the_weight_survives_save_and_load(tmp_path):
    gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(8,)), networks.toy_discriminator(2, units=(8,)), seed=0)
    gan.compile("adam", "adam", feature_matching_weight=0.25)
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    gan.fit(x, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras_gan.load_gan(path)
    assert loaded.feature_matching_weight == 0.25
    for a, b in zip(gan.discriminator.weights + gan.generator.weights,
                    loaded.discriminator.weights + loaded.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert "feature_matching" in loaded.fit(x, batch_size=16, epochs=1, verbose=0).history


@pytest.mark.parametrize("weight, d, match", [
    (-1.0, None, "feature_matching_weight"),
    ("x", None, "feature_matching_weight"),
    (1.0, "subclassed", "feature_matching_weight.*functional or Sequential discriminator.*SubclassedDiscriminator"),
    (1.0, "two_outputs", "feature_matching_weight.*with one output.*two_heads"),
])
def test_bad_feature_matching_is_named(weight, d, match):
    if d == "subclassed":
        d = SubclassedDiscriminator()
        d(np.zeros((1, 2), "float32"))
    elif d == "two_outputs":
        x = keras.Input((2,))
        d = keras.Model(x, [layers.Dense(1)(x), layers.Dense(1)(x)], name="two_heads")
    gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(8,)), d or networks.toy_discriminator(2, units=(8,)))
    with pytest.raises(ValueError, match=match):
        gan.compile("adam", "adam", feature_matching_weight=weight)
