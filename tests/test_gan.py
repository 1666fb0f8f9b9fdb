"""The GAN model: phase isolation, update counts, losses, learning, saving, errors."""

import numpy as np
import pytest
import tensorflow as tf
import keras
from keras import layers

import keras_gan
from keras_gan import data, networks

from _nets import bn_discriminator, bn_generator


def make_gan(g=None, d=None, loss="non_saturating", d_steps=1, g_steps=1, lr=1e-3, seed=0, **kwargs):
    gan = keras_gan.GAN(g or bn_generator(), d or bn_discriminator(), seed=seed)
    gan.compile(
        keras.optimizers.Adam(lr, beta_1=0.5), keras.optimizers.Adam(lr, beta_1=0.5),
        loss=loss, d_steps=d_steps, g_steps=g_steps, **kwargs,
    )
    return gan


def snapshot(model):
    return [v.numpy().copy() for v in model.weights]


def identical(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def real_batch(n=32, dim=2, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=(n, dim)).astype("float32"))


def moving_stats(model):
    return [v.numpy().copy() for v in model.non_trainable_weights]


# ------------------------------------------------------------ phase isolation
def test_d_phase_changes_no_generator_variable():
    gan = make_gan()
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    d_stats_before = moving_stats(gan.discriminator)
    tf.function(gan._d_step)(real_batch())
    assert identical(g_before, snapshot(gan.generator))  # BN moving statistics included
    # The D phase did update D (weights and its own BN statistics): the check above can fail.
    assert not identical(d_before, snapshot(gan.discriminator))
    assert not identical(d_stats_before, moving_stats(gan.discriminator))


def test_g_phase_changes_no_discriminator_variable_batchnorm_included():
    gan = make_gan()
    assert any(isinstance(l, layers.BatchNormalization) for l in gan.discriminator.layers)
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    g_stats_before = moving_stats(gan.generator)
    tf.function(gan._g_step)(real_batch())
    assert identical(d_before, snapshot(gan.discriminator))
    assert not identical(g_before, snapshot(gan.generator))
    assert not identical(g_stats_before, moving_stats(gan.generator))
    assert gan.discriminator.trainable  # restored after the G phase


def _d_step_weights(g, d, one_call):
    gan = keras_gan.GAN(g, d, seed=0)
    # SGD: the update is the gradient itself (Adam's first step is about its sign).
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    gan._judge_in_one_call = one_call
    tf.function(gan._d_step)(real_batch())
    return snapshot(gan.discriminator)


def test_one_d_call_on_real_and_fake_gives_the_two_call_update_for_a_per_sample_d():
    assert make_gan(networks.toy_generator(4, 2), networks.toy_discriminator(2))._judge_in_one_call
    keras.utils.set_random_seed(1)
    g, d = networks.toy_generator(4, 2), networks.toy_discriminator(2)
    start = [w.copy() for w in d.get_weights()]
    two = _d_step_weights(g, d, one_call=False)
    d.set_weights(start)
    one = _d_step_weights(g, d, one_call=True)
    assert not identical(start, two)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_batchnorm_d_judges_real_and_fake_in_separate_calls():
    # One call would mix real and fake in D's batch statistics: a different update.
    gan = make_gan()
    assert not gan._judge_in_one_call
    keras.utils.set_random_seed(1)
    g, d = networks.toy_generator(4, 2), bn_discriminator()
    start = [w.copy() for w in d.get_weights()]
    two = _d_step_weights(g, d, one_call=False)
    d.set_weights(start)
    one = _d_step_weights(g, d, one_call=True)
    assert max(np.abs(a - b).max() for a, b in zip(one, two)) > 1e-4


def _blind_discriminator():
    """A D whose logit ignores its input: a frozen zero kernel and a trainable bias."""
    x = keras.Input((2,))
    out = keras.layers.Dense(1, kernel_initializer="zeros", name="blind")(x)
    d = keras.Model(x, out)
    d.get_layer("blind").kernel.trainable = False
    return d


