"""keras_gan._internal.fit_loop: one eager op and one compiled call per step, training as Keras' own loop does."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan

from _nets import bn_discriminator, bn_generator


class _KerasLoopGAN(keras_gan.GAN):
    """The same GAN on Keras' own train and test functions."""

    def _one_call_per_step(self, step_function, keras_function):
        return keras_function


def make_gan(cls=keras_gan.GAN, **compile_kwargs):
    keras.utils.set_random_seed(0)  # the same initial weights for every class
    gan = cls(bn_generator(), bn_discriminator(), seed=0)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2), **compile_kwargs)
    return gan


def real_data(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")


def state(gan):
    """Everything a step can change: weights (BatchNorm statistics too), optimizer and seed states."""
    variables = gan.weights + gan.d_optimizer.variables + gan.g_optimizer.variables
    return [v.numpy().copy() for v in variables] + [gan.seed_generator.state.numpy().copy()]


def uses_keras_loop(function):
    return "FewerHostOpsPerStep" not in function.__qualname__


@pytest.mark.parametrize("d_steps", [1, 3])
def test_fit_and_evaluate_train_and_log_as_keras_loop_does(d_steps):
    # 100 samples in batches of 32: a ragged last batch, and the end of the
    # data (StopIteration) ends each epoch.
    histories, states = [], []
    for cls in (keras_gan.GAN, _KerasLoopGAN):
        gan = make_gan(cls, d_steps=d_steps)
        history = gan.fit(real_data(100), batch_size=32, epochs=2, verbose=0,
                          validation_data=real_data(40, seed=1), shuffle=False)
        histories.append(history.history)
        states.append(state(gan))
        assert int(gan.d_optimizer.iterations) == 2 * 4 * d_steps  # 4 batches an epoch
        assert int(gan.g_optimizer.iterations) == 2 * 4
    assert not uses_keras_loop(make_gan().make_train_function())
    assert histories[0].keys() == histories[1].keys() and "val_d_loss" in histories[0]
    # Bitwise: the step is traced for the dataset's element_spec, as in
    # Keras' loop, so both run the same graph (traced for the first batch's
    # static shape instead, d_steps 3 drifted by 5e-3 within an epoch).
    assert histories[0] == histories[1]
    assert all(np.array_equal(ours, keras_own) for ours, keras_own in zip(*states))


def test_a_call_trains_on_one_batch_and_the_end_of_the_data_changes_nothing():
    gan = make_gan()
    data = real_data(64)
    gan.fit(data, batch_size=32, epochs=1, verbose=0)  # builds and traces: 2 steps
    function = gan.make_train_function()
    iterator = iter(tf.data.Dataset.from_tensor_slices(data).batch(32))
    function(iterator)
    assert int(gan.d_optimizer.iterations) == 3
    function(iterator)
    assert int(gan.d_optimizer.iterations) == 4
    before = state(gan)
    # A batch fetched inside the compiled step would let the step's ops that
    # do not read it (the noise seed's advance, G's BatchNorm statistics) run
    # before the end-of-data error: nothing may change here.
    with pytest.raises(StopIteration):
        function(iterator)
    after = state(gan)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_train_on_batch_takes_the_python_iterator_path():
    logs, states = [], []
    for cls in (keras_gan.GAN, _KerasLoopGAN):
        gan = make_gan(cls)
        start = state(gan)
        logs.append(gan.train_on_batch(real_data(32), return_dict=True))
        # Our one-call-per-step function ran, not Keras' (the subclass forces Keras').
        assert uses_keras_loop(gan.train_function) == (cls is _KerasLoopGAN)
        assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (1, 1)
        states.append(state(gan))
        assert not all(np.array_equal(a, b) for a, b in zip(start, states[-1]))  # the step trained
    # The same step as Keras' own loop: the same logs, the same weights, optimizer and seed states.
    assert set(logs[0]) == set(logs[1]) >= {"d_loss", "g_loss"}
    assert all(np.isfinite(v) and v == pytest.approx(logs[1][k], rel=1e-6) for k, v in logs[0].items()), logs
    assert all(np.array_equal(a, b) for a, b in zip(*states))


@pytest.mark.parametrize("setting", ["steps_per_execution", "run_eagerly", "strategy"])
def test_keras_loop_is_kept_where_one_call_per_step_does_not_apply(setting):
    if setting == "strategy":
        with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
            gan = make_gan()
    else:
        gan = make_gan(**{setting: 2 if setting == "steps_per_execution" else True})
    assert uses_keras_loop(gan.make_train_function())
    assert uses_keras_loop(gan.make_test_function())
    gan.fit(real_data(64), batch_size=16, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 4


class _RecordingGAN(keras_gan.GAN):
    def train_step(self, data):
        self.traced_with = data  # Python runs while tracing
        return super().train_step(data)


def test_an_optional_in_the_data_reaches_the_step_as_none_as_in_keras_loop():
    # Keras' generator and Grain adapters yield an empty Optional for a None
    # (y, sample_weight); its loop hands the step None.
    dataset = tf.data.Dataset.from_tensor_slices(real_data(64)).batch(32).map(
        lambda x: (x, tf.experimental.Optional.empty(None)))
    gan = make_gan(_RecordingGAN)
    function = gan.make_train_function()
    iterator = iter(dataset)
    function(iterator)
    function(iterator)
    x, y = gan.traced_with
    assert y is None and x.shape.as_list() == [None, 2]  # traced for the element_spec
    assert int(gan.g_optimizer.iterations) == 2


def _unknown_length(dataset):
    """The same batches, but a dataset whose length Keras cannot know (cardinality -2)."""
    unknown = dataset.filter(lambda *batch: True)
    assert int(unknown.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    return unknown


@pytest.mark.parametrize("loop", ["ours", "keras_under_a_strategy"])
def test_a_dataset_of_unknown_length_trains_and_logs_as_one_of_known_length(loop):
    # Its epochs end in a failed fetch. In Keras' loop that fetch runs inside
    # the compiled step, whose ops that do not read the batch (the trackers'
    # counts, the noise seed, G's forward pass in the G phase) ran anyway
    # before `after_the_batch`: each epoch's logged means were 4/5 of the
    # true ones, and the noise differed from then on.
    def fit(dataset):
        if loop == "ours":
            gan = make_gan()
        else:
            with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
                gan = make_gan()
            assert uses_keras_loop(gan.make_train_function())
        history = gan.fit(dataset, epochs=2, verbose=0)
        return history.history, state(gan)

    known = tf.data.Dataset.from_tensor_slices(real_data(100)).batch(32)
    with pytest.warns(UserWarning, match="ran out of data"):  # Keras' note at the end of an unknown length
        history, final = fit(_unknown_length(known))
    expected_history, expected_final = fit(known)
    assert history == expected_history
    assert all(np.array_equal(a, b) for a, b in zip(final, expected_final))


def test_pix2pix_in_keras_loop_logs_a_dataset_of_unknown_length_as_one_of_known_length():
    from test_pix2pix import pairs, tiny_pix2pix

    def fit(dataset):
        with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
            keras.utils.set_random_seed(0)
            model = tiny_pix2pix()
        return model.fit(dataset, epochs=1, verbose=0).history

    known = tf.data.Dataset.from_tensor_slices(pairs(8)).batch(4)
    with pytest.warns(UserWarning, match="ran out of data"):
        history = fit(_unknown_length(known))
    assert history == fit(known)
