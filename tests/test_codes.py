"""InfoGAN categorical codes: the code of z, the layer, and GAN(code_classifier=...)."""

from statistics import NormalDist

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import codes, data, networks

from _nets import bn_discriminator


def info_gan(categories=4, latent_dim=6, info_weight=1.0, pack=1, ema_decay=None, lr=1e-3, **compile_kwargs):
    keras.utils.set_random_seed(0)
    g = networks.toy_generator(latent_dim, 2, units=(32, 32), categories=categories)
    d = (networks.packed_discriminator("toy", (2,), pack=pack, units=(32, 32)) if pack > 1
         else networks.toy_discriminator(2, units=(32, 32)))
    q = networks.toy_code_classifier(2, categories, units=(32, 32))
    gan = keras_gan.GAN(g, d, seed=0, pack=pack, ema_decay=ema_decay, code_classifier=q, info_weight=info_weight)
    gan.compile(keras.optimizers.Adam(lr, beta_1=0.5), keras.optimizers.Adam(lr, beta_1=0.5), **compile_kwargs)
    return gan


def snapshot(model):
    return [v.numpy().copy() for v in model.weights]


def identical(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def ring(n=512, seed=0):
    return data.mixture_samples(data.ring_modes(), 0.01, n, seed=seed)


# ------------------------------------------------------------------ the code
@pytest.mark.parametrize("categories", [2, 5, 8])
def test_codes_are_equiprobable_bins_of_the_first_latent_value(categories):
    z = np.random.default_rng(0).normal(size=(200_000, 3)).astype("float32")
    code = codes.categorical_code(z, categories).numpy()
    assert code.dtype == np.int32 and code.min() == 0 and code.max() == categories - 1
    freq = np.bincount(code, minlength=categories) / len(code)
    np.testing.assert_allclose(freq, 1.0 / categories, atol=0.005)
    # Bin j is [Phi^-1(j/K), Phi^-1((j+1)/K)) of z[:, 0]; the other values play no part.
    edges = [NormalDist().inv_cdf(j / categories) for j in range(1, categories)]
    probe = np.array([[e + d, 9.0, -9.0] for e in edges for d in (-1e-3, 1e-3)], "float32")
    expected = [j + side for j in range(categories - 1) for side in (0, 1)]
    np.testing.assert_array_equal(codes.categorical_code(probe, categories).numpy(), expected)
    extremes = np.array([[-50.0, 0.0, 0.0], [50.0, 0.0, 0.0]], "float32")  # Phi rounds to 0 and 1
    np.testing.assert_array_equal(codes.categorical_code(extremes, categories).numpy(), [0, categories - 1])


def test_the_layer_is_the_one_hot_code_then_the_rest_of_z():
    z = np.random.default_rng(1).normal(size=(64, 5)).astype("float32")
    out = codes.CategoricalCode(3)(z).numpy()
    assert out.shape == (64, 3 + 4)
    np.testing.assert_array_equal(out[:, :3], np.eye(3)[codes.categorical_code(z, 3).numpy()])
    np.testing.assert_array_equal(out[:, 3:], z[:, 1:])
    layer = codes.CategoricalCode.from_config(codes.CategoricalCode(3, name="c").get_config())
    assert layer.categories == 3 and layer.name == "c"


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "8", None])
def test_bad_categories_are_named(bad):
    with pytest.raises(ValueError, match=r"`categories`: expected an int >= 2.*Received: categories="):
        codes.CategoricalCode(bad)
    with pytest.raises(ValueError, match="`categories`"):
        codes.categorical_code(np.zeros((2, 2)), bad)


def test_the_layer_refuses_inputs_that_are_not_latent_vectors():
    with pytest.raises(ValueError, match=r"CategoricalCode: expected latent vectors of shape \(batch, latent_dim\)"):
        codes.CategoricalCode(4)(keras.Input((3, 2)))