def test_g_phase_gradients_reach_generator_only_through_combined():
    gan = make_gan()
    assert gan.combined.layers[1] is gan.generator and gan.combined.layers[2] is gan.discriminator
    z = tf.random.normal((8, gan.latent_dim))
    np.testing.assert_allclose(
        gan.combined(z).numpy(), gan.discriminator(gan.generator(z)).numpy(), rtol=1e-6
    )
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    # D's optimizer does nothing (lr 0): G's update moves G and leaves D's weights as they were
    # (D's BatchNorm statistics move in the D phase).
    gan = keras_gan.GAN(bn_generator(), bn_discriminator(), seed=0)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.1))
    g0 = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d0 = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    gan.fit(x, batch_size=32, epochs=1, verbose=0)
    assert not identical(g0, [w.numpy() for w in gan.generator.trainable_weights])
    assert identical(d0, [w.numpy() for w in gan.discriminator.trainable_weights])
    # G learns only through D's judgement: a D blind to its input gives G no gradient at all.
    gan = keras_gan.GAN(bn_generator(), _blind_discriminator(), seed=0)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    g0 = [w.numpy().copy() for w in gan.generator.trainable_weights]
    gan.fit(x, batch_size=32, epochs=1, verbose=0)
    assert identical(g0, [w.numpy() for w in gan.generator.trainable_weights])


def test_d_steps_3_g_steps_1_gives_exactly_3_d_and_1_g_optimizer_steps_per_batch():
    gan = make_gan(d_steps=3, g_steps=1)
    x = np.random.default_rng(0).normal(size=(96, 2)).astype("float32")
    gan.fit(x, batch_size=32, epochs=1, verbose=0)  # 3 batches
    assert int(gan.d_optimizer.iterations) == 9
    assert int(gan.g_optimizer.iterations) == 3


def test_g_steps_2_runs_two_g_updates_per_batch():
    gan = make_gan(d_steps=1, g_steps=2)
    gan.fit(np.zeros((64, 2), "float32") + 1.0, batch_size=32, epochs=1, verbose=0)
    assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (2, 4)


class _RecordingGAN(keras_gan.GAN):
    seen = []

    def _d_step(self, real, labels=None, **kwargs):
        _RecordingGAN.seen.append(real.numpy().ravel().tolist())
        return super()._d_step(real, labels, **kwargs)


def test_each_d_update_sees_its_own_slice_of_the_batch():
    _RecordingGAN.seen = []
    gan = _RecordingGAN(networks.toy_generator(2, 1), networks.toy_discriminator(1))
    gan.compile("adam", "adam", d_steps=3, run_eagerly=True)
    x = np.arange(12, dtype="float32").reshape(12, 1)
    gan.fit(x, batch_size=12, epochs=1, verbose=0, shuffle=False)
    assert _RecordingGAN.seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


class _NoiseRecordingGAN(keras_gan.GAN):
    noise = []

    def _d_step(self, real, labels=None, fake=None, z=None):
        _NoiseRecordingGAN.noise.append(("d", real.shape[0], z.numpy()))
        return super()._d_step(real, labels, fake, z)

    def _g_step(self, real, labels=None, shared_d_step=False, z=None):
        _NoiseRecordingGAN.noise.append(("g", real.shape[0], z.numpy()))
        return super()._g_step(real, labels, shared_d_step, z)


@pytest.mark.parametrize("n", [12, 14])  # 14: slices of 4, 5 and 5
def test_every_update_of_a_step_gets_its_own_noise(n):
    _NoiseRecordingGAN.noise = []
    gan = _NoiseRecordingGAN(networks.toy_generator(2, 1), networks.toy_discriminator(1), seed=0)
    gan.compile("adam", "adam", d_steps=3, g_steps=2, run_eagerly=True)
    gan.fit(np.zeros((n, 1), "float32"), batch_size=n, epochs=1, verbose=0, shuffle=False)
    updates = _NoiseRecordingGAN.noise
    assert [u[0] for u in updates] == ["d", "d", "d", "g", "g"]
    for _, size, z in updates:
        assert z.shape == (size, 2)  # one latent vector per real sample of the update
    rows = np.concatenate([z for _, _, z in updates])
    assert len(np.unique(rows, axis=0)) == len(rows)  # no latent vector serves two updates
    # Standard normal, not a scaled or shifted one (60-70 values).
    assert abs(rows.mean()) < 0.5 and 0.6 < rows.std() < 1.4


