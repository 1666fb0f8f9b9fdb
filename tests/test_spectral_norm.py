"""SpectralNorm: the math (sigma, output, gradient), what it writes when, and D in a GAN."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import networks
from keras_gan.layers import SpectralNorm


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _top_singular_value(kernel):
    kernel = np.asarray(kernel)
    return np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]


INNER = {
    "dense": (lambda: keras.layers.Dense(7, activation="tanh"), (5, 11)),
    "conv2d": (lambda: keras.layers.Conv2D(6, 3, strides=2, padding="same"), (2, 8, 8, 4)),
    "conv1d_causal": (lambda: keras.layers.Conv1D(5, 3, padding="causal", dilation_rate=2), (3, 9, 4)),
}


@pytest.mark.parametrize("kind", sorted(INNER))
def test_normalized_kernel_has_spectral_norm_one(kind):
    make, shape = INNER[kind]
    layer = SpectralNorm(make())
    x = _x(shape)
    layer(x)
    # Built: 15 power iterations on the initial kernel already.
    assert _top_singular_value(layer.normalized_kernel()) == pytest.approx(1.0, abs=2e-3)
    # Move the kernel far from where u and v converged; training calls follow it.
    layer.layer.kernel.assign(_x(layer.layer.kernel.shape, seed=1) * 3.0)
    assert _top_singular_value(layer.layer.kernel) > 5.0
    for _ in range(30):
        layer(x, training=True)
    assert _top_singular_value(layer.normalized_kernel()) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("kind", sorted(INNER))
def test_output_is_the_layer_computed_with_the_normalized_kernel(kind):
    make, shape = INNER[kind]
    layer, reference = SpectralNorm(make()), make()
    x = _x(shape)
    layer(x)
    reference(x)
    reference.bias.assign(_x(reference.bias.shape, seed=2))
    layer.layer.bias.assign(reference.bias)
    # Scaled: u, v stay the top singular pair, and the raw kernel is far from
    # the normalized one, so the check below can fail.
    layer.layer.kernel.assign(layer.layer.kernel * 3.0)
    assert _top_singular_value(layer.layer.kernel) > 2.0
    reference.kernel.assign(layer.normalized_kernel())
    np.testing.assert_allclose(layer(x), reference(x), rtol=1e-5, atol=1e-6)


def test_the_kernel_is_never_written_and_u_v_move_only_in_a_trainable_training_call():
    layer = SpectralNorm(keras.layers.Dense(4))
    x = _x((3, 6))
    layer(x)
    layer.layer.kernel.assign(_x((6, 4), seed=1))  # u, v now lag the kernel

    def state():
        return [np.array(v) for v in (layer.layer.kernel, layer.u, layer.v)]

    start = state()
    layer(x)  # inference
    layer.trainable = False
    layer(x, training=True)  # frozen, as D in the G phase
    for a, b in zip(start, state()):
        np.testing.assert_array_equal(a, b)
    layer.trainable = True
    layer(x, training=True)
    after = state()
    np.testing.assert_array_equal(after[0], start[0])  # the kernel: never
    assert not np.allclose(after[1], start[1]) and not np.allclose(after[2], start[2])


def test_the_gradient_flows_through_sigma():
    # W / sigma(W) is invariant to W's scale (u, v fixed), so the gradient
    # through sigma is orthogonal to W; a gradient that skipped sigma
    # (Keras' SpectralNormalization) would not be.
    layer = SpectralNorm(keras.layers.Conv2D(3, 3))
    x = _x((2, 6, 6, 2))
    layer(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.sin(layer(x, training=True)))
    kernel = layer.layer.kernel
    grad = tape.gradient(loss, kernel)
    assert float(tf.norm(grad)) > 1e-3
    cosine = tf.reduce_sum(grad * kernel) / (tf.norm(grad) * tf.norm(kernel))
    assert abs(float(cosine)) < 1e-5
    with tf.GradientTape() as tape:  # the same loss through the raw kernel: not orthogonal
        loss = tf.reduce_sum(tf.sin(layer.layer(x)))
    grad = tape.gradient(loss, kernel)
    assert abs(float(tf.reduce_sum(grad * kernel) / (tf.norm(grad) * tf.norm(kernel)))) > 1e-3


def test_config_and_saving_round_trip(tmp_path):
    d = networks.dcgan_discriminator((8, 8, 1), filters=4, spectral_norm=True)
    wrapped = [l for l in d.layers if isinstance(l, SpectralNorm)]
    assert len(wrapped) == 3 and wrapped[-1].dtype_policy.name == "float32"
    x = _x((4, 8, 8, 1))
    d(x, training=True)  # moves u, v from their initial values
    path = str(tmp_path / "d.keras")
    d.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(x), d(x), rtol=1e-5, atol=1e-6)
    for a, b in zip(wrapped, [l for l in loaded.layers if isinstance(l, SpectralNorm)]):
        np.testing.assert_array_equal(a.u, b.u)
    config = SpectralNorm(keras.layers.Dense(3), power_iterations=2, epsilon=1e-6).get_config()
    clone = SpectralNorm.from_config(config)
    assert (clone.power_iterations, clone.epsilon, clone.layer.units) == (2, 1e-6, 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(layer=keras.layers.LayerNormalization()), "argument `layer`.*Dense, Conv1D.*Received: layer=<"),
    (dict(layer=keras.layers.Dense(2), power_iterations=0), "argument `power_iterations`.*Received: power_iterations=0"),
    (dict(layer=keras.layers.Dense(2), epsilon=0.0), "argument `epsilon`.*Received: epsilon=0.0"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpectralNorm(**kwargs)


@pytest.mark.parametrize("builder, shape", [
    (lambda: networks.toy_discriminator(2, spectral_norm=True), (2,)),
    (lambda: networks.mlp_discriminator((4, 4, 1), units=(8,), spectral_norm=True), (4, 4, 1)),
    (lambda: networks.patchgan_discriminator((8, 8, 1), filters=4, n_layers=2, norm="none",
                                             spectral_norm=True), (8, 8, 1)),
])
def test_every_kernel_layer_of_a_builder_is_wrapped(builder, shape):
    d = builder()
    kernels = [l for l in d.layers if hasattr(l, "kernel") and not isinstance(l, SpectralNorm)]
    assert kernels == [] and any(isinstance(l, SpectralNorm) for l in d.layers)
    assert keras_gan._internal.per_sample.judges_each_sample_alone(d)


def _sn_gan(d_lr=1e-3):
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.toy_generator(4, 2), networks.toy_discriminator(2, spectral_norm=True), seed=0)
    gan.compile(keras.optimizers.Adam(d_lr), keras.optimizers.Adam(1e-3))
    return gan


def test_in_a_gan_the_g_phase_changes_no_d_variable_and_the_d_phase_only_u_v_at_lr_0():
    gan = _sn_gan(d_lr=0.0)
    assert gan._judge_in_one_call
    real = tf.constant(_x((32, 2)))
    d = gan.discriminator
    before = [np.array(v) for v in d.weights]
    tf.function(gan._g_step)(real)
    for a, v in zip(before, d.weights):
        np.testing.assert_array_equal(a, v)
    tf.function(gan._d_step)(real)
    moved = {v.path for a, v in zip(before, d.weights) if not np.array_equal(a, v)}
    assert moved and all(path.endswith(("/u", "/v")) for path in moved), moved


def test_a_gan_with_a_spectral_norm_d_learns_the_1d_gaussian():
    # The user's 1D GAN with SN on every D layer. Seeds 0-5: mean within
    # 0.1 of 4, std within 0.015 of 1.25. (On the ring, std 0.01 modes, a
    # D of 1-Lipschitz layers learns far slower: SN suits image-scale data.)
    keras.utils.set_random_seed(0)
    d = networks.toy_discriminator(1, minibatch_features="deviation", spectral_norm=True)
    gan = keras_gan.GAN(networks.toy_generator(4, 1), d, seed=0, ema_decay=0.99)
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    gan.fit(keras_gan.data.gaussian_1d(batch_size=128, n=8192, seed=0), epochs=10, verbose=0)
    samples = gan.generate(10000, seed=1)
    assert abs(samples.mean() - 4.0) < 0.2, samples.mean()
    assert abs(samples.std() - 1.25) < 0.15, samples.std()
    for layer in d.layers:
        if isinstance(layer, SpectralNorm):  # each layer stayed 1-Lipschitz through training
            assert _top_singular_value(layer.normalized_kernel()) == pytest.approx(1.0, abs=0.02)


def test_mixed_float16_runs_the_power_method_in_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        d = networks.toy_discriminator(2, units=(8,), spectral_norm=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    hidden = d.layers[1]
    assert isinstance(hidden, SpectralNorm) and hidden.compute_dtype == "float16"
    assert hidden.u.dtype == "float32" and hidden.layer.kernel.dtype == "float32"
    out = d(_x((4, 2)), training=True)
    assert out.dtype == "float32" and np.isfinite(np.asarray(out)).all()
    assert hidden.normalized_kernel().dtype == "float32"
    assert _top_singular_value(hidden.normalized_kernel()) == pytest.approx(1.0, abs=1e-4)
