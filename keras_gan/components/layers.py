"""Layers that let D look at a minibatch, not one sample, against mode collapse.

- `MinibatchStddev` (ProGAN/StyleGAN): appends the batch's average standard
  deviation as one extra feature, so D can tell a collapsed batch.
- `SquaredDeviationFromBatchMean`: each sample together with its squared
  deviation from the batch mean (the 1D toy from the user's notes).
- `PackSamples` (PacGAN): D judges `pack` samples at once; `pack_samples`
  is the same reshape as a function.

All three are differentiable in their input, so they work in the G phase and
under the gradient penalties.

`SpectralNorm` (`keras_gan.spectral_norm`), the other D stabilizer that is a
layer, is re-exported here.
"""

import keras
from keras import ops

from keras_gan._internal.validation import check_positive_int
from keras_gan.components.spectral_norm import SpectralNorm  # noqa: F401  (re-exported)


def pack_samples(x, pack):
    """Groups a batch into `batch // pack` packed samples (PacGAN).

    Consecutive samples are concatenated along the last axis: `(B, d)` becomes
    `(B // pack, d * pack)` and `(B, H, W, C)` becomes
    `(B // pack, H, W, C * pack)`. The batch size must be a multiple of `pack`.

    Args:
        x: a tensor `(batch, ..., channels)`.
        pack: samples per group.

    Returns:
        The packed tensor.

    Example:

    ```python
    packed = keras_gan.layers.pack_samples(np.zeros((8, 2)), 2)  # (4, 4)
    ```
    """
    pack = check_positive_int("pack", pack)
    if pack == 1:
        return x
    x = ops.convert_to_tensor(x)
    shape = ops.shape(x)
    rank = len(x.shape)
    grouped = ops.reshape(x, (-1, pack) + tuple(shape[1:]))
    # Move the pack axis next to the channels so they concatenate.
    perm = (0,) + tuple(range(2, rank)) + (1, rank)
    grouped = ops.transpose(grouped, perm)
    return ops.reshape(grouped, (-1,) + tuple(shape[1:-1]) + (shape[-1] * pack,))


@keras.saving.register_keras_serializable(package="keras_gan")
class PackSamples(keras.layers.Layer):
    """PacGAN packing as a layer: `(B, ..., C)` to `(B // pack, ..., C * pack)`.

    `keras_gan.GAN(..., pack=m)` puts this layer in front of D for real and
    fake batches; build D for `m` times the channels
    (`keras_gan.networks.packed_discriminator`).

    Args:
        pack: samples per group (m).

    Example:

    ```python
    layer = keras_gan.layers.PackSamples(2)
    ```
    """

    def __init__(self, pack=2, **kwargs):
        super().__init__(**kwargs)
        self.pack = check_positive_int("pack", pack)

    def call(self, x):
        return pack_samples(x, self.pack)

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.pack
        last = None if input_shape[-1] is None else input_shape[-1] * self.pack
        return (batch,) + tuple(input_shape[1:-1]) + (last,)

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}


@keras.saving.register_keras_serializable(package="keras_gan")
class MinibatchStddev(keras.layers.Layer):
    """Appends the minibatch standard deviation as one extra channel.

    The standard deviation of every feature is taken over a group of samples
    (the whole batch when `group_size` is None, else groups of `group_size`
    as in StyleGAN), averaged over features, and appended to each sample of
    the group: `(B, d)` becomes `(B, d + 1)` and `(B, H, W, C)` becomes
    `(B, H, W, C + 1)`.

    Under tf.distribute the statistics are per replica (each replica's
    batch), as in StyleGAN's multi-GPU training.

    Args:
        group_size: samples per group, or None for the whole batch. The batch
            size must be a multiple of it.
        epsilon: added to the variance before the square root (safe gradient
            for identical samples).

    Example:

    ```python
    x = keras.layers.Dense(64)(x)
    x = keras_gan.layers.MinibatchStddev()(x)
    ```
    """

    def __init__(self, group_size=None, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.group_size = None if group_size is None else check_positive_int("group_size", group_size)
        self.epsilon = float(epsilon)

    def call(self, x):
        shape = ops.shape(x)
        feature_axes = tuple(range(1, len(x.shape)))
        if self.group_size is None:
            var = ops.var(x, axis=0, keepdims=True)
            std = ops.mean(ops.sqrt(var + self.epsilon), axis=feature_axes, keepdims=True)
            std = ops.broadcast_to(std, (shape[0],) + tuple(shape[1:-1]) + (1,))
        else:
            g = self.group_size
            grouped = ops.reshape(x, (g, -1) + tuple(shape[1:]))  # StyleGAN's [G, M, ...]
            var = ops.var(grouped, axis=0)
            std = ops.mean(ops.sqrt(var + self.epsilon), axis=feature_axes, keepdims=True)
            std = ops.tile(std, (g,) + (1,) * len(feature_axes))
            std = ops.broadcast_to(std, (shape[0],) + tuple(shape[1:-1]) + (1,))
        return ops.concatenate([x, ops.cast(std, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] + 1
        return tuple(input_shape[:-1]) + (last,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="keras_gan")
class SquaredDeviationFromBatchMean(keras.layers.Layer):
    """Each sample together with its squared deviation from the batch mean.

    `(B, d)` becomes `(B, 2 d)`: `[x, (x - mean_batch(x))**2]`. On the 1D toy
    a collapsed G gives deviations near 0 where real data gives about
    `std**2`, so D can see the collapse (the user's notes). Under
    tf.distribute the mean is over each replica's batch.

    Returns (when called):
        `(batch, 2 d)` features.

    Example:

    ```python
    d = keras_gan.networks.toy_discriminator(1, minibatch_features="deviation")
    ```
    """

    def call(self, x):
        deviation = ops.square(x - ops.mean(x, axis=0, keepdims=True))
        return ops.concatenate([x, deviation], axis=-1)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] * 2
        return tuple(input_shape[:-1]) + (last,)
