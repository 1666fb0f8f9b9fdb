"""Argument and data checks shared by the model, the data helpers and the CLI."""

import warnings

import numpy as np
import tensorflow as tf


class InvalidDataError(ValueError, tf.errors.InvalidArgumentError):
    """Bad data found by a check inside the training step (a NaN batch, a label out of range).

    A `ValueError` with a one-line message; also a
    `tf.errors.InvalidArgumentError`, what TensorFlow raised before, so
    code catching that keeps working.
    """

    def __init__(self, message):
        ValueError.__init__(self, message)
        tf.errors.InvalidArgumentError.__init__(self, None, None, message)
        self.args = (message,)

    def __str__(self):
        return self.message


def _check_int(name, value, minimum, expected):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_positive_int(name, value):
    """Returns `value` as an int, or raises a ValueError naming `name`."""
    return _check_int(name, value, 1, "a positive integer")


def check_non_negative_int(name, value):
    """Returns `value` as an int >= 0, or raises a ValueError naming `name`."""
    return _check_int(name, value, 0, "a non-negative integer")


def check_float(name, value, positive=False, non_negative=False):
    """Returns `value` as a finite float (positive or non-negative if asked), or raises a ValueError naming `name`."""
    try:
        # float("3") parses: a string is refused as garbage, not read as a number.
        number = float("nan") if isinstance(value, (str, bytes)) else float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if (isinstance(value, bool) or not np.isfinite(number) or (positive and number <= 0)
            or (non_negative and number < 0)):
        expected = ("a positive finite float" if positive else
                    "a non-negative float" if non_negative else "a finite float")
        raise ValueError(f"Invalid value for argument `{name}`: expected {expected}. Received: {name}={value!r}")
    return number


def check_bool(name, value):
    """`value` as a bool, or a ValueError naming `name` (1, "yes" and None are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid value for argument `{name}`: expected True or False. Received: {name}={value!r}")
    return bool(value)


def check_seed(name, value):
    """Returns `value` as an int usable as a stateless seed (int64), or raises a ValueError."""
    if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
            or not -(2**63) <= int(value) < 2**63):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected an integer in [-2**63, 2**63). "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_noise(z, latent_dim):
    """`z` as a float32 numpy array of shape `(n, latent_dim)` with n >= 1, finite; else raises."""
    try:
        array = np.asarray(z)
        if array.dtype.kind not in "iuf":
            raise TypeError
        array = array.astype("float32")
    except (TypeError, ValueError):
        raise TypeError(
            f"Invalid value for argument `z`: expected an array of real numbers of shape (n, {latent_dim}). "
            f"Received: z of type {type(z).__name__}" + (f" and dtype {array.dtype}" if hasattr(z, "dtype") else "")
        ) from None
    if array.ndim != 2 or array.shape[1] != latent_dim or array.shape[0] == 0:
        raise ValueError(
            f"Invalid value for argument `z`: expected shape (n, {latent_dim}) with n >= 1. "
            f"Received: z with shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("Invalid value for argument `z`: it contains NaN or Inf values.")
    return array


# Data of larger magnitude is refused: it saturates the networks (NaN losses).
MAX_DATA_MAGNITUDE = 1e6


def _uint8_error():
    return ValueError(
        "Invalid data `x`: expected samples scaled like the generator's output (e.g. [-1, 1] for "
        "tanh). Received: uint8 data (pixel values 0..255); scale it first, e.g. "
        "`x.astype('float32') / 127.5 - 1` (keras_gan.data's image pipelines do this)."
    )


def _check_dtype(dtype):
    """Refuses dtypes a GAN cannot train on: uint8 (unscaled images), bool, complex, strings."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        raise _uint8_error()
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise ValueError(f"Invalid data `x`: expected real numbers (floats or ints). Received: dtype {dtype}")


# The reference generators (keras_gan.networks) end in tanh: images in [-1, 1].
GENERATOR_RANGE = (-1.0, 1.0)


