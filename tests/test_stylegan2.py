"""StyleGAN2 networks, path length regularization and truncation (keras_gan.networks.stylegan2)."""

import math

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import networks
from keras_gan.components.path_length import PathLength
from keras_gan.networks import stylegan2
from keras_gan._internal import random as _random

SMALL = dict(latent_dim=8, w_dim=8, mapping_layers=2, channel_base=64, channel_max=8)


def _generator(resolution=8, channels=1, **kwargs):
    return networks.stylegan2_generator(resolution, channels, **{**SMALL, "seed": 3, **kwargs})


def _gan(resolution=8, channels=1, **kwargs):
    g = _generator(resolution, channels)
    d = networks.stylegan2_discriminator(resolution, channels, channel_base=64, channel_max=8)
    return keras_gan.GAN(g, d, seed=0, **kwargs)


def _conv_same(x, w):
    """Explicit 'same' 2D convolution (cross-correlation, as tf.nn.conv2d) of one image."""
    h, wd, _ = x.shape
    kh, kw, _, cout = w.shape
    pad = np.pad(x, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = np.zeros((h, wd, cout))
    for i in range(h):
        for j in range(wd):
            out[i, j] = np.einsum("abc,abco->o", pad[i:i + kh, j:j + kw], w)
    return out


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_per_sample_convolution_with_modulated_demodulated_weights(fused, demodulate):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 6, 4)).astype("float32")
    weight = rng.normal(size=(3, 3, 4, 2)).astype("float32")
    styles = rng.uniform(0.2, 2.0, size=(3, 4)).astype("float32")
    y = stylegan2.modulated_conv2d(x, weight, styles, demodulate=demodulate, fused=fused).numpy()
    for b in range(3):
        w = weight.astype("float64") * styles[b][None, None, :, None]
        if demodulate:
            w = w / np.sqrt((w ** 2).sum(axis=(0, 1, 2)) + 1e-8)
        np.testing.assert_allclose(y[b], _conv_same(x[b].astype("float64"), w), rtol=1e-4, atol=1e-4)


def test_demodulation_gives_unit_output_variance_for_unit_input_variance():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 16, 16, 64)).astype("float32")
    weight = rng.normal(size=(3, 3, 64, 32)).astype("float32")
    styles = rng.uniform(0.5, 3.0, size=(8, 64)).astype("float32")
    inner = (slice(None), slice(1, -1), slice(1, -1))  # zero padding lowers the border's variance
    y = stylegan2.modulated_conv2d(x, weight, styles, demodulate=True).numpy()[inner]
    assert abs(y.std() - 1.0) < 0.05
    # Without demodulation the same styles scale the output far from unit variance.
    y = stylegan2.modulated_conv2d(x, weight, styles, demodulate=False).numpy()[inner]
    assert y.std() > 10.0


def test_mapping_layers_use_the_lr_multiplier():
    layer = stylegan2.EqualizedDense(256, lr_multiplier=0.01, bias_init=0.5, activation="linear")
    x = np.random.default_rng(2).normal(size=(4, 128)).astype("float32")
    y = layer(x).numpy()
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    # Stored N(0, 1/lr_multiplier), used as kernel * lr_multiplier / sqrt(fan_in), bias * lr_multiplier.
    assert abs(kernel.std() - 100.0) < 5.0
    np.testing.assert_allclose(y, x @ (kernel * 0.01 / math.sqrt(128)) + bias * 0.01, rtol=1e-4, atol=1e-4)
    # The gradient reaching the stored kernel is scaled by the same factor.
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(x))
    grad = tape.gradient(total, layer.kernel).numpy()
    np.testing.assert_allclose(grad, np.repeat(x.sum(0)[:, None], 256, 1) * 0.01 / math.sqrt(128), rtol=1e-4)
    g = _generator(mapping_layers=3)
    mapping = [l for l in g.mapping.layers if isinstance(l, stylegan2.EqualizedDense)]
    assert len(mapping) == 3 and all(l.lr_multiplier == 0.01 for l in mapping)


