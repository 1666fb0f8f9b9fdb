"""keras_gan._internal.adam: a plain Adam's update in one kernel per large variable, Keras' update otherwise."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan._internal import adam as _adam, keras_private

BIG = _adam.FUSE_MIN_SIZE + 7  # fused
SMALL = 10  # Keras' own update_step


def make_variables(*sizes, constraint=None):
    rng = np.random.default_rng(0)
    return [keras.Variable(rng.normal(size=(size,)).astype("float32"), constraint=constraint) for size in sizes]


def gradient_sequence(sizes, steps=5):
    rng = np.random.default_rng(1)
    # Magnitudes over eight decades: Adam's epsilon and bias correction both show.
    return [[tf.constant((rng.normal(size=size) * 10.0 ** rng.uniform(-8, 0, size)).astype("float32"))
             for size in sizes] for _ in range(steps)]


def run(optimizer, variables, grad_steps, apply, mode="eager"):
    """Applies `grad_steps` with `apply` (eager, tf.function or XLA) and returns every state."""
    optimizer.build(variables)

    def step(grads):
        apply(optimizer, grads, variables)

    fn = step if mode == "eager" else tf.function(step, jit_compile=mode == "xla")
    for grads in grad_steps:
        fn(grads)
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


def keras_apply(optimizer, grads, variables):
    optimizer.apply_gradients(zip(grads, variables))


def op_types(optimizer, variables, grads):
    optimizer.build(variables)
    fn = tf.function(lambda: _adam.apply_gradients(optimizer, grads, variables))
    return {op.type for op in fn.get_concrete_function().graph.get_operations()}


def schedule_adam():
    return keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.5), beta_1=0.5)


@pytest.mark.parametrize("mode", ["eager", "graph", "xla"])
def test_fused_update_is_keras_adams_update(mode):
    sizes = (BIG, SMALL)
    grad_steps = gradient_sequence(sizes)
    constraint = keras.constraints.MaxNorm(0.5, axis=0)
    ours = run(schedule_adam(), make_variables(*sizes, constraint=constraint), grad_steps,
               _adam.apply_gradients, mode)
    theirs = run(schedule_adam(), make_variables(*sizes, constraint=constraint), grad_steps, keras_apply, mode)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        # Weights move by up to 1e-2 a step; the kernel's float32 `1 - beta_2`
        # (Keras rounds a float64 one) differs by ~1e-5 of a step.
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert int(ours[len(sizes)]) == len(grad_steps)  # iterations, the optimizer's first variable


def test_large_variables_take_one_kernel_small_ones_keras_ops():
    ops_big = op_types(keras.optimizers.Adam(), make_variables(BIG), [tf.ones(BIG)])
    assert "ResourceApplyAdam" in ops_big
    ops_small = op_types(keras.optimizers.Adam(), make_variables(SMALL), [tf.ones(SMALL)])
    assert "ResourceApplyAdam" not in ops_small


def test_small_variables_update_exactly_as_keras():
    sizes = (SMALL, 3)
    grad_steps = gradient_sequence(sizes)
    ours = run(schedule_adam(), make_variables(*sizes), grad_steps, _adam.apply_gradients, "graph")
    theirs = run(schedule_adam(), make_variables(*sizes), grad_steps, keras_apply, "graph")
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))


class AdamSubclass(keras.optimizers.Adam):
    pass


@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.AdamW(1e-2),
    lambda: AdamSubclass(1e-2),
    lambda: keras.optimizers.Adam(1e-2, amsgrad=True),
    lambda: keras.optimizers.Adam(1e-2, clipnorm=1.0),
    lambda: keras.optimizers.Adam(1e-2, global_clipnorm=1.0),
    lambda: keras.optimizers.Adam(1e-2, weight_decay=0.1),
    lambda: keras.optimizers.Adam(1e-2, use_ema=True),
    lambda: keras.optimizers.Adam(1e-2, gradient_accumulation_steps=2),
    lambda: keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-2)),
    lambda: keras.optimizers.RMSprop(1e-2),
], ids=["adamw", "subclass", "amsgrad", "clipnorm", "global_clipnorm", "weight_decay", "ema",
        "accumulation", "loss_scale", "rmsprop"])
def test_anything_but_a_plain_adam_goes_through_keras(make):
    assert "ResourceApplyAdam" not in op_types(make(), make_variables(BIG), [tf.ones(BIG)])
    grad_steps = gradient_sequence((BIG,), steps=3)
    ours = run(make(), make_variables(BIG), grad_steps, _adam.apply_gradients, "graph")
    theirs = run(make(), make_variables(BIG), grad_steps, keras_apply, "graph")
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))


def test_a_missing_gradient_or_a_strategy_goes_through_keras():
    optimizer = keras.optimizers.Adam()
    variables = make_variables(BIG, BIG)
    optimizer.build(variables)
    assert _adam.fusable(optimizer, [tf.ones(BIG), tf.ones(BIG)], variables)
    assert not _adam.fusable(optimizer, [tf.ones(BIG), None], variables)
    with tf.distribute.MirroredStrategy(["cpu:0"]).scope():
        assert not _adam.fusable(optimizer, [tf.ones(BIG), tf.ones(BIG)], variables)
    assert not _adam.fusable(keras.optimizers.Adam(), [tf.ones(BIG)], variables[:1])  # not built


def _closure(apply, optimizer, variables):
    return lambda grads: apply(optimizer, grads, variables)


def test_an_adam_built_lazily_inside_a_tf_function_is_fused():
    # A custom loop that leaves the build to the first apply, inside its
    # tf.function: Keras' path builds it while tracing, and tf.function, having
    # created variables, traces again; that trace, which every call runs, is fused.
    grad_steps = gradient_sequence((BIG, SMALL), steps=3)
    runs = []
    for apply in (_adam.apply_gradients, keras_apply):
        optimizer = keras.optimizers.Adam(1e-2, name="opt")
        variables = [keras.Variable(v.numpy(), name=name) for v, name in zip(make_variables(BIG, SMALL), "ab")]
        step = tf.function(_closure(apply, optimizer, variables))
        for grads in grad_steps:
            step(grads)
        graph_ops = {op.type for op in step.get_concrete_function(grad_steps[0]).graph.get_operations()}
        runs.append((optimizer, variables, graph_ops))
    (ours, our_variables, our_ops), (theirs, their_variables, their_ops) = runs
    assert "ResourceApplyAdam" in our_ops and "ResourceApplyAdam" not in their_ops
    # Keras built both: the same slots under the same paths.
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]
    for a, b in zip(our_variables + ours.variables, their_variables + theirs.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
    assert int(ours.iterations.numpy()) == len(grad_steps)


def test_sparse_gradients_update_as_in_keras():
    def make():
        keras.utils.set_random_seed(0)
        return keras.layers.Embedding(BIG // 4 + 1, 4)

    ids = tf.constant([[0, 3, 3, 17]])
    results = []
    for apply in (_adam.apply_gradients, keras_apply):
        embedding = make()
        embedding.build((None, 4))
        optimizer = keras.optimizers.Adam(1e-2)
        optimizer.build(embedding.trainable_variables)
        for _ in range(3):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(embedding(ids) ** 2)
            grads = tape.gradient(loss, embedding.trainable_variables)
            assert isinstance(grads[0], tf.IndexedSlices)
            apply(optimizer, grads, embedding.trainable_variables)
        results.append(embedding.embeddings.numpy())
    assert np.array_equal(results[0], results[1])
    assert not np.allclose(results[0][0], make()(tf.constant([0])).numpy()[0])  # the rows moved


def test_an_unknown_variable_fails_as_in_keras():
    optimizer = keras.optimizers.Adam()
    optimizer.build(make_variables(BIG))
    with pytest.raises(ValueError, match="Unknown variable"):
        _adam.apply_gradients(optimizer, [tf.ones(BIG)], make_variables(BIG))


def wide_gan(optimizer_class):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((8,)), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(256, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(256, activation="relu"), keras.layers.Dense(1)])
    gan = keras_gan.GAN(g, d, seed=0)
    gan.compile(optimizer_class(1e-3, beta_1=0.5), optimizer_class(1e-3, beta_1=0.5), d_steps=2)
    return gan


def test_gan_fit_fuses_its_adams_and_trains_as_keras_would(monkeypatch):
    kernel = tf.raw_ops.ResourceApplyAdam
    traced = []

    def counting_kernel(**kwargs):
        traced.append(tuple(kwargs["grad"].shape))
        return kernel(**kwargs)

    monkeypatch.setattr(tf.raw_ops, "ResourceApplyAdam", counting_kernel)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    trained = {}
    for optimizer_class in (keras.optimizers.Adam, AdamSubclass):
        traced.clear()
        gan = trained[optimizer_class] = wide_gan(optimizer_class)
        gan.fit(x, batch_size=32, epochs=1, shuffle=False, verbose=0)
        # Only the 256x256 kernels are large enough; D's at each of its 2 updates, then G's.
        assert traced == ([(256, 256)] * 3 if optimizer_class is keras.optimizers.Adam else [])
        assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (4, 2)
    ours, theirs = trained.values()
    for a, b in zip(ours.weights + ours.d_optimizer.variables + ours.g_optimizer.variables,
                    theirs.weights + theirs.d_optimizer.variables + theirs.g_optimizer.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)


@pytest.fixture
def checks_forgotten():
    keras_private.forget_checks()
    yield
    keras_private.forget_checks()


def _fit_counting_kernels(monkeypatch, optimizer_class):
    kernel = tf.raw_ops.ResourceApplyAdam
    traced = []

    def counting_kernel(**kwargs):
        traced.append(tuple(kwargs["grad"].shape))
        return kernel(**kwargs)

    monkeypatch.setattr(tf.raw_ops, "ResourceApplyAdam", counting_kernel)
    gan = wide_gan(optimizer_class)
    gan.fit(np.random.default_rng(0).normal(size=(64, 2)).astype("float32"), batch_size=32, epochs=1,
            shuffle=False, verbose=0)
    monkeypatch.setattr(tf.raw_ops, "ResourceApplyAdam", kernel)
    return traced, [v.numpy() for v in gan.weights + gan.d_optimizer.variables + gan.g_optimizer.variables]


def _assert_trains_as_keras_adam(monkeypatch, state):
    traced, theirs = _fit_counting_kernels(monkeypatch, AdamSubclass)  # Keras' own update
    assert not traced
    assert all(np.array_equal(a, b) for a, b in zip(state, theirs))


def test_the_switch_turns_the_fused_update_off_and_keras_updates_bit_for_bit(monkeypatch, checks_forgotten):
    monkeypatch.setenv(keras_private.ENVIRONMENT_VARIABLE, "adam")
    traced, ours = _fit_counting_kernels(monkeypatch, keras.optimizers.Adam)
    assert not traced
    _assert_trains_as_keras_adam(monkeypatch, ours)


def test_an_adam_option_the_fused_update_does_not_know_turns_it_off_with_one_warning(monkeypatch,
                                                                                  checks_forgotten):
    # What a later Keras adding an Adam argument looks like: not in the allow-list.
    arguments = _adam._constructor_arguments()
    monkeypatch.setattr(_adam, "_constructor_arguments", lambda: arguments | {"nesterov"})
    with pytest.warns(RuntimeWarning, match="`adam` fast path is off.*nesterov"):
        assert "ResourceApplyAdam" not in op_types(keras.optimizers.Adam(), make_variables(BIG), [tf.ones(BIG)])
    grad_steps = gradient_sequence((BIG,), steps=3)
    ours = run(keras.optimizers.Adam(), make_variables(BIG), grad_steps, _adam.apply_gradients, "graph")
    theirs = run(keras.optimizers.Adam(), make_variables(BIG), grad_steps, keras_apply, "graph")
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))


def test_missing_optimizer_internals_turn_the_fused_update_off(monkeypatch, checks_forgotten):
    owner = next(cls for cls in keras.optimizers.Adam.__mro__ if "_get_variable_index" in vars(cls))
    monkeypatch.delattr(owner, "_get_variable_index")
    optimizer = keras.optimizers.Adam()
    variables = make_variables(BIG)
    optimizer.build(variables)
    with pytest.warns(RuntimeWarning, match="`adam` fast path is off.*_get_variable_index"):
        assert not _adam.fusable(optimizer, [tf.ones(BIG)], variables)


def test_the_allow_list_covers_every_argument_of_adam():
    assert _adam._constructor_arguments() <= set(_adam._OPTIONS)