def check_image_range(x):
    """Refuses float images in 0..255 and warns about images in 0..1 (a tanh G makes [-1, 1]).

    `x` is a numpy batch of images `(n, H, W, C)`; other shapes (toy vectors,
    whose range is the data's own) and integer data are left alone. Images up
    to 255 cannot be matched by G, so they are refused; images in 0..1 can be
    (a G ending in a sigmoid makes them), so they only warn: with a tanh G, D
    tells real from fake by the sign of the pixels alone.
    """
    arr = np.asarray(x)
    if arr.ndim != 4 or arr.size == 0 or not np.issubdtype(arr.dtype, np.floating):
        return
    low, high = float(np.min(arr)), float(np.max(arr))
    found = f"float images with values from {low:g} to {high:g}"
    if low >= 0.0 and high > 2.0:
        raise ValueError(
            "Invalid data `x`: expected images scaled like the generator's output ([-1, 1] for "
            f"the tanh that ends keras_gan.networks' generators). Received: {found} (pixel values "
            "0..255); scale them first: `x = x / 127.5 - 1` (keras_gan.data's image pipelines do this)."
        )
    if low >= 0.0 and 0.5 < high <= 1.0:
        warnings.warn(
            f"Data `x` holds {found} (0..1), but a tanh generator (keras_gan.networks') produces "
            "[-1, 1]: D can tell real from fake by the range alone. Scale them: `x = x * 2 - 1` "
            "(or ignore this if your generator ends in a sigmoid).",
            stacklevel=3,
        )


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
    if x is None or isinstance(x, (dict, str, bytes)):
        raise ValueError(
            "Invalid data `x`: expected a numpy array or a tf.data.Dataset. "
            f"Received: x of type {type(x).__name__}"
        )
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    if isinstance(x, (tuple, list)) and x and not np.isscalar(x[0]):
        x = x[0]
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        if isinstance(spec, (tuple, list)):
            spec = spec[0]
        if isinstance(spec, dict) or not hasattr(spec, "shape"):
            return
        if hasattr(spec, "dtype"):
            _check_dtype(spec.dtype.as_numpy_dtype)
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
        image_batches = shape is not None and len(shape) == 4 and spec.dtype.is_floating
        first = None
        if cardinality == int(tf.data.UNKNOWN_CARDINALITY) or (cardinality != 0 and image_batches):
            first = next(iter(x.take(1)), None)
        if cardinality == 0 or (cardinality == int(tf.data.UNKNOWN_CARDINALITY) and first is None):
            raise ValueError("Invalid data `x`: the dataset is empty.")
        if image_batches and first is not None:
            first = first[0] if isinstance(first, (tuple, list)) else first
            check_image_range(first.numpy())  # the first batch stands for the data
        return
    if isinstance(x, np.ndarray) or np.isscalar(x) or isinstance(x, (list, tuple)):
        arr = np.asarray(x)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(f"Invalid data `x`: expected a non-empty array. Received: shape {arr.shape}")
        if sample_shape is not None and not _compatible(sample_shape, arr.shape[1:]):
            raise _shape_error(sample_shape, (None,) + arr.shape[1:])
        _check_dtype(arr.dtype)
        if not np.all(np.isfinite(arr)):
            raise ValueError("Invalid data `x`: it contains NaN or Inf values.")
        peak = float(np.max(np.abs(arr.astype("float64"))))  # np.abs of the int minimum is negative
        if peak >= MAX_DATA_MAGNITUDE:
            raise ValueError(
                f"Invalid data `x`: expected values of magnitude below {MAX_DATA_MAGNITUDE:g} "
                f"(scale the data, e.g. to [-1, 1]). Received: values up to {peak:g}"
            )
        check_image_range(arr)
        if (batch_size or 32) < d_steps:
            raise ValueError(
                f"Invalid value for argument `batch_size`: expected at least d_steps={d_steps} "
                f"(one slice per D update). Received: batch_size={batch_size}"
            )


def _checked_dataset(dataset, num_classes, check_x=True):
    """`dataset` with each batch's values checked in the input pipeline.

    In the train step the checks would come too late (D's embedding lookup
    fails first, with a graph trace) or not at all (XLA drops asserts and
    CheckNumerics: NaN batches and out-of-range labels then pass silently).
    With `check_x=False` (a step without XLA checks `x` itself) only labels
    are checked, and a dataset without labels to check is returned as is: a
    map per batch is a measurable share of a small network's step.
    """
    spec = dataset.element_spec
    labelled = isinstance(spec, tuple) and len(spec) >= 2 and hasattr(spec[1], "dtype")
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not hasattr(x_spec, "dtype"):
        return dataset  # dicts and nested structures: left to the model
    check_labels = num_classes is not None and labelled
    if not (check_x or check_labels):
        return dataset
    if check_labels and not spec[1].dtype.is_integer:
        raise ValueError(
            f"Invalid data `y`: expected int labels in [0, {num_classes}). "
            f"Received: a dataset of labels of dtype {spec[1].dtype.name}"
        )
    label_message = f"Invalid data `y`: expected int labels in [0, {num_classes})."

    def check(*batch):
        checks = []
        if check_x and batch[0].dtype.is_floating:
            checks.append(tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(batch[0])),
                ["Invalid data `x`: a batch contains NaN or Inf values."]))
        if check_labels:
            labels = batch[1]
            checks += [tf.debugging.assert_non_negative(labels, message=label_message),
                       tf.debugging.assert_less(labels, tf.cast(num_classes, labels.dtype), message=label_message)]
        with tf.control_dependencies(checks):
            checked = tuple(tf.identity(t) for t in batch)
        return checked if isinstance(spec, tuple) else checked[0]

    # Parallel and prefetched, so the check never stalls the training step.
    return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
        tf.data.AUTOTUNE)


def validate_values(x, y, num_classes=None, check_x_in_pipeline=True):
    """Checks the values of `fit` data that `validate_training_data` leaves to later.

    A dataset is returned with each batch checked in the input pipeline (no
    NaN/Inf in `x`, unless `check_x_in_pipeline=False` because the train step
    checks it; labels in [0, num_classes) for a conditional GAN).
    Numpy labels of a conditional GAN are checked at once.

    Returns:
        `x`, or the checked dataset.
    """
    if isinstance(x, tf.data.Dataset):
        return _checked_dataset(x, num_classes, check_x_in_pipeline)
    if num_classes is None:
        return x
    if y is None and isinstance(x, (tuple, list)) and len(x) >= 2:
        y = x[1]  # fit((x, y))
    if y is None:
        return x
    labels = np.asarray(y)
    if labels.size == 0 or labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Invalid data `y`: expected int labels in [0, {num_classes}). "
            f"Received: y with dtype {labels.dtype} and shape {labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Invalid data `y`: expected int labels in [0, {num_classes}). "
            f"Received: labels from {labels.min()} to {labels.max()}"
        )
    return x