def test_minibatch_std_appends_each_groups_standard_deviation():
    x = np.random.default_rng(3).normal(size=(8, 2, 2, 4)).astype("float32")
    y = stylegan2.MinibatchStd(group_size=4)(x).numpy()
    assert y.shape == (8, 2, 2, 5)
    np.testing.assert_array_equal(y[..., :4], x)
    for i in range(8):
        group = x[[j for j in range(8) if j % 2 == i % 2]]  # the official reshape's groups
        expected = np.sqrt(group.var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(y[i, ..., 4], expected, rtol=1e-5)


def test_generator_shapes_and_number_of_ws():
    g = _generator(16, 3)
    images = g(tf.random.normal((2, 8)))
    assert images.shape == (2, 16, 16, 3) and images.dtype == tf.float32
    assert g.num_ws == 6  # 2 * log2(16) - 2
    d = networks.stylegan2_discriminator(16, 3, channel_base=64, channel_max=8)
    logits = d(images)
    assert logits.shape == (2, 1) and logits.dtype == tf.float32


@pytest.mark.parametrize("resolution", [24, 4, 2048, "32", True])
def test_refuses_resolutions_that_are_not_powers_of_two_from_8_to_1024(resolution):
    with pytest.raises(ValueError, match="argument `resolution`"):
        networks.stylegan2_generator(resolution, **SMALL)
    with pytest.raises(ValueError, match="argument `resolution`"):
        networks.stylegan2_discriminator(resolution)


def test_network_table_builds_stylegan2_for_square_images_only():
    g = networks.generator("stylegan2", 8, (32, 32, 3), channel_base=128, channel_max=8)
    d = networks.discriminator("stylegan2", (32, 32, 3), channel_base=128, channel_max=8)
    assert g.output_shape == (None, 32, 32, 3) and g.w_dim == 8 and d.output_shape == (None, 1)
    with pytest.raises(ValueError, match="square images"):
        networks.generator("stylegan2", 8, (32, 16, 3))


def test_inference_uses_constant_noise_and_training_draws_random_noise():
    g = _generator()
    for layer in g.synthesis.convs:
        layer.noise_strength.assign(1.0)
    z = tf.random.normal((2, 8))
    np.testing.assert_array_equal(g(z).numpy(), g(z).numpy())
    assert np.abs(g(z, noise_mode="random").numpy() - g(z, noise_mode="random").numpy()).max() > 1e-3
    with pytest.raises(ValueError, match="argument `noise_mode`"):
        g(z, noise_mode="fixed")


def test_training_calls_move_w_avg_towards_the_batch_mean_of_w():
    g = _generator(w_avg_beta=0.9, style_mixing_prob=0.0)
    z = tf.random.normal((16, 8))
    w = g.mapping(z).numpy()
    g(z)  # inference: no update
    np.testing.assert_array_equal(g.w_avg.numpy(), 0.0)
    g(z, training=True)
    np.testing.assert_allclose(g.w_avg.numpy(), 0.1 * w.mean(0), rtol=1e-5, atol=1e-7)


def test_style_mixing_takes_a_second_w_from_a_random_layer_on():
    z = tf.random.normal((4, 8))
    mixed = _generator(style_mixing_prob=1.0)
    w = mixed.mapping(z).numpy()
    for _ in range(3):
        ws = mixed.compute_ws(z, training=True).numpy()
        np.testing.assert_allclose(ws[:, 0], w, rtol=1e-6)  # the first layer always keeps w
        assert np.abs(ws[:, -1] - w).max() > 1e-3          # the cutoff is below num_ws
        cutoff = next(i for i in range(mixed.num_ws) if np.abs(ws[:, i] - w).max() > 1e-6)
        np.testing.assert_allclose(ws[:, cutoff:], np.repeat(ws[:, -1:], mixed.num_ws - cutoff, 1))
    plain = _generator(style_mixing_prob=0.0)
    ws = plain.compute_ws(z, training=True).numpy()
    np.testing.assert_allclose(ws, np.repeat(plain.mapping(z).numpy()[:, None], plain.num_ws, 1), rtol=1e-6)


def test_truncation_psi_0_gives_the_average_image_and_psi_1_no_truncation():
    gan = _gan()
    g = gan.generator
    g.w_avg.assign(tf.random.normal((8,), seed=1))
    for layer in g.synthesis.convs:
        layer.noise_strength.assign(0.5)
    average = g.synthesize(tf.repeat(g.w_avg[None, None], g.num_ws, axis=1)).numpy()[0]
    images = gan.generate(4, seed=5, truncation=0.0)
    for image in images:
        np.testing.assert_allclose(image, average, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gan.generate(4, seed=5, truncation=1.0), gan.generate(4, seed=5), rtol=1e-5, atol=1e-6)
    assert np.abs(gan.generate(4, seed=5, truncation=0.5) - gan.generate(4, seed=5)).max() > 1e-4


def test_networks_without_a_mapping_network_refuse_truncation():
    gan = keras_gan.GAN(networks.dcgan_generator(8, (8, 8, 1), filters=8),
                        networks.dcgan_discriminator((8, 8, 1), filters=8))
    with pytest.raises(ValueError, match="argument `truncation`.*mapping network"):
        gan.generate(2, seed=0, truncation=0.7)
    with pytest.raises(ValueError, match="argument `truncation`"):
        _gan().generate(2, seed=0, truncation="strong")


def test_exported_truncation_signature_equals_generate(tmp_path):
    gan = _gan()
    gan.generator.w_avg.assign(tf.random.normal((8,), seed=2))
    path = keras_gan.export_generator(gan, str(tmp_path / "sg"))
    loaded = tf.saved_model.load(path)
    seeds = [3, 11, 2**40]
    out = loaded.signatures["generate_truncated"](
        seeds=tf.constant(seeds, tf.int64), truncation=tf.constant([0.6]))["images"].numpy()
    expected = np.concatenate([gan.generate(1, seed=s, truncation=0.6) for s in seeds])
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    per_seed = loaded.signatures["generate_truncated"](
        seeds=tf.constant(seeds[:2], tf.int64), truncation=tf.constant([0.6, 1.0]))["images"].numpy()
    np.testing.assert_allclose(per_seed[0], expected[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(per_seed[1], gan.generate(1, seed=seeds[1])[0], rtol=1e-4, atol=1e-5)
    served = keras_gan.load_generator(str(tmp_path / "sg"))
    np.testing.assert_allclose(served.from_seeds(seeds, truncation=0.6), expected, rtol=1e-4, atol=1e-5)
    dcgan = keras_gan.GAN(networks.dcgan_generator(8, (8, 8, 1), filters=8),
                          networks.dcgan_discriminator((8, 8, 1), filters=8))
    keras_gan.export_generator(dcgan, str(tmp_path / "dc"))
    with pytest.raises(ValueError, match="no `generate_truncated`"):
        keras_gan.load_generator(str(tmp_path / "dc")).from_seeds([1], truncation=0.5)


def test_saving_keeps_w_avg_noise_strengths_constant_noise_and_seeds(tmp_path):
    gan = _gan(ema_decay=0.9)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    g = gan.generator
    g.w_avg.assign(tf.random.normal((8,), seed=4))
    for i, layer in enumerate(g.synthesis.convs):
        layer.noise_strength.assign(0.1 * (i + 1))
    g.seed_generator.next()
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    h = loaded.generator
    np.testing.assert_array_equal(h.w_avg.numpy(), g.w_avg.numpy())
    for a, b in zip(h.synthesis.convs, g.synthesis.convs):
        assert float(a.noise_strength) == float(b.noise_strength)
        np.testing.assert_array_equal(a.noise_const.numpy(), b.noise_const.numpy())
    np.testing.assert_array_equal(h.seed_generator.state.numpy(), g.seed_generator.state.numpy())
    np.testing.assert_array_equal(loaded.generate(3, seed=1, truncation=0.7), gan.generate(3, seed=1, truncation=0.7))
    assert h.get_config() == g.get_config()


def test_a_stylegan2_gan_trains_and_its_generator_updates_w_avg():
    gan = _gan(augment=keras_gan.augment.Adaptive(interval=1))
    gan.compile(keras.optimizers.Adam(2e-3, 0.0, 0.99), keras.optimizers.Adam(2e-3, 0.0, 0.99),
                penalties=[keras_gan.penalties.R1(0.1, interval=4)])
    before = [w.numpy() for w in gan.generator.trainable_weights]
    x = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    logs = gan.fit(x, batch_size=8, epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][0]) and np.isfinite(logs["g_loss"][0]) and "augment_p" in logs
    assert np.abs(gan.generator.w_avg.numpy()).max() > 0
    after = gan.generator.trainable_weights
    assert all(np.abs(a.numpy() - b).max() > 0 for a, b in zip(after, before) if "fc" in a.path)


def test_lazy_regularization_folds_into_the_regular_updates_so_adam_keeps_its_settings():
    # The official code gives each lazy regularization pass an optimizer step of
    # its own and rescales lr and the betas by k / (k + 1) for it; here the
    # scaled penalty joins every k-th regular update (docs/stylegan2.md), so the
    # optimizers take one step per batch with the settings passed.
    gan = _gan()
    gan.compile(keras.optimizers.Adam(2e-3, 0.0, 0.99), keras.optimizers.Adam(2e-3, 0.0, 0.99),
                penalties=[keras_gan.penalties.R1(0.1, interval=2)], terms=[PathLength(interval=2)])
    x = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
    logs = gan.fit(x, batch_size=8, epochs=1, verbose=0).history
    assert logs["d_penalty"][0] > 0 and logs["path_length"][0] > 0  # both regularized this epoch
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert int(optimizer.iterations.numpy()) == 4
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(2e-3)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.99)


# ----------------------------------------------------------- path length
class _LinearTanhGenerator:
    """ws (b, 2, 3) -> tanh of a fixed linear map -> images (b, 4, 4, 1): a Jacobian to check by hand."""

    def __init__(self):
        self.matrix = tf.Variable(np.random.default_rng(5).normal(size=(6, 16)).astype("float32"))

    def compute_ws(self, z, training=False):
        return tf.reshape(z, (-1, 2, 3))

    def synthesize(self, ws, training=False):
        return tf.reshape(tf.tanh(tf.reshape(ws, (-1, 6)) @ self.matrix), (-1, 4, 4, 1))


def test_path_length_is_the_norm_of_the_jacobian_transpose_times_scaled_noise():
    g = _LinearTanhGenerator()
    z = np.random.default_rng(6).normal(size=(4, 6)).astype("float32")
    seed = tf.constant([7, 8])
    pl = PathLength(weight=2.0, decay=0.1, batch_shrink=2)
    pl.pl_mean.assign(0.3)
    penalty = float(pl(g, tf.constant(z), seed))
    # By hand, on the first batch // batch_shrink = 2 samples.
    u = _random.normal(tf.constant([2, 4, 4, 1]), seed).numpy().reshape(2, 16) / 4.0  # sqrt(H * W) = 4
    m = g.matrix.numpy()
    lengths = []
    for b in range(2):
        s = z[b] @ m
        jacobian = (1 - np.tanh(s) ** 2)[:, None] * m.T        # d image / d ws, (16, 6)
        jtu = (jacobian.T @ u[b]).reshape(2, 3)                  # per w
        lengths.append(np.sqrt((jtu ** 2).sum(axis=1).mean()))
    lengths = np.array(lengths)
    mean = 0.3 + 0.1 * (lengths.mean() - 0.3)
    np.testing.assert_allclose(float(pl.pl_mean), mean, rtol=1e-5)
    np.testing.assert_allclose(penalty, ((lengths - mean) ** 2).mean(), rtol=1e-4)


def test_path_length_penalty_has_gradients_for_g_and_moves_pl_mean_only_when_due():
    g = _generator()
    pl = PathLength()
    z = tf.random.normal((4, 8))
    with tf.GradientTape() as tape:
        penalty = pl(g, z, tf.constant([0, 1]), due=tf.constant(False))
    assert float(pl.pl_mean) == 0.0
    grads = tape.gradient(penalty, g.trainable_weights)
    assert sum(float(tf.reduce_sum(tf.abs(x))) for x in grads if x is not None) > 0
    pl(g, z, tf.constant([0, 1]), due=tf.constant(True))
    assert float(pl.pl_mean) > 0.0
    clone = PathLength.from_config(pl.get_config())
    assert (clone.weight, clone.interval, clone.decay, clone.batch_shrink) == (2.0, 4, 0.01, 2)
    with pytest.raises(ValueError, match="argument `interval`"):
        PathLength(interval=0)


def test_mixed_float16_keeps_mapping_styles_and_outputs_float32():
    z = tf.random.normal((2, 8), seed=9)
    reference = _generator()
    d32 = networks.stylegan2_discriminator(8, 1, channel_base=64, channel_max=8)
    keras.mixed_precision.set_global_policy("mixed_float16")
    g = _generator()
    d = networks.stylegan2_discriminator(8, 1, channel_base=64, channel_max=8)
    g.set_weights(reference.get_weights())
    d.set_weights(d32.get_weights())
    assert g.conv_clamp == 256.0 and g.w_avg.dtype == "float32"
    assert all(l.compute_dtype == "float32" for l in g.mapping.layers[1:])  # after the InputLayer
    assert g.synthesis.convs[0].compute_dtype == "float16"
    images = g(z)
    assert images.dtype == tf.float32 and d(images).dtype == tf.float32
    np.testing.assert_allclose(images.numpy(), reference(z).numpy(), atol=0.05)
    np.testing.assert_allclose(d(images).numpy(), d32(images).numpy(), atol=0.05)
