"""Less host work per step of `fit` and `evaluate` than Keras' own loop.

Keras 3's TensorFlow trainer runs every step, even with one step per
execution, as a `tf.function` over the data iterator that returns a
`tf.experimental.Optional`, and then reads that Optional in Python with two
more eager ops (`has_value()`, `get_value()`). On small networks that host
work is a large share of the step (`benchmarks/throughput.py`, variant
`keras_loop`, measures it).

With one step per execution, no distribution strategy and no `run_eagerly`,
`FewerHostOpsPerStep` does what Keras itself does for a Python iterator
(`keras/src/backend/tensorflow/trainer.py`, `_make_function`): it takes the
batch with `next(iterator)` (one eager op; `StopIteration` at the end of the
data, which ends the epoch as in Keras) and calls the compiled step on it.
The step is compiled as Keras compiles it: `reduce_retracing`, the model's
`jit_compile`, no AutoGraph. Everything else keeps Keras' loop.

Why not fetch the batch inside the compiled step (one call, no eager op):
when the iterator is exhausted, the step's stateful ops that do not read the
batch (a seed generator's advance, G's BatchNorm statistics) may already
have run before the end-of-sequence error aborts it, and a control
dependency on the batch does not stop them (tried on TF 2.21).

It leans on how Keras' TensorFlow trainer builds its functions (each
`make_*_function` sets `self.train_function`/`self.test_function`, called
with a `tf.data.Iterator`, a `tf.distribute.DistributedIterator` or a
Python iterator, and `_autoconvert_optionals` turns Optionals in the data
into None): `_keras_trainer_is_as_expected` checks that once per process,
and where it does not hold, or with `KERAS_GAN_DISABLE_FAST_PATHS=fit_loop`,
Keras' own functions run (`keras_gan._internal.keras_private`).

Keras' loop does just that at one step per execution, so where it stays
(under a strategy) the same ops ran on the failed fetch that ends an epoch
of a dataset of unknown length. `after_the_batch`, on the models' steps,
makes every op of the step wait for its batch.
"""

import collections.abc
import functools
import weakref

import keras
import tensorflow as tf
from keras import tree

from keras_gan._internal import keras_private


class FewerHostOpsPerStep:
    """Mixin for a `keras.Model` trained with TensorFlow: leaner train and test functions.

    Put it before `keras.Model` in the bases. `fit`, `evaluate` and their
    callbacks see the same steps, logs and end of data as with Keras' loop.
    """

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        keras_function = super().make_train_function(force=True)  # sets self.train_function
        self.train_function = self._one_call_per_step(self.train_step, keras_function or self.train_function)
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is not None and not force:
            return self.test_function
        keras_function = super().make_test_function(force=True)
        self.test_function = self._one_call_per_step(self.test_step, keras_function or self.test_function)
        return self.test_function

    def _one_call_per_step(self, step_function, keras_function):
        """`function(iterator)`: the compiled step on `next(iterator)`, or Keras' `keras_function`."""
        if self.steps_per_execution != 1 or self.run_eagerly or trains_under_a_strategy(self):
            return keras_function
        if not keras_private.fast_path("fit_loop", _keras_trainer_is_as_expected,
                                       "Keras' TensorFlow trainer (`make_train_function`, `_autoconvert_optionals`)"):
            return keras_function
        step = tf.function(step_function, reduce_retracing=True, jit_compile=self.jit_compile, autograph=False)
        seen_iterator = None  # a weak reference to the tf.data iterator last seen
        has_optionals = False  # whether its batches hold Optionals

        def function(iterator):
            nonlocal seen_iterator, has_optionals
            if not isinstance(iterator, tf.data.Iterator):
                if isinstance(iterator, tf.distribute.DistributedIterator) or not isinstance(
                        iterator, collections.abc.Iterator):
                    return keras_function(iterator)
                return step(_without_optionals(next(iterator)))  # a Python iterator (train_on_batch)
            spec = iterator.element_spec
            if seen_iterator is None or seen_iterator() is not iterator:
                # Traced for the dataset's element_spec, as Keras' loop traces
                # the step: batches of any size then share one trace (with
                # `next`'s concrete shapes, a ragged last batch would trace
                # again), and the graph is the one Keras' loop would run.
                step.get_concrete_function(_without_optionals(spec))
                seen_iterator = weakref.ref(iterator)
                has_optionals = any(isinstance(s, tf.OptionalSpec) for s in tree.flatten(spec))
            data = next(iterator)
            return step(_without_optionals(data) if has_optionals else data)

        return function

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a strategy Keras builds the model from the first batch, which
        # it first averages with `strategy.reduce("MEAN", batch)`: under
        # MultiWorkerMirroredStrategy that fails for a batch of several tensors
        # ((input, target), (a, b), (x, labels)). These models are built, and
        # their optimizers too, before `fit`, and compile no metrics nor loss
        # of Keras': Keras' build would do nothing. (Keras' trainer calls this
        # private hook; were it renamed, Keras' own build would run, as it does
        # for every model but a multi-worker one.)
        if (all(layer.built for layer in keras_private.flatten_layers(self))
                and getattr(self, "_compile_metrics", None) is None and getattr(self, "_compile_loss", None) is None):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def _without_optionals(structure):
    """As Keras' `_autoconvert_optionals`: an Optional (or its spec) in the data is None."""
    return tree.map_structure(
        lambda x: None if isinstance(x, (tf.experimental.Optional, tf.OptionalSpec)) else x, structure
    )


def _keras_trainer_is_as_expected():
    """Keras' trainer sets its train and test functions and turns Optionals into None as assumed."""
    trainer = next(cls for cls in keras.Model.__mro__ if "make_train_function" in vars(cls))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    made = trainer.make_train_function(model, force=True), trainer.make_test_function(model, force=True)
    converted = trainer._autoconvert_optionals(model, lambda data: data)(
        (tf.experimental.Optional.empty(None), tf.constant(1.0)))
    return (
        all(function is None or function is made_function
            for function, made_function in zip(made, (model.train_function, model.test_function)))
        and callable(model.train_function) and callable(model.test_function)
        and converted[0] is None and float(converted[1]) == 1.0
        and tf.data.Iterator is not None and tf.distribute.DistributedIterator is not None
    )


def trains_under_a_strategy(model):
    """Whether the model trains under a `tf.distribute` strategy (its own, or the scope's)."""
    return tf.distribute.has_strategy() or model.distribute_strategy is not tf.distribute.get_strategy()


def after_the_batch(step):
    """Decorates a model's `train_step`/`test_step`: every op it creates waits for its batch.

    Keras' own loop (kept under a distribution strategy) fetches the batch
    inside the compiled step. At the end of a dataset of unknown length that
    fetch fails, and the step's stateful ops that do not read the batch (a
    seed generator's advance, a Mean tracker's count, G's forward pass and
    BatchNorm statistics in the G phase) may run before the failure aborts
    the call: the epoch's logged means then counted a step that never ran
    (`tests/test_fit_loop.py`). A control dependency inside the step's own
    graph holds them back (one on the call of a nested function does not);
    on the toy nets it cost nothing measurable.
    """

    @functools.wraps(step)
    def step_after_the_batch(self, data):
        batch = [t for t in tf.nest.flatten(data, expand_composites=True) if isinstance(t, tf.Tensor)]
        with tf.control_dependencies(batch):
            return step(self, data)

    return step_after_the_batch