@pytest.mark.parametrize("categories", [2, 7, 10, 100])
def test_with_code_moves_each_vector_into_its_codes_bin_and_keeps_the_rest_of_z(categories):
    z = np.random.default_rng(1).normal(size=(300, 5)).astype("float32")
    before = z.copy()
    code = np.arange(300) % categories
    moved = codes.with_code(z, code, categories)
    np.testing.assert_array_equal(codes.categorical_code(moved, categories).numpy(), code)
    np.testing.assert_array_equal(moved[:, 1:], z[:, 1:])
    np.testing.assert_array_equal(z, before)  # the caller's z is left alone
    # The middle of bin c in probability: Phi(value) = (c + 0.5) / categories.
    phi = np.array([NormalDist().cdf(v) for v in moved[:categories, 0]])
    np.testing.assert_allclose(phi, (np.arange(categories) + 0.5) / categories, atol=1e-6)
    one = codes.with_code(z[:3], categories - 1, categories)  # one code for every vector
    np.testing.assert_array_equal(codes.categorical_code(one, categories).numpy(), [categories - 1] * 3)


@pytest.mark.parametrize("bad", [-1, 4, 1.5, [0, 1], [[0]]])
def test_with_code_names_a_bad_code(bad):
    with pytest.raises(ValueError, match=r"`code`: expected an int in \[0, 4\) or 3 of them. Received: code="):
        codes.with_code(np.zeros((3, 2)), bad, 4)
    with pytest.raises(ValueError, match=r"`z`: expected latent vectors of shape \(n, latent_dim\)"):
        codes.with_code(np.zeros(3), 0, 4)


# --------------------------------------------------------- GAN with Q: math
def test_info_loss_is_qs_cross_entropy_on_each_fakes_code():
    gan = info_gan(categories=4)
    z = tf.constant(np.random.default_rng(2).normal(size=(32, 6)).astype("float32"))
    fake = gan.generator(z)
    info = float(keras_gan.codes.info_loss(gan.code_classifier, z, fake, gan.code_categories))
    logits = gan.code_classifier(fake).numpy().astype("float64")
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    code = codes.categorical_code(z, 4).numpy()
    np.testing.assert_allclose(info, -log_softmax[np.arange(32), code].mean(), rtol=1e-5)


def test_g_update_descends_the_adversarial_loss_plus_the_weighted_info_loss():
    """G and Q descend `g_loss + info_weight * info_loss` (one SGD(1.0) step: the gradient itself)."""
    grads = {}
    for weight in (0.0, 1.0, 3.0):
        keras.utils.set_random_seed(0)
        g = networks.toy_generator(6, 2, units=(8,), categories=4)
        d = networks.toy_discriminator(2, units=(8,))
        q = networks.toy_code_classifier(2, 4, units=(8,))
        gan = keras_gan.GAN(g, d, seed=0, code_classifier=q, info_weight=weight)
        gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(1.0))
        z = tf.constant(np.random.default_rng(3).normal(size=(16, 6)).astype("float32"))
        before = [v.numpy().copy() for v in g.trainable_variables + q.trainable_variables]
        gan._g_step(tf.zeros((16, 2)), z=z)
        after = [v.numpy() for v in g.trainable_variables + q.trainable_variables]
        grads[weight] = [b - a for a, b in zip(after, before)]  # SGD(1.0): the gradient itself
    n_g = len(g.trainable_variables)
    for i in range(n_g):  # G: linear in the weight
        np.testing.assert_allclose(grads[3.0][i] - grads[0.0][i], 3.0 * (grads[1.0][i] - grads[0.0][i]),
                                   rtol=1e-4, atol=1e-6)
    assert any(np.abs(grads[1.0][i] - grads[0.0][i]).max() > 1e-6 for i in range(n_g))
    for i in range(n_g, len(grads[0.0])):  # Q: the weighted info loss's gradient only
        np.testing.assert_array_equal(grads[0.0][i], 0.0)
        np.testing.assert_allclose(grads[3.0][i], 3.0 * grads[1.0][i], rtol=1e-4, atol=1e-7)
        assert np.abs(grads[1.0][i]).max() > 0


