"""The private Keras and TensorFlow names keras_gan uses, each behind a feature check made once.

keras_gan supports a range of TensorFlow and Keras releases (setup.cfg), and
a few of its paths read names those libraries do not promise to keep. Each
such use is here or in the module of its fast path, guarded the same way:

- `fast_path(name, check, missing)` runs `check()` once per process; it
  holds when the private names exist and behave as the code expects. Where
  it fails (or raises), the public-API path runs instead, and one warning
  names what was not found.
- `KERAS_GAN_DISABLE_FAST_PATHS` (comma-separated names from `FAST_PATHS`,
  or `all`) turns fast paths off for debugging: the public-API paths then
  run, with no warning. A path that trains differently when turned off is a
  bug; the tests run each one off and compare.

The fast paths: `adam` (`keras_gan._internal.adam`: Keras' Adam slots
updated by TF's `ResourceApplyAdam` kernel), `fit_loop`
(`keras_gan._internal.fit_loop`: one eager op per step), `random`
(`keras_gan._internal.random`: TF's fused Philox kernels outside XLA),
`layers` (`Layer._flatten_layers` and `Layer._seed_generators`), `mean`
(two in-place adds to a `keras.metrics.Mean`), `merge_call` (TF's
`maybe_merge_call`), `initial_epoch` (Keras' `Model._initial_epoch`, which
its own `BackupAndRestore` sets to resume an epoch count).

Two uses have no public path and fail loudly instead: `layer_seed_generators`
raises if it cannot find a layer's seed generators (their saved states are
what makes a resumed run draw the masks an uninterrupted one would), and
`keras_gan.resume.ResumableTraining` in a plain `fit` raises, naming
`keras_gan.resume.fit` and `initial_epoch`, where `fit` would not start at
the restored epoch.
"""

import collections
import os
import random
import threading
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

ENVIRONMENT_VARIABLE = "KERAS_GAN_DISABLE_FAST_PATHS"
FAST_PATHS = ("adam", "fit_loop", "random", "layers", "mean", "merge_call", "initial_epoch")

_checked = {}  # fast path name -> whether its check held


def disabled(name):
    """Whether `KERAS_GAN_DISABLE_FAST_PATHS` turns the fast path `name` off (read at every call)."""
    if name not in FAST_PATHS:
        raise ValueError(f"Invalid value for argument `name`: expected one of {FAST_PATHS}. Received: name={name!r}")
    value = os.environ.get(ENVIRONMENT_VARIABLE, "")
    names = {n.strip() for n in value.split(",") if n.strip()}
    unknown = names - set(FAST_PATHS) - {"all"}
    if unknown:
        raise ValueError(
            f"Invalid value for environment variable `{ENVIRONMENT_VARIABLE}`: expected comma-separated "
            f"names from {FAST_PATHS} or `all`. Received: {value!r}"
        )
    return "all" in names or name in names


@tf.autograph.experimental.do_not_convert  # the check is Python, whichever step is being traced
def fast_path(name, check, missing):
    """Whether the fast path `name` may run: not disabled, and `check()` held (run once).

    Args:
        name: one of `FAST_PATHS`.
        check: a function of no arguments returning True when the private
            names exist and behave as expected. It runs eagerly in a thread
            of its own, outside any `tf.function` being traced and any
            strategy scope; an exception counts as False.
        missing: what the warning names when the check fails (the private
            names the fast path needs).

    Returns:
        True to take the fast path, False for the public-API path.
    """
    if disabled(name):
        return False
    if name not in _checked:
        held, error = _run_alone(check)
        if error is not None:  # an AttributeError, TypeError... from a changed private API
            missing = f"{missing} ({type(error).__name__}: {error})"
        _checked[name] = held
        if not held:
            warnings.warn(
                f"keras_gan: the `{name}` fast path is off: {missing} not found as expected in "
                f"Keras {keras.__version__} / TensorFlow {tf.__version__}; using the public API instead.",
                RuntimeWarning,
                stacklevel=3,
            )
    return _checked[name]