@pytest.mark.parametrize("n, d_steps, pack", [(12, 3, 1), (13, 5, 1), (64, 5, 1), (14, 3, 2), (17, 2, 4)])
def test_slices_cut_the_same_with_a_static_or_a_dynamic_batch_size(n, d_steps, pack):
    d = networks.packed_discriminator("toy", (1,), pack=pack) if pack > 1 else networks.toy_discriminator(1)
    gan = keras_gan.GAN(networks.toy_generator(2, 1), d, pack=pack)
    gan.compile("adam", "adam", d_steps=d_steps)
    x = tf.reshape(tf.range(n, dtype=tf.float32), (n, 1))
    labels = tf.range(n)
    static = gan._slices(x, labels, d_steps)  # x.shape[0] == n: constant bounds
    dynamic = tf.function(lambda v, l: gan._slices(v, l, d_steps),
                          input_signature=[tf.TensorSpec((None, 1)), tf.TensorSpec((None,), tf.int32)])(x, labels)
    assert len(static) == len(dynamic) == d_steps
    for (a, la), (b, lb) in zip(static, dynamic):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(la.numpy(), lb.numpy())
        assert a.shape[0] % pack == 0 and a.shape[0] > 0


def test_ragged_last_batch_smaller_than_d_steps_still_trains():
    gan = make_gan(d_steps=4)
    x = np.random.default_rng(0).normal(size=(34, 2)).astype("float32")  # last batch: 2 samples
    history = gan.fit(x, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    assert int(gan.d_optimizer.iterations) == 8


# --------------------------------------------------------------------- losses
def _linear_gan(w, b, c, loss):
    """G always outputs c; D(x) = w * x + b: every logit is known in closed form."""
    z = keras.Input((1,))
    g = keras.Model(z, layers.Dense(1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(c))(z))
    x = keras.Input((1,))
    d = keras.Model(x, layers.Dense(1, kernel_initializer=keras.initializers.Constant(w),
                                    bias_initializer=keras.initializers.Constant(b))(x))
    gan = keras_gan.GAN(g, d)
    gan.compile("sgd", "sgd", loss=loss)
    return gan


def softplus(v):
    return np.log1p(np.exp(v))


@pytest.mark.parametrize("loss", ["non_saturating", "minimax"])
def test_logged_losses_equal_hand_computed_bce(loss):
    w, b, c = 0.7, -0.2, 1.5
    x = np.array([[-1.0], [0.0], [0.5], [2.0]], "float32")
    gan = _linear_gan(w, b, c, loss)
    logs = gan.evaluate(x, batch_size=4, verbose=0, return_dict=True)
    real_logits, fake_logit = w * x[:, 0] + b, w * c + b
    # BCE(real, 1) = softplus(-l); BCE(fake, 0) = softplus(l)
    expected_d = softplus(-real_logits).mean() + softplus(fake_logit)
    expected_g = softplus(-fake_logit) if loss == "non_saturating" else -softplus(fake_logit)
    assert logs["d_loss"] == pytest.approx(expected_d, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(expected_g, rel=1e-5)
    assert logs["d_real"] == pytest.approx(real_logits.mean(), rel=1e-5)
    assert logs["d_fake"] == pytest.approx(fake_logit, rel=1e-5)


def test_a_step_logs_the_mean_over_all_its_d_and_g_updates():
    # The trackers get a step's values at its end (one add per tracker): the logs
    # must still be the mean over every D update, not the last one's loss.
    w, b, c = 0.7, -0.2, 1.5
    x = np.array([[-3.0], [-2.0], [0.0], [0.5], [2.0], [4.0]], "float32")
    gan = _linear_gan(w, b, c, "non_saturating")
    # A learning rate of 0: every update sees the same D, so each loss is known.
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), loss="non_saturating", d_steps=3, g_steps=2)
    logs = gan.train_on_batch(x, return_dict=True)
    real_logits, fake_logit = w * x[:, 0] + b, w * c + b
    per_update = [softplus(-real_logits[i:i + 2]).mean() + softplus(fake_logit) for i in (0, 2, 4)]
    assert logs["d_loss"] == pytest.approx(np.mean(per_update), rel=1e-5)
    assert logs["d_loss"] != pytest.approx(per_update[-1], rel=1e-2)
    assert logs["d_real"] == pytest.approx(real_logits.mean(), rel=1e-5)
    assert logs["g_loss"] == pytest.approx(softplus(-fake_logit), rel=1e-5)
    assert [int(t.count) for t in (gan.trackers["d_loss"], gan.trackers["d_real"], gan.trackers["g_loss"])] == [3, 3, 2]


def test_pix2pix_halved_d_loss_is_half_the_sum():
    x = np.array([[0.3], [1.0]], "float32")
    full = _linear_gan(0.5, 0.1, 2.0, "non_saturating").evaluate(x, verbose=0, return_dict=True)
    half = _linear_gan(0.5, 0.1, 2.0, keras_gan.losses.NonSaturating(halve_d_loss=True)).evaluate(
        x, verbose=0, return_dict=True
    )
    assert half["d_loss"] == pytest.approx(0.5 * full["d_loss"], rel=1e-6)


