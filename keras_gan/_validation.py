"""Argument and data checks shared by the model, the data helpers and the CLI."""

import numpy as np
import tensorflow as tf


def check_positive_int(name, value):
    """Returns `value` as an int, or raises a ValueError naming `name`."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a positive integer. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def _shape_error(expected, received):
    return ValueError(
        "Invalid data `x`: expected batches of samples of shape "
        f"{tuple(expected)} (the discriminator's input shape), i.e. batches of shape "
        f"(batch, {', '.join(str(d) for d in expected)}). Received: batches of shape "
        f"{tuple(received)}"
    )


def _compatible(expected, received):
    return len(expected) == len(received) and all(
        e is None or r is None or e == r for e, r in zip(expected, received)
    )


def validate_training_data(x, sample_shape, d_steps, batch_size=None):
    """Checks data passed to `GAN.fit` before Keras sees it.

    Numpy arrays are checked for emptiness, shape and finiteness here;
    `tf.data` datasets for shape and emptiness (their values are checked for
    NaN/Inf batch by batch in `train_step`). Other inputs are left to Keras.
    """
    if x is None:
        raise ValueError("Invalid data `x`: expected a numpy array or a tf.data.Dataset. Received: x=None")
    if isinstance(x, (tuple, list)) and x and not np.isscalar(x[0]):
        x = x[0]
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        if isinstance(spec, (tuple, list)):
            spec = spec[0]
        if isinstance(spec, dict) or not hasattr(spec, "shape"):
            return
        shape = tuple(spec.shape.as_list()) if spec.shape.rank is not None else None
        if sample_shape is not None and shape is not None:
            if shape == tuple(sample_shape) or _compatible(sample_shape, shape):
                raise ValueError(
                    "Invalid data `x`: the dataset yields single samples of shape "
                    f"{shape}; expected batches (call `dataset.batch(batch_size)`)."
                )
            if not shape or not _compatible(sample_shape, shape[1:]):
                raise _shape_error(sample_shape, shape)
        if shape and shape[0] is not None and shape[0] < d_steps:
            raise ValueError(
                f"Invalid data `x`: each batch must hold at least d_steps={d_steps} "
                f"samples (one slice per D update). Received: batches of {shape[0]}"
            )
        cardinality = int(x.cardinality())
        if cardinality == 0 or (
            cardinality == int(tf.data.UNKNOWN_CARDINALITY) and next(iter(x.take(1)), None) is None
        ):
            raise ValueError("Invalid data `x`: the dataset is empty.")
        return
    if isinstance(x, np.ndarray) or np.isscalar(x) or isinstance(x, (list, tuple)):
        arr = np.asarray(x)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(f"Invalid data `x`: expected a non-empty array. Received: shape {arr.shape}")
        if sample_shape is not None and not _compatible(sample_shape, arr.shape[1:]):
            raise _shape_error(sample_shape, (None,) + arr.shape[1:])
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"Invalid data `x`: expected numbers. Received: dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("Invalid data `x`: it contains NaN or Inf values.")
        if (batch_size or 32) < d_steps:
            raise ValueError(
                f"Invalid value for argument `batch_size`: expected at least d_steps={d_steps} "
                f"(one slice per D update). Received: batch_size={batch_size}"
            )


def resolve_identifier(identifier, base_class, registry, error):
    """An instance of `base_class` from an instance, a config dict or a registered name.

    `error` is the ValueError to raise for anything else.
    """
    import keras

    if isinstance(identifier, base_class):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str) and identifier in registry:
        return registry[identifier]()
    raise error