def _run_alone(check):
    """`(bool(check()), None)`, or `(False, exception)`, run in a thread of its own.

    TensorFlow's graph stack, eager mode and distribution strategy scope
    are per thread: the check sees none of the caller's (a step being
    traced under XLA or a strategy), so it answers the same wherever the
    fast path is first used.
    """
    result = [False, None]
    # A layer built without a seed draws its seed from Python's `random`: the
    # check leaves the process' random state as it found it.
    python_state, numpy_state = random.getstate(), np.random.get_state()

    def run():
        try:
            result[0] = bool(check())
        except Exception as e:
            result[1] = e

    thread = threading.Thread(target=run, name="keras_gan-feature-check")
    thread.start()
    thread.join()
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    return tuple(result)


def forget_checks():
    """Runs every check again at its next use (for tests that patch a private name)."""
    _checked.clear()


# --- layers -----------------------------------------------------------------


def _layers_check():
    inner = keras.Sequential([keras.layers.Dense(1)])
    outer = keras.Sequential([inner, keras.layers.Dropout(0.5, seed=1)])
    dropout = outer.layers[1]
    return (
        list(outer._flatten_layers()) == [outer, inner, inner.layers[0], dropout]
        and list(outer._flatten_layers(include_self=False)) == [inner, inner.layers[0], dropout]
        and list(dropout._seed_generators) == [dropout.seed_generator]
        and list(inner._seed_generators) == []
    )


def _public_sublayers(layer):
    """A layer's direct sublayers through public names: a model's `layers`, else its public attributes."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    return list(_attribute_values(layer, keras.layers.Layer))


def _public_flatten(model, include_self):
    """Keras' `_flatten_layers` walk (depth first, each layer once) over `_public_sublayers`.

    Input layers, which no model lists among its `layers`, are left out.
    """
    layers = [model] if include_self else []
    seen, queue = set(), collections.deque(_public_sublayers(model))
    while queue:
        layer = queue.popleft()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        layers.append(layer)
        queue.extendleft(_public_sublayers(layer))
    return layers


def _attribute_values(layer, cls):
    """Instances of `cls` among `layer`'s public attributes (lists, tuples and dicts of them too)."""
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, cls):
                yield item


def flatten_layers(model, include_self=True):
    """`model` and every layer nested in it, each once, depth first (Keras' `_flatten_layers`).

    Args:
        model: a Keras layer or model.
        include_self: whether `model` itself comes first.

    Returns:
        A list of layers.
    """
    if fast_path("layers", _layers_check, "`Layer._flatten_layers` / `Layer._seed_generators`"):
        return list(model._flatten_layers(include_self=include_self))
    return _public_flatten(model, include_self)


def layer_seed_generators(*models):
    """The `SeedGenerator`s of the layers of `models` (Dropout, ...), once each, in layer order.

    Keras keeps a layer's generators in `layer._seed_generators`; the
    public-API path finds them among the layer's attributes. Either way,
    a generator held by a layer's attribute but missing from what was found
    raises: a model that saved fewer seed states would restart its dropout
    masks on reload without a word.

    Args:
        *models: Keras layers or models.

    Returns:
        A dict `{"layer_seed_0": generator, ...}`, the names their states
        are saved under.

    Raises:
        RuntimeError: where a layer's seed generators cannot be found.
    """
    private = fast_path("layers", _layers_check, "`Layer._flatten_layers` / `Layer._seed_generators`")
    seen, found = set(), []
    for model in models:
        for layer in flatten_layers(model):
            held = list(_attribute_values(layer, keras.random.SeedGenerator))
            generators = list(layer._seed_generators) if private else held
            lost = [g for g in held if all(g is not f for f in generators)]
            if lost:
                raise RuntimeError(
                    f"keras_gan cannot find the seed generators of layer {layer.name!r} "
                    f"({type(layer).__name__}) in `_seed_generators` (Keras {keras.__version__}): their state "
                    f"would not be saved. Set {ENVIRONMENT_VARIABLE}=layers to look for them among its attributes."
                )
            for generator in generators:
                if id(generator) not in seen:
                    seen.add(id(generator))
                    found.append(generator)
    return {f"layer_seed_{i}": generator for i, generator in enumerate(found)}


# --- metrics ----------------------------------------------------------------