# ----------------------------------------------- GAN with Q: phase isolation
def test_d_phase_changes_neither_g_nor_q_and_g_phase_changes_no_d_variable():
    gan = info_gan(pack=2)
    real = tf.constant(ring(64))
    g0, d0, q0 = snapshot(gan.generator), snapshot(gan.discriminator), snapshot(gan.code_classifier)
    tf.function(gan._d_step)(real)
    assert identical(g0, snapshot(gan.generator)) and identical(q0, snapshot(gan.code_classifier))
    assert not identical(d0, snapshot(gan.discriminator))
    d1 = snapshot(gan.discriminator)
    tf.function(gan._g_step)(real)
    assert identical(d1, snapshot(gan.discriminator))
    assert not identical(g0, snapshot(gan.generator)) and not identical(q0, snapshot(gan.code_classifier))


def test_reuse_fakes_trains_q_on_the_shared_forward_pass():
    gan = info_gan(reuse_fakes=True, lr=2e-3)
    q0 = snapshot(gan.code_classifier)
    logs = gan.fit(ring(2048), batch_size=128, epochs=3, verbose=0, shuffle=True).history
    assert np.all(np.isfinite(logs["info_loss"])) and not identical(q0, snapshot(gan.code_classifier))
    # Q learns to tell G's codes from the shared fakes: its cross-entropy falls well
    # below chance (log 4 = 1.39), and it reads the codes of fresh fakes.
    assert logs["info_loss"][-1] < 0.6, logs["info_loss"]
    z = gan.sample_noise(2000).numpy()
    predicted = np.argmax(gan.code_classifier(gan.generator(z)).numpy(), axis=1)
    assert np.mean(predicted == codes.categorical_code(z, 4).numpy()) > 0.7


# -------------------------------------------------------- GAN with Q: learns
def test_g_makes_its_codes_visible_and_each_code_keeps_to_its_own_region():
    gan = info_gan(categories=4, lr=2e-3)
    history = gan.fit(ring(4096), batch_size=128, epochs=6, verbose=0, shuffle=True).history
    # Chance is log(4) = 1.39: at the end Q tells nearly every fake's code.
    assert history["info_loss"][0] > 0.5
    assert history["info_loss"][-1] < 0.15
    z = gan.sample_noise(4000).numpy()
    code = codes.categorical_code(z, 4).numpy()
    fakes = gan.generator(z).numpy()
    predicted = np.argmax(gan.code_classifier(fakes).numpy(), axis=1)
    assert np.mean(predicted == code) > 0.95
    # evaluate() reports Q's cross-entropy too, on its own noise, and changes nothing.
    before = snapshot(gan.code_classifier)
    assert gan.evaluate(ring(512), batch_size=128, verbose=0, return_dict=True)["info_loss"] < 0.15
    assert identical(before, snapshot(gan.code_classifier))
    # Each code's fakes sit around their own mean, apart from the other codes'.
    means = np.stack([fakes[code == c].mean(axis=0) for c in range(4)])
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)[~np.eye(4, dtype=bool)]
    assert gaps.min() > 0.3


# ------------------------------------------------------------ image networks
@pytest.mark.parametrize("kind, shape, widths", [
    ("toy", (2,), {"units": (16, 8)}),
    ("mlp", (8, 8, 1), {"units": (32, 16)}),
    ("dcgan", (8, 8, 3), {"filters": 8, "minibatch_stddev": True}),
])
def test_code_classifier_is_a_fresh_ds_body_with_a_categories_logit_head(kind, shape, widths):
    q = networks.code_classifier(kind, shape, categories=np.int64(6), **widths)
    d = networks.discriminator(kind, shape, **widths)
    assert q.input_shape == (None, *shape) and q.output_shape == (None, 6)
    assert q.output.dtype == "float32" and q.layers[-1].name == "code_logits"
    # D's layers up to its logits, weight for weight; then 6 logits instead of 1.
    assert [tuple(w.shape) for w in q.weights[:-2]] == [tuple(w.shape) for w in d.weights[:-2]]
    assert tuple(q.weights[-2].shape) == tuple(d.weights[-2].shape[:-1]) + (6,)
    assert not {id(v) for v in q.weights} & {id(v) for v in d.weights}