def test_evaluate_changes_no_weight():
    gan = make_gan()
    before = snapshot(gan.generator) + snapshot(gan.discriminator)
    gan.evaluate(real_batch(64).numpy(), verbose=0)
    assert identical(before, snapshot(gan.generator) + snapshot(gan.discriminator))


# ------------------------------------------------------------------- learning
def test_learns_gaussian_1d_mean_and_std():
    # The user's 1D GAN: D sees each sample with its squared deviation from
    # the batch mean. A plain D let G's std overshoot (1.7-2.0) on 4 of 16
    # runs (seeds 0-7, two noise-drawing schemes); with the feature and an
    # EMA of G all 16 were within 0.12 of the mean and 0.06 of the std.
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.toy_generator(4, 1), networks.toy_discriminator(1, minibatch_features="deviation"),
                        seed=0, ema_decay=0.99)
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    gan.fit(data.gaussian_1d(batch_size=128, n=8192, seed=0), epochs=10, verbose=0)
    samples = gan.generate(10000, seed=1)
    # Tolerance: 0.2 on the mean and 0.15 on the std (target N(4, 1.25); untrained: mean ~0).
    assert abs(samples.mean() - 4.0) < 0.2, samples.mean()
    assert abs(samples.std() - 1.25) < 0.15, samples.std()


def test_ring_2d_samples_land_near_the_circle():
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(64, 64)), networks.toy_discriminator(2), seed=0)
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5),
                jit_compile=True)
    gan.fit(data.ring_2d(batch_size=128, n=8192, seed=0), epochs=14, verbose=0)
    distance = np.abs(np.linalg.norm(gan.generate(2000, seed=1), axis=1) - 1.0)
    # Untrained: median distance ~0.37 and ~14% of samples within 0.1 of the
    # circle. Trained: tolerance 0.1 on the median, and most samples within 0.1.
    assert np.median(distance) < 0.1, np.median(distance)
    assert np.mean(distance < 0.1) > 0.6, np.mean(distance < 0.1)