def _mean_check():
    mean = keras.metrics.Mean()
    mean.update_state([1.0, 3.0])
    if not (float(mean.total.value) == 4.0 and float(mean.count.value) == 2.0):
        return False
    mean.total.value.assign_add(2.0)
    mean.count.value.assign_add(1.0)
    return float(mean.result()) == 2.0


def add_to_mean(tracker, value, count=1):
    """`tracker.update_state` for `count` scalars summing to `value`.

    Fast path: two in-place adds to the Mean's `total` and `count` (its
    `update_state` reads, adds and assigns each, about 8 graph ops). Public
    path: `update_state` on `value` followed by `count - 1` zeros, which adds
    exactly `value` and `count`.

    Args:
        tracker: a `keras.metrics.Mean`.
        value: the sum of the scalars (a scalar tensor).
        count: how many scalars (a positive int).
    """
    if fast_path("mean", _mean_check, "`keras.metrics.Mean.total` / `.count`"):
        tracker.total.value.assign_add(ops.cast(value, tracker.total.dtype))
        tracker.count.value.assign_add(ops.cast(count, tracker.count.dtype))
        return
    value = ops.reshape(ops.cast(value, tracker.dtype), (1,))
    tracker.update_state(ops.concatenate([value, ops.zeros((count - 1,), tracker.dtype)]))


# --- distribution -----------------------------------------------------------


def _merge_call_check():
    maybe_merge_call = tf.__internal__.distribute.interim.maybe_merge_call
    return callable(maybe_merge_call) and maybe_merge_call(lambda s: 3, tf.distribute.get_strategy()) == 3


def merge_call(fn, strategy):
    """`fn(strategy)` in cross-replica context, as Keras' optimizers apply their updates.

    Fast path: TF's `maybe_merge_call` (which skips the merge where the
    strategy allows it). Public path: `ReplicaContext.merge_call`, or `fn`
    directly where already in cross-replica context.

    Args:
        fn: a function of the strategy.
        strategy: the current `tf.distribute` strategy.

    Returns:
        What `fn` returns.
    """
    if fast_path("merge_call", _merge_call_check, "`tf.__internal__.distribute.interim.maybe_merge_call`"):
        return tf.__internal__.distribute.interim.maybe_merge_call(fn, strategy)
    context = tf.distribute.get_replica_context()
    if context is None:
        return fn(strategy)
    return context.merge_call(fn)


# --- error messages ---------------------------------------------------------

INVALID_DATA = "Invalid data `"


def invalid_data_message(error):
    """The "Invalid data `...`" message a `tf.debugging` assertion put in `error`, or None.

    TF formats an `InvalidArgumentError` from a failed assertion as its own
    text around the assertion's message; the message is cut out of it. Where
    TF's format is not the one expected (checked once on a real assertion),
    the whole first line from "Invalid data `" on is returned.

    Args:
        error: a `tf.errors.InvalidArgumentError`.

    Returns:
        The message, or None when `error` holds none.
    """
    text = getattr(error, "message", None) or str(error)
    if INVALID_DATA not in text:
        return None
    text = text[text.index(INVALID_DATA):]
    if _error_format_known():
        return text.split("]")[0].splitlines()[0].split(" : ")[0]
    return text.splitlines()[0]


_error_format = {}


def _error_format_known():
    if "known" not in _error_format:
        expected = "Invalid data `x`: a batch contains NaN or Inf values."
        try:
            with tf.init_scope():
                tf.function(lambda t: tf.debugging.assert_all_finite(t, expected))(tf.constant([float("nan")]))
            known = False
        except tf.errors.InvalidArgumentError as e:
            text = e.message[e.message.index(INVALID_DATA):] if INVALID_DATA in e.message else ""
            known = text.split("]")[0].splitlines()[0].split(" : ")[0] == expected
        _error_format["known"] = known
        if not known:
            warnings.warn(
                f"keras_gan: TensorFlow {tf.__version__} words a failed assertion's error in an unexpected "
                "way; invalid-data errors show its first line whole.",
                RuntimeWarning,
                stacklevel=3,
            )
    return _error_format["known"]
