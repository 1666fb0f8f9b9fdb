"""keras_gan._internal.keras_private: private Keras/TF names behind checks made once, public paths that agree."""

import warnings

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import networks, resume
from keras_gan._internal import keras_private, random as _random

from _nets import bn_discriminator, bn_generator


@pytest.fixture
def fast_paths(monkeypatch):
    """`off(names)`: the fast paths `names` turned off through the environment, checks forgotten."""
    keras_private.forget_checks()

    def off(names):
        if names:
            monkeypatch.setenv(keras_private.ENVIRONMENT_VARIABLE, names)
        else:
            monkeypatch.delenv(keras_private.ENVIRONMENT_VARIABLE, raising=False)
        keras_private.forget_checks()

    yield off
    keras_private.forget_checks()


def test_the_switch_names_fast_paths_and_refuses_unknown_names(monkeypatch):
    monkeypatch.setenv(keras_private.ENVIRONMENT_VARIABLE, "adam, fit_loop")
    assert keras_private.disabled("adam") and keras_private.disabled("fit_loop")
    assert not keras_private.disabled("random")
    monkeypatch.setenv(keras_private.ENVIRONMENT_VARIABLE, "all")
    assert all(keras_private.disabled(name) for name in keras_private.FAST_PATHS)
    monkeypatch.setenv(keras_private.ENVIRONMENT_VARIABLE, "adma")
    with pytest.raises(ValueError, match="KERAS_GAN_DISABLE_FAST_PATHS.*adma"):
        keras_private.disabled("adam")


def test_a_failed_check_warns_once_naming_what_is_missing_and_is_not_run_again(fast_paths):
    calls = []

    def check():
        calls.append(1)
        raise AttributeError("'Adam' object has no attribute '_momentums'")

    with pytest.warns(RuntimeWarning, match="`adam` fast path is off: `_momentums`.*AttributeError"):
        assert not keras_private.fast_path("adam", check, "`_momentums`")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not keras_private.fast_path("adam", check, "`_momentums`")
    assert len(calls) == 1


def test_every_check_holds_on_the_installed_keras_and_tensorflow(fast_paths):
    from keras_gan._internal import adam, fit_loop

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert adam._private_names_work()
        assert fit_loop._keras_trainer_is_as_expected()
        assert _random._xla_context_is_detected()
        assert resume._fit_reads_initial_epoch()
        assert keras_private._layers_check() and keras_private._mean_check()
        assert keras_private._merge_call_check() and keras_private._error_format_known()


class _Block(keras.layers.Layer):
    """A custom layer holding sublayers in a list and a dict, and its own SeedGenerator."""

    def __init__(self):
        super().__init__()
        self.parts = [keras.layers.Dense(3), keras.layers.Dropout(0.5, seed=2)]
        self.named = {"out": keras.layers.Dense(2)}
        self.noise_seed = keras.random.SeedGenerator(5)

    def call(self, x, training=False):
        return self.named["out"](self.parts[1](self.parts[0](x), training=training))


def _nested_model():
    inner = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.3, seed=1)])
    x = keras.Input((2,))
    return keras.Model(x, _Block()(inner(x)))


@pytest.mark.parametrize("include_self", [True, False])
def test_public_flatten_layers_finds_what_keras_flatten_layers_does(fast_paths, include_self):
    model = _nested_model()
    private = keras_private.flatten_layers(model, include_self)
    fast_paths("layers")
    public = keras_private.flatten_layers(model, include_self)
    # The same layers in the same order, but for the Sequential's input layer (no public name lists it).
    assert [id(layer) for layer in public] == [id(layer) for layer in private if layer.name != "input_layer_1"]
    assert len(public) == 8 + include_self  # input, Sequential, its 2, block, its 3


def test_seed_generators_are_the_same_on_both_paths_and_a_lost_one_raises(fast_paths):
    model = _nested_model()
    private = keras_private.layer_seed_generators(model)
    fast_paths("layers")
    public = keras_private.layer_seed_generators(model)
    assert {k: id(g) for k, g in public.items()} == {k: id(g) for k, g in private.items()}
    assert len(private) == 3  # two Dropouts and the block's own
    fast_paths("")
    block = model.layers[-1]
    block._seed_generators = [g for g in block._seed_generators if g is not block.noise_seed]
    with pytest.raises(RuntimeError, match="seed generators of layer .*_block.*KERAS_GAN_DISABLE_FAST_PATHS=layers"):
        keras_private.layer_seed_generators(model)


