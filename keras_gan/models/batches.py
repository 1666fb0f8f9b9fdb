"""How `GAN` reads a batch and cuts it for its updates: the real slices and their noise."""

import tensorflow as tf
import keras
from keras import ops


def has_labels(x, y):
    """Whether `fit` data carries labels: `(x, y)` batches, or a `y` beside `x`."""
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        return isinstance(spec, tuple) and len(spec) >= 2
    return y is not None or isinstance(x, (tuple, list))


def missing_labels_message(num_classes):
    return (
        f"Invalid data: a conditional GAN (num_classes={num_classes}) trains on "
        "(x, y) pairs with int labels y in [0, num_classes). Received: x without labels "
        "(pass `fit(x, y)` or a dataset of (x, y) batches)."
    )


def real_samples(data, num_classes):
    """The real batch as float32 `x`, and int32 labels (None when unconditional)."""
    x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
    x = ops.cast(x, "float32")
    x = tf.debugging.assert_all_finite(x, "Invalid data `x`: a batch contains NaN or Inf values.")
    if num_classes is None:
        return x, None
    if y is None:
        raise ValueError(missing_labels_message(num_classes))
    return x, ops.reshape(ops.cast(y, "int32"), (-1,))


def slices(real, labels, count, pack=1):
    """Splits the batch (and its labels) into `count` consecutive disjoint slices.

    A batch smaller than `count` (the ragged last batch of an epoch) wraps
    around, so no slice is ever empty. With `pack=m` every slice holds a
    multiple of m samples (its size rounded down, at least m).

    Returns:
        A list of `count` pairs `(real slice, label slice or None)`.
    """
    if count == 1 and pack == 1:
        return [(real, labels)]  # the whole batch: no gather (a copy) per step
    static_n = real.shape[0]
    if static_n is not None and static_n >= count * pack:
        # A batch size known when tracing: the same slices as below, cut
        # with constant bounds (no index arithmetic and gather per slice).
        bounds = [(i * static_n) // count for i in range(count + 1)]
        cuts = [(start, start + (stop - start) // pack * pack) for start, stop in zip(bounds[:-1], bounds[1:])]
        return [(real[a:b], None if labels is None else labels[a:b]) for a, b in cuts]
    n = ops.shape(real)[0]
    bounds = [(i * n) // count for i in range(count + 1)]
    result = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        size = tf.maximum((stop - start) // pack * pack, pack)
        index = tf.range(start, start + size) % n
        result.append((tf.gather(real, index), None if labels is None else tf.gather(labels, index)))
    return result


def split_noise(sample_noise, reals):
    """One latent batch per real batch in `reals`, cut from a single `sample_noise(n)` draw.

    A train step's updates draw their noise together: one seed and one
    Box-Muller pass per step rather than per update (about 35 graph ops fewer
    per extra update, before Grappler). Every update still gets its own
    latent vectors, from the same N(0, I).
    """
    if len(reals) == 1:
        return [sample_noise(ops.shape(reals[0])[0])]
    sizes = [r.shape[0] for r in reals]
    if any(size is None for size in sizes):
        sizes = tf.stack([tf.shape(r)[0] for r in reals])
        return tf.split(sample_noise(tf.reduce_sum(sizes)), sizes, num=len(reals))
    return tf.split(sample_noise(sum(sizes)), sizes)