def test_patchgan_map_of_logits_trains():
    g = networks.dcgan_generator(8, (8, 8, 1), filters=8)
    d = networks.patchgan_discriminator((8, 8, 1), filters=8, n_layers=2)
    assert d.output_shape == (None, 2, 2, 1)
    gan = keras_gan.GAN(g, d, seed=0)
    gan.compile(keras.optimizers.Adam(2e-3), keras.optimizers.Adam(2e-3), loss="least_squares")
    x = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    real_before = float(np.mean(d(x).numpy()))
    logs = gan.fit(x, batch_size=8, epochs=30, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    # The loss averages over the map: least squares pushes every patch of the real
    # images towards 1 and every patch of the fakes towards 0, so D's mean patch
    # score separates them; a loss reduced over one patch or not at all does not.
    real, fake = d(x).numpy(), d(gan.generate(16, seed=1)).numpy()
    assert real.shape == fake.shape == (16, 2, 2, 1)
    assert real.mean() > real_before + 0.1 and real.mean() > fake.mean() + 0.1, (real_before, real.mean(), fake.mean())
    # Every patch position learned, not only one.
    assert np.all(real.mean(axis=0) > fake.mean(axis=0)), (real.mean(axis=0), fake.mean(axis=0))


def test_accepts_x_y_datasets_and_ignores_labels():
    g = networks.dcgan_generator(8, (8, 8, 1), filters=8)
    d = networks.dcgan_discriminator((8, 8, 1), filters=8)
    gan = keras_gan.GAN(g, d)
    gan.compile("adam", "adam")
    gan.fit(data.digits(batch_size=64).take(2), epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 2


# ------------------------------------------------------------------- generate
def test_generate_is_deterministic_for_a_seed():
    gan = make_gan()
    a, b, c = gan.generate(10, seed=3), gan.generate(10, seed=3), gan.generate(10, seed=4)
    assert a.shape == (10, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# --------------------------------------------------------------------- saving
def test_save_load_restores_both_optimizers_and_training_continues(tmp_path):
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    gan = make_gan(d_steps=2)
    gan.fit(x, batch_size=32, epochs=1, verbose=0, shuffle=False)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_gan.GAN) and loaded.d_steps == 2
    for a, b in ((gan.d_optimizer, loaded.d_optimizer), (gan.g_optimizer, loaded.g_optimizer)):
        assert int(b.iterations) == int(a.iterations) > 0
        assert len(a.variables) == len(b.variables) > 2  # iterations, lr, and Adam's slots
        for va, vb in zip(a.variables, b.variables):
            np.testing.assert_array_equal(va.numpy(), vb.numpy())
    # Continuing the original and the restored model gives the same weights:
    # weights, both optimizers and the noise state all came back.
    gan.fit(x, batch_size=32, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, batch_size=32, epochs=1, verbose=0, shuffle=False)
    assert int(loaded.d_optimizer.iterations) == 8
    for va, vb in zip(gan.generator.weights + gan.discriminator.weights,
                      loaded.generator.weights + loaded.discriminator.weights):
        np.testing.assert_allclose(va.numpy(), vb.numpy(), rtol=1e-5, atol=1e-6)


def test_config_round_trip():
    gan = make_gan()
    clone = keras_gan.GAN.from_config(gan.get_config())
    assert clone.latent_dim == gan.latent_dim and clone.seed == gan.seed
    assert [l.__class__ for l in clone.discriminator.layers] == [l.__class__ for l in gan.discriminator.layers]


# ----------------------------------------------------------------- bad inputs
def _toy_gan(**kwargs):
    return make_gan(networks.toy_generator(4, 2), networks.toy_discriminator(2), **kwargs)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((8, 3), "float32"), r"`x`.*\(2,\).*Received.*\(None, 3\)"),
        (np.zeros((8, 2, 1), "float32"), r"`x`.*shape"),
        (np.full((8, 2), np.nan, "float32"), r"`x`.*NaN"),
        (np.zeros((0, 2), "float32"), r"`x`.*non-empty"),
        (tf.data.Dataset.from_tensor_slices(np.zeros((8, 2), "float32")), r"single samples.*batch"),
        (tf.data.Dataset.from_tensor_slices(np.zeros((0, 2), "float32")).batch(4), r"empty"),
        (tf.data.Dataset.from_tensor_slices(np.zeros((8, 2), "float32")).batch(4).filter(lambda v: False), r"empty"),
        (tf.data.Dataset.from_tensor_slices(np.zeros((8, 5), "float32")).batch(4), r"`x`.*\(2,\)"),
    ],
)
def test_bad_data_gives_a_clear_error(x, match):
    with pytest.raises(ValueError, match=match):
        _toy_gan().fit(x, epochs=1, verbose=0)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["step_checks", "xla_pipeline_checks"])
def test_non_finite_values_in_a_dataset_are_named(jit_compile):
    # Without XLA the step's own check finds them; XLA drops it, so the pipeline checks.
    x = np.zeros((8, 2), "float32")
    x[5, 1] = np.inf
    with pytest.raises(ValueError, match=r"^Invalid data `x`: a batch contains NaN or Inf values"):
        _toy_gan(jit_compile=jit_compile).fit(tf.data.Dataset.from_tensor_slices(x).batch(4), epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"d_steps": 0}, r"`d_steps`: expected a positive integer. Received: d_steps=0"),
    ({"g_steps": -1}, r"`g_steps`.*Received: g_steps=-1"),
    ({"loss": "bogus"}, r"`loss`: expected one of .*non_saturating.*Received: loss='bogus'"),
])
def test_bad_compile_arguments_give_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _toy_gan(**kwargs)


def test_latent_size_mismatch_is_named():
    with pytest.raises(ValueError, match=r"`latent_dim`: expected the generator's input size 4. Received: latent_dim=7"):
        keras_gan.GAN(networks.toy_generator(4, 2), networks.toy_discriminator(2), latent_dim=7)


def test_generator_and_discriminator_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"generator's samples have shape \(2,\).*\(3,\)"):
        keras_gan.GAN(networks.toy_generator(4, 2), networks.toy_discriminator(3))


def test_same_optimizer_for_both_is_refused():
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="`g_optimizer`"):
        keras_gan.GAN(networks.toy_generator(4, 2), networks.toy_discriminator(2)).compile(opt, opt)


def test_fit_before_compile_is_refused():
    gan = keras_gan.GAN(networks.toy_generator(4, 2), networks.toy_discriminator(2))
    with pytest.raises(RuntimeError, match="compile"):
        gan.fit(np.zeros((4, 2), "float32"), verbose=0)


def test_non_model_arguments_are_named():
    with pytest.raises(ValueError, match=r"`generator`: expected a keras.Model"):
        keras_gan.GAN("not a model", networks.toy_discriminator(2))
