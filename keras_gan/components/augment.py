"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for small datasets.

Adaptive discriminator augmentation (ADA) is `keras_gan.augment.Adaptive`
(defined in `keras_gan.components.ada`).

The same random transforms are applied to real and fake images before D, in
the D phase and in the G phase (inside `gan.combined`: G -> augment -> D), so
G is trained through them and D never sees un-augmented data. Every transform
is differentiable in the image. Randomness comes from the layer's own
`keras.random.SeedGenerator` (saved with the model) and stateless ops, so the
layer works under XLA and tf.distribute (docs/design.md, "Noise per replica").

Policies, as in the paper's code:

- `color`: random brightness (+U(-0.5, 0.5)), saturation (x U(0, 2)) and
  contrast (x U(0.5, 1.5)), per image.
- `translation`: shift by up to 1/8 of the size, zero padding, per image.
- `cutout`: zero a random square of half the size, per image.
"""

import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import random as _random
from keras_gan.components.ada import Adaptive, augment_images  # noqa: F401  (keras_gan.augment.Adaptive)

POLICIES = ("color", "translation", "cutout")


def _parse_policy(policy):
    if isinstance(policy, str):
        names = [p.strip() for p in policy.split(",") if p.strip()]
    else:
        try:
            names = [str(p).strip() for p in policy]
        except TypeError:
            names = None
    if not names or any(n not in POLICIES for n in names) or len(set(names)) != len(names):
        raise ValueError(
            "Invalid value for argument `policy`: expected a comma-separated subset of "
            f"{', '.join(POLICIES)} (e.g. 'translation,cutout,color'). Received: policy={policy!r}"
        )
    return [n for n in POLICIES if n in names]


def _replica_seed(seed_generator):
    # A SeedGenerator's state is not per replica, so alone it gives every replica the same
    # numbers (keras-team/keras#20611; docs/design.md, "Noise per replica"): fold in the replica id.
    context = tf.distribute.get_replica_context()
    replica_id = 0 if context is None else context.replica_id_in_sync_group
    return _random.fold_in(seed_generator.next(), replica_id)


def _uniform(shape, seed, salt, minval=0.0, maxval=1.0):
    seed = _random.fold_in(seed, salt)
    # Not tf.random.stateless_uniform: its floats change under XLA.
    return _random.uniform(shape, seed, minval, maxval)


def color(x, seed):
    """Random brightness, saturation and contrast, per image (DiffAugment).

    Args:
        x: images `(batch, H, W, C)`.
        seed: a stateless seed (2 ints).

    Returns:
        The transformed images: `x + b`, then saturation and contrast scaled
        about the pixel's channel mean and the image mean.

    Example:

    ```python
    y = keras_gan.augment.color(images, tf.constant([0, 1]))
    ```
    """
    n = ops.shape(x)[0]
    x = x + (_uniform((n, 1, 1, 1), seed, 0) - 0.5)
    mean = ops.mean(x, axis=-1, keepdims=True)
    x = (x - mean) * (_uniform((n, 1, 1, 1), seed, 1) * 2.0) + mean
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (_uniform((n, 1, 1, 1), seed, 2) + 0.5) + mean


def _shift(x, shift, axis):
    """Shifts each image by its own integer `shift` along `axis` (1 or 2), zero fill."""
    size = x.shape[axis]
    source = tf.range(size)[None, :] - shift[:, None]  # (n, size): where each pixel comes from
    inside = ops.cast((source >= 0) & (source < size), x.dtype)
    moved = tf.gather(x, tf.clip_by_value(source, 0, size - 1), axis=axis, batch_dims=1)
    mask_shape = (-1, size, 1, 1) if axis == 1 else (-1, 1, size, 1)
    return moved * ops.reshape(inside, mask_shape)


def translation(x, seed, ratio=0.125):
    """Shifts each image by up to `ratio` of its size in each direction, zero fill.

    Args:
        x: images `(batch, H, W, C)`.
        seed: a stateless seed (2 ints).
        ratio: the largest shift as a fraction of H and of W.

    Returns:
        The shifted images (each by its own integer offsets).

    Example:

    ```python
    y = keras_gan.augment.translation(images, tf.constant([0, 1]))
    ```
    """
    n = ops.shape(x)[0]
    for axis, salt in ((1, 3), (2, 4)):
        limit = int(x.shape[axis] * ratio + 0.5)
        shift = _random.uniform_int(
            (n,), _random.fold_in(seed, salt),
            minval=-limit, maxval=limit + 1, dtype=tf.int32,
        )
        x = _shift(x, shift, axis)
    return x


def cutout(x, seed, ratio=0.5):
    """Zeroes a random square of `ratio` times the image size, per image.

    Args:
        x: images `(batch, H, W, C)`.
        seed: a stateless seed (2 ints).
        ratio: the square's side as a fraction of H and of W.

    Returns:
        The images with one square (clipped at the border) set to 0.

    Example:

    ```python
    y = keras_gan.augment.cutout(images, tf.constant([0, 1]))
    ```
    """
    n = ops.shape(x)[0]
    h, w = x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = _random.uniform_int(
        (n, 1), _random.fold_in(seed, 5),
        minval=0, maxval=h + (1 - ch % 2), dtype=tf.int32)
    cx = _random.uniform_int(
        (n, 1), _random.fold_in(seed, 6),
        minval=0, maxval=w + (1 - cw % 2), dtype=tf.int32)
    rows = tf.range(h)[None, :] - (cy - ch // 2)  # (n, h)
    cols = tf.range(w)[None, :] - (cx - cw // 2)
    in_rows = (rows >= 0) & (rows < ch)
    in_cols = (cols >= 0) & (cols < cw)
    cut = in_rows[:, :, None] & in_cols[:, None, :]  # (n, h, w)
    return x * ops.cast(~cut, x.dtype)[..., None]


_TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


@keras.saving.register_keras_serializable(package="keras_gan")
class DiffAugment(keras.layers.Layer):
    """Differentiable augmentation of image batches `(B, H, W, C)`.

    Active only when called with `training=True` (the D and G phases of
    `keras_gan.GAN`); the identity otherwise.

    Args:
        policy: comma-separated subset of `"color,translation,cutout"`, or a
            list of those names.
        seed: seed of the layer's `SeedGenerator`.

    Example:

    ```python
    gan = keras_gan.GAN(g, d, augment="translation,cutout,color")
    # or, the same, with an explicit layer:
    gan = keras_gan.GAN(g, d, augment=keras_gan.augment.DiffAugment("translation,cutout"))
    ```
    """

    def __init__(self, policy="color,translation,cutout", seed=None, **kwargs):
        # float32 under a mixed policy too: the transforms' random factors are float32.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.policy = ",".join(_parse_policy(policy))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="augment_seed")

    def build(self, input_shape):
        if len(input_shape) != 4 or None in tuple(input_shape[1:]):
            raise ValueError(
                "DiffAugment expects image batches of known size (batch, height, width, "
                f"channels). Received: inputs of shape {tuple(input_shape)}"
            )
        self.built = True

    def call(self, x, training=False):
        if not training:
            return x
        seed = _replica_seed(self.seed_generator)
        for salt, name in enumerate(self.policy.split(",")):
            x = _TRANSFORMS[name](x, _random.fold_in(seed, 100 + salt))
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def save_own_variables(self, store):
        # Keras saves no SeedGenerator state; a resumed run continues the sequence.
        store["seed_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        if "seed_state" in store.keys():
            self.seed_generator.state.assign(store["seed_state"])

    def get_config(self):
        return {**super().get_config(), "policy": self.policy, "seed": self.seed}


def get(augment):
    """A `DiffAugment` from a policy string, a layer, or None (no augmentation).

    Args:
        augment: None, a policy string such as `"translation,cutout,color"`,
            `"ada"` (adaptive discriminator augmentation with its defaults,
            `Adaptive()`), or a `keras.layers.Layer` taking `(x, training=...)`.

    Returns:
        A layer, or None.
    """
    if augment is None or isinstance(augment, keras.layers.Layer):
        return augment
    if isinstance(augment, str) and augment.strip().lower() in ("ada", "adaptive"):
        return Adaptive()
    if isinstance(augment, str):
        try:
            _parse_policy(augment)
        except ValueError:  # named for the caller's argument, not DiffAugment's `policy`
            raise ValueError(
                f"Invalid value for argument `augment`: expected None or a comma-separated subset of "
                f"{', '.join(POLICIES)} (e.g. 'translation,cutout,color'). Received: augment={augment!r}"
            ) from None
        return DiffAugment(augment)
    if isinstance(augment, dict):
        return keras.saving.deserialize_keras_object(augment)
    raise ValueError(
        "Invalid value for argument `augment`: expected None, a policy string such as "
        "'translation,cutout,color' or a keras Layer. "
        f"Received: augment={augment!r}"
    )