def test_code_classifier_names_a_kind_without_one_logit_per_sample():
    with pytest.raises(ValueError, match=r"`kind`: expected one of \['dcgan', 'mlp', 'toy'\] for a code "
                                         r"classifier. Received: kind='patchgan'"):
        networks.code_classifier("patchgan", (8, 8, 1), 4)
    with pytest.raises(ValueError, match="`categories`: expected an int >= 2"):
        networks.code_classifier("dcgan", (8, 8, 1), 1)


@pytest.mark.parametrize("build", [
    lambda c: networks.mlp_generator(6, (8, 8, 1), units=(16, 32), categories=c),
    lambda c: networks.dcgan_generator(6, (8, 8, 1), filters=8, categories=c),
])
def test_image_generators_start_from_the_code_when_asked(build):
    assert codes.generator_categories(build(None)) == []
    g = build(5)
    assert codes.generator_categories(g) == [5] and g.input_shape == (None, 6)
    z = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    # Only z[:, 0] differs, and only by bin: the outputs differ by code.
    a, b = (g(codes.with_code(z, c, 5), training=False).numpy() for c in (0, 4))
    assert np.abs(a - b).max() > 1e-4


def test_a_dcgan_infogan_makes_its_codes_visible_on_digits():
    keras.utils.set_random_seed(0)
    shape, k = (8, 8, 1), 4
    g = networks.dcgan_generator(16, shape, filters=16, categories=k)
    gan = keras_gan.GAN(g, networks.dcgan_discriminator(shape, filters=16), seed=0,
                        code_classifier=networks.code_classifier("dcgan", shape, k, filters=16))
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    history = gan.fit(data.load_digits()[0], batch_size=64, epochs=8, verbose=0).history
    assert history["info_loss"][0] > 0.6  # chance: log(4) = 1.39
    assert history["info_loss"][-1] < 0.1
    z = codes.with_code(np.random.default_rng(2).normal(size=(400, 16)), np.arange(400) % k, k)
    for fakes in (g(z, training=True), gan.generate_from_noise(z)):  # batch / moving BatchNorm statistics
        accuracy = np.mean(np.argmax(gan.code_classifier(fakes).numpy(), axis=1) == np.arange(400) % k)
        assert accuracy > 0.95


def test_the_sample_grid_of_an_infogan_cycles_through_the_codes(tmp_path):
    gan = info_gan(categories=3)
    grid = keras_gan.callbacks.SampleGrid(str(tmp_path), n=10, seed=4)
    grid.set_model(gan)
    z = grid._noise()
    np.testing.assert_array_equal(codes.categorical_code(z, 3).numpy(), np.arange(10) % 3)
    plain = tf.random.stateless_normal((10, gan.latent_dim), seed=[4, 0]).numpy()
    np.testing.assert_array_equal(np.asarray(z)[:, 1:], plain[:, 1:])


# ------------------------------------------------- saving, export, precision
def test_save_load_restores_q_and_its_optimizer_state_and_training_continues(tmp_path):
    x = ring(256)
    gan = info_gan(pack=2, ema_decay=0.9)
    gan.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    assert len(gan.g_optimizer.variables) > 2 + 2 * len(gan.generator.trainable_variables)  # Q's slots too
    path = str(tmp_path / "info.keras")
    gan.save(path)
    loaded = keras_gan.load_gan(path)
    assert loaded.code_categories == 4 and loaded.info_weight == 1.0
    assert identical(snapshot(gan.code_classifier), snapshot(loaded.code_classifier))
    for va, vb in zip(gan.g_optimizer.variables, loaded.g_optimizer.variables):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    gan.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, batch_size=64, epochs=1, verbose=0, shuffle=False)
    for a, b in ((gan.generator, loaded.generator), (gan.code_classifier, loaded.code_classifier)):
        for va, vb in zip(a.weights, b.weights):
            np.testing.assert_allclose(va.numpy(), vb.numpy(), rtol=1e-5, atol=1e-6)
    clone = keras_gan.GAN.from_config(gan.get_config())
    assert clone.code_categories == 4 and clone.code_classifier is not None