@pytest.mark.parametrize("count", [1, 3])
def test_add_to_mean_adds_the_same_bits_on_both_paths(fast_paths, count):
    values = np.random.default_rng(0).normal(size=5).astype("float32")
    results = []
    for names in ("", "mean"):
        fast_paths(names)
        tracker = keras.metrics.Mean()
        add = tf.function(lambda v: keras_private.add_to_mean(tracker, v, count))
        for v in values:
            add(tf.constant(v))
        results.append((tracker.total.numpy(), tracker.count.numpy(), tracker.result().numpy()))
    assert results[0] == results[1] and results[0][1] == 5 * count


@pytest.mark.parametrize("strategy", [None, "mirrored"])
def test_merge_call_runs_the_update_in_cross_replica_context_on_both_paths(fast_paths, strategy):
    strategy = tf.distribute.MirroredStrategy(["cpu:0"]) if strategy else tf.distribute.get_strategy()
    with strategy.scope():
        variable = tf.Variable(1.0, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def update(s):
        s.extended.update(variable, lambda v, x: v.assign_add(x), args=(2.0,), group=False)

    for names in ("", "merge_call"):
        fast_paths(names)
        strategy.run(tf.function(lambda: keras_private.merge_call(update, tf.distribute.get_strategy())))
    assert float(variable.numpy()) == 5.0


def test_invalid_data_message_is_cut_out_of_tf_error_text():
    expected = "Invalid data `x`: a batch contains NaN or Inf values."
    check = tf.function(lambda t: tf.debugging.assert_all_finite(t, expected))
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        check(tf.constant([1.0, float("inf")]))
    assert keras_private.invalid_data_message(info.value) == expected
    assert keras_private.invalid_data_message(tf.errors.InvalidArgumentError(None, None, "other")) is None


def test_random_bits_are_the_same_without_the_fused_kernels(fast_paths):
    seed = tf.constant([3, 4], tf.int64)

    def draw():
        return [_random.fold_in(seed, 7), _random._bits([5], seed)]

    fused = [t.numpy() for t in tf.function(draw)()]
    fast_paths("random")
    assert not _random._fused()
    portable = [t.numpy() for t in tf.function(draw)()]
    assert all(np.array_equal(a, b) for a, b in zip(fused, portable))


def _gan_state_after_fit():
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(bn_generator(), bn_discriminator(), seed=0)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2), d_steps=2)
    x = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    history = gan.fit(x, batch_size=16, epochs=2, verbose=0, shuffle=False)
    variables = gan.weights + gan.d_optimizer.variables + gan.g_optimizer.variables
    return history.history, [v.numpy() for v in variables] + [gan.seed_generator.state.numpy()]


def test_a_gan_trains_bit_for_bit_alike_with_every_fast_path_off(fast_paths):
    # Small variables: the fast Adam updates them with Keras' own ops, the fit
    # loop runs the same graph, the portable random ops draw the same bits.
    history, state = _gan_state_after_fit()
    fast_paths("all")
    gan = keras_gan.GAN(bn_generator(), bn_discriminator())
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    assert "FewerHostOpsPerStep" not in gan.make_train_function().__qualname__  # Keras' own function
    history_off, state_off = _gan_state_after_fit()
    assert history == history_off
    assert all(np.array_equal(a, b) for a, b in zip(state, state_off))


def test_resumable_training_in_plain_fit_refuses_a_keras_that_ignores_initial_epoch(fast_paths, tmp_path):
    data = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")

    def toy_gan():
        keras.utils.set_random_seed(0)
        gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(8,)), networks.toy_discriminator(2, units=(8,)),
                            seed=0)
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
        return gan

    toy_gan().fit(data, batch_size=16, epochs=1, verbose=0, callbacks=[resume.ResumableTraining(str(tmp_path))])
    fast_paths("initial_epoch")
    with pytest.raises(RuntimeError, match="keras_gan.resume.fit.*initial_epoch=1"):
        toy_gan().fit(data, batch_size=16, epochs=2, verbose=0, callbacks=[resume.ResumableTraining(str(tmp_path))])
    # Public path: `initial_epoch` given to fit resumes the same.
    history = toy_gan().fit(data, batch_size=16, epochs=2, initial_epoch=1, verbose=0)
    assert history.epoch == [1]


def test_a_check_first_made_inside_an_autograph_trace_holds(fast_paths):
    from keras_gan._internal import adam as _adam

    optimizer, variables = keras.optimizers.Adam(), [keras.Variable(np.zeros(_adam.FUSE_MIN_SIZE, "float32"))]
    optimizer.build(variables)

    @tf.function  # AutoGraph on, as a user's `tf.function(gan._d_step)`
    def step():
        _adam.apply_gradients(optimizer, [tf.ones(_adam.FUSE_MIN_SIZE)], variables)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "ResourceApplyAdam" in {op.type for op in step.get_concrete_function().graph.get_operations()}