def test_an_exported_info_generator_serves_what_generate_gives(tmp_path):
    gan = info_gan(ema_decay=0.9)
    gan.fit(ring(256), batch_size=64, epochs=1, verbose=0)
    path = keras_gan.export_generator(gan, tmp_path / "info")
    g = keras_gan.load_generator(path)
    z = gan.sample_noise(8).numpy()
    np.testing.assert_allclose(np.asarray(g(z)), gan.generate_from_noise(z), atol=1e-5)


def test_mixed_float16_step_keeps_info_loss_finite():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        gan = info_gan()
        logs = gan.fit(ring(128), batch_size=64, epochs=1, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(logs["info_loss"][0]) and 0.0 < logs["info_loss"][0] < 3.0



def test_a_float16_q_alone_gets_g_optimizer_loss_scaled_and_keeps_xla_off():
    g, d, _ = _nets()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        q = networks.toy_code_classifier(2, 4, units=(8,))  # only Q computes in float16
    finally:
        keras.mixed_precision.set_global_policy("float32")
    gan = keras_gan.GAN(g, d, code_classifier=q)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    # Q's float16 gradients go through g_optimizer, so it must scale the loss.
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert gan.jit_compile is False  # "auto" keeps XLA off for any float16 network of the step

# ------------------------------------------------------------- bad arguments
def _nets(categories=4, q_categories=4, q_dim=2):
    g = networks.toy_generator(6, 2, units=(8,), categories=categories)
    return g, networks.toy_discriminator(2, units=(8,)), networks.toy_code_classifier(q_dim, q_categories, units=(8,))


def test_q_and_g_must_agree_on_the_categories():
    g, d, q = _nets(categories=4, q_categories=5)
    with pytest.raises(ValueError, match=r"`code_classifier`: it predicts 5 categories.*CategoricalCode\(5\).*"
                                         r"Received: a generator with CategoricalCode categories \[4\]"):
        keras_gan.GAN(g, d, code_classifier=q)
    _, d, q = _nets()
    with pytest.raises(ValueError, match="Received: a generator with no CategoricalCode layer"):
        keras_gan.GAN(networks.toy_generator(6, 2, units=(8,)), d, code_classifier=q)


def test_q_must_take_gs_samples_and_give_logits():
    g, d, q = _nets(q_dim=3)
    with pytest.raises(ValueError, match=r"`code_classifier`: expected inputs of G's sample shape \(2,\)"):
        keras_gan.GAN(g, d, code_classifier=q)
    g, d, _ = _nets()
    with pytest.raises(ValueError, match=r"`code_classifier`: expected an output of shape \(batch, categories\)"):
        keras_gan.GAN(g, d, code_classifier=bn_discriminator())  # one logit
    with pytest.raises(ValueError, match="`code_classifier`: expected a built keras.Model"):
        keras_gan.GAN(g, d, code_classifier="q")


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "x", True])
def test_bad_info_weight_is_named(bad):
    g, d, q = _nets()
    with pytest.raises(ValueError, match=r"`info_weight`: expected a non-negative float. Received: info_weight="):
        keras_gan.GAN(g, d, code_classifier=q, info_weight=bad)


def test_a_conditional_gan_refuses_a_code_classifier():
    g = networks.conditional_generator("toy", 6, (2,), 3)
    d = networks.conditional_discriminator("toy", (2,), 3)
    q = networks.toy_code_classifier(2, 4, units=(8,))
    with pytest.raises(ValueError, match="`code_classifier`: InfoGAN codes are supported by unconditional GANs only"):
        keras_gan.GAN(g, d, num_classes=3, code_classifier=q)
