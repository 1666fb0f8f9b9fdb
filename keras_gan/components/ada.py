"""Adaptive discriminator augmentation (ADA, Karras et al. 2020).

"Training Generative Adversarial Networks with Limited Data" (NeurIPS
2020), with the definitions of the official code
(NVlabs/stylegan2-ada-pytorch, `training/augment.py` and the p update of
`training/training_loop.py`).

Every image D sees, real and fake, in the D and the G phase, goes through
one pipeline of differentiable transforms, each applied to each image with
probability p. p starts at 0 and moves every `interval` D updates by
`sign(r_t - target) * images / (speed_kimg * 1000)`, where
`r_t = E[sign(D(real))]` over those updates and `images` the real images
they saw: p rises while D is overconfident on the reals (it overfits) and
falls otherwise; it goes from 0 to 1 in `speed_kimg` thousand images at
most.

Implemented transforms (the paper's "bgc" set, with the official ranges):

- `b` (pixel blitting): x-flip, 90-degree rotations, integer translation
  (up to 1/8 of the size).
- `g` (general geometric): isotropic scaling (lognormal, std 0.2 in log2),
  rotation (uniform, before and after the anisotropic scaling, each with
  probability 1 - sqrt(1 - p)), anisotropic scaling (std 0.2), fractional
  translation (normal, std 1/8 of the size).
- `c` (color): brightness (std 0.2), contrast (lognormal, std 0.5), luma
  flip, hue rotation, saturation (lognormal, std 1); hue and saturation on
  RGB images only.

The geometric transforms are composed into one affine map per image and
applied by one bilinear resampling with reflection at the borders. The
official code resamples a 2x-upsampled image (the `sym6` wavelet filter) to
suppress aliasing; this one resamples at the native resolution, so rotations
and scalings alias slightly more. The official image-space filtering, noise
and cutout ("f", "n" and cutout) are not implemented.
"""

import math

import numpy as np
import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import random as _random
from keras_gan._internal.seed_states import SavesSeedStates
from keras_gan.components.terms import Term

GROUPS = {
    "b": ("xflip", "rotate90", "xint"),
    "g": ("scale", "rotate", "aniso", "xfrac"),
    "c": ("brightness", "contrast", "lumaflip", "hue", "saturation"),
}

_LUMA = np.array([1.0, 1.0, 1.0, 0.0]) / np.sqrt(3.0)


def _parse_groups(augment):
    ok = isinstance(augment, str) and augment and all(c in GROUPS for c in augment) \
        and len(set(augment)) == len(augment)
    if not ok:
        raise ValueError(
            "Invalid value for argument `augment`: expected a string of the transform groups "
            "'b' (blitting), 'g' (geometric), 'c' (color), e.g. 'bgc'. "
            f"Received: augment={augment!r}"
        )
    return "".join(c for c in "bgc" if c in augment)


def _eye(n, batch):
    return tf.eye(n, batch_shape=[batch])


def _matrix(rows):
    """(batch, k, k) from a k x k nested list of (batch,) tensors or floats."""
    return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def _translate2d(tx, ty):
    one, zero = tf.ones_like(tx), tf.zeros_like(tx)
    return _matrix([[one, zero, tx], [zero, one, ty], [zero, zero, one]])


def _scale2d(sx, sy):
    one, zero = tf.ones_like(sx), tf.zeros_like(sx)
    return _matrix([[sx, zero, zero], [zero, sy, zero], [zero, zero, one]])


def _rotate2d(theta):
    c, s = tf.cos(theta), tf.sin(theta)
    one, zero = tf.ones_like(theta), tf.zeros_like(theta)
    return _matrix([[c, -s, zero], [s, c, zero], [zero, zero, one]])


def _rotate3d_about_luma(theta):
    """(batch, 4, 4): rotation by `theta` about the luma axis (Rodrigues' formula)."""
    v = _LUMA[:3]
    cross = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    outer = np.outer(v, v)
    c, s = tf.cos(theta)[:, None, None], tf.sin(theta)[:, None, None]
    r = c * np.eye(3, dtype="float32") + s * cross.astype("float32") + (1.0 - c) * outer.astype("float32")
    r = tf.pad(r, [[0, 0], [0, 1], [0, 1]])
    return r + tf.constant(np.diag([0.0, 0.0, 0.0, 1.0]), tf.float32)


def _reflect(u, size):
    """Folds continuous pixel coordinates into [0, size - 1] by reflection at the borders."""
    if size == 1:
        return tf.zeros_like(u)
    period = 2.0 * (size - 1)
    u = tf.math.floormod(u, period)
    return tf.where(u > size - 1, period - u, u)


def _resample(x, g_inv):
    """Bilinear resampling of `x` (b, h, w, c): output pixel p reads input pixel `g_inv @ p`.

    Coordinates are in pixels, centred on the image centre (x right, y down).
    """
    n, h, w, c = tf.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
    ys, xs = tf.meshgrid(tf.range(h, dtype=tf.float32) - (h - 1) / 2.0,
                         tf.range(w, dtype=tf.float32) - (w - 1) / 2.0, indexing="ij")
    grid = tf.stack([tf.reshape(xs, [-1]), tf.reshape(ys, [-1]), tf.ones([h * w])])  # (3, hw)
    source = tf.einsum("bij,jk->bik", g_inv, grid)                                   # (b, 3, hw)
    sx = _reflect(source[:, 0] + (w - 1) / 2.0, w)
    sy = _reflect(source[:, 1] + (h - 1) / 2.0, h)
    x0, y0 = tf.floor(sx), tf.floor(sy)
    fx, fy = sx - x0, sy - y0
    x0 = tf.clip_by_value(tf.cast(x0, tf.int32), 0, w - 1)
    y0 = tf.clip_by_value(tf.cast(y0, tf.int32), 0, h - 1)
    x1, y1 = tf.minimum(x0 + 1, w - 1), tf.minimum(y0 + 1, h - 1)
    flat = tf.reshape(x, [-1, c])
    base = (tf.range(n) * h * w)[:, None]

    def at(yi, xi):
        return tf.gather(flat, base + yi * w + xi)  # (b, hw, c)

    fx, fy = ops.cast(fx, x.dtype)[..., None], ops.cast(fy, x.dtype)[..., None]
    top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx
    bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx
    return tf.reshape(top * (1 - fy) + bottom * fy, [n, h, w, c])


def augment_images(x, p, seed, groups="bgc"):
    """The ADA pipeline on a batch: each transform of `groups` applied to each image with probability `p`.

    Args:
        x: images `(batch, H, W, C)` (C = 1 or 3 for the color group), about [-1, 1].
        p: the augmentation probability (a float or scalar tensor).
        seed: a stateless seed (2 ints).
        groups: any of "b", "g", "c" (see the module docstring).

    Returns:
        The augmented images, differentiable in `x`.

    Example:

    ```python
    y = keras_gan.components.ada.augment_images(images, 0.5, tf.constant([0, 1]))
    ```
    """
    groups = _parse_groups(groups)
    n = tf.shape(x)[0]
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    p = ops.cast(p, "float32")
    salt = iter(range(1000))

    def rand(shape=None):
        return _random.uniform(tf.stack([n]) if shape is None else tf.stack([n, shape]),
                               _random.fold_in(seed, next(salt)))

    def randn():
        return _random.normal(tf.stack([n]), _random.fold_in(seed, next(salt)))

    def chosen(probability=None):
        return rand() < (p if probability is None else probability)

    if "b" in groups or "g" in groups:
        g_inv = _eye(3, n)
        if "b" in groups:
            i = tf.where(chosen(), tf.floor(rand() * 2), 0.0)
            g_inv = g_inv @ _scale2d(1 - 2 * i, tf.ones_like(i))       # x-flip
            i = tf.where(chosen(), tf.floor(rand() * 4), 0.0)
            g_inv = g_inv @ _rotate2d(math.pi / 2 * i)                   # 90-degree rotations
            t = (rand(2) * 2 - 1) * 0.125
            t = tf.where(chosen()[:, None], t, 0.0)
            g_inv = g_inv @ _translate2d(-tf.round(t[:, 0] * w), -tf.round(t[:, 1] * h))
        if "g" in groups:
            s = tf.where(chosen(), tf.exp(randn() * 0.2 * math.log(2.0)), 1.0)
            g_inv = g_inv @ _scale2d(1 / s, 1 / s)                        # isotropic scaling
            p_rot = 1 - tf.sqrt(tf.clip_by_value(1 - p, 0.0, 1.0))     # P(pre or post) = p
            theta = tf.where(chosen(p_rot), (rand() * 2 - 1) * math.pi, 0.0)
            g_inv = g_inv @ _rotate2d(theta)                             # pre-rotation
            s = tf.where(chosen(), tf.exp(randn() * 0.2 * math.log(2.0)), 1.0)
            g_inv = g_inv @ _scale2d(1 / s, s)                            # anisotropic scaling
            theta = tf.where(chosen(p_rot), (rand() * 2 - 1) * math.pi, 0.0)
            g_inv = g_inv @ _rotate2d(theta)                             # post-rotation
            t = tf.stack([randn(), randn()], axis=1) * 0.125
            t = tf.where(chosen()[:, None], t, 0.0)
            g_inv = g_inv @ _translate2d(-t[:, 0] * w, -t[:, 1] * h)  # fractional translation
        x = _resample(x, g_inv)

    if "c" in groups:
        if c not in (1, 3):
            raise ValueError(
                "Invalid value for argument `x`: ADA's color transforms expect 1 (grey) or 3 (RGB) "
                f"channels. Received: images with {c} channels (use groups='bg')"
            )
        color = _eye(4, n)
        b = tf.where(chosen(), randn() * 0.2, 0.0)
        color = _matrix([[1.0 + 0 * b, 0 * b, 0 * b, b], [0 * b, 1.0 + 0 * b, 0 * b, b],
                         [0 * b, 0 * b, 1.0 + 0 * b, b], [0 * b, 0 * b, 0 * b, 1.0 + 0 * b]]) @ color
        k = tf.where(chosen(), tf.exp(randn() * 0.5 * math.log(2.0)), 1.0)
        one = tf.ones_like(k)
        color = _matrix([[k, 0 * k, 0 * k, 0 * k], [0 * k, k, 0 * k, 0 * k],
                         [0 * k, 0 * k, k, 0 * k], [0 * k, 0 * k, 0 * k, one]]) @ color
        luma = tf.constant(np.outer(_LUMA, _LUMA), tf.float32)
        i = tf.where(chosen(), tf.floor(rand() * 2), 0.0)[:, None, None]
        color = (tf.eye(4) - 2 * luma * i) @ color                       # luma flip
        if c == 3:
            theta = tf.where(chosen(), (rand() * 2 - 1) * math.pi, 0.0)
            color = _rotate3d_about_luma(theta) @ color                  # hue rotation
            s = tf.where(chosen(), tf.exp(randn() * 1.0 * math.log(2.0)), 1.0)[:, None, None]
            color = (luma + (tf.eye(4) - luma) * s) @ color              # saturation
            color = ops.cast(color, x.dtype)
            x = tf.einsum("bij,bhwj->bhwi", color[:, :3, :3], x) + color[:, None, None, :3, 3]
        else:
            mean = ops.cast(tf.reduce_mean(color[:, :3, :], axis=1), x.dtype)  # (b, 4)
            x = x * tf.reduce_sum(mean[:, :3], axis=1)[:, None, None, None] + mean[:, None, None, 3:]
    return x




def _check_float(name, value, low, high=None):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not (value >= low and (high is None or value <= high)) or math.isinf(value):
        expected = f"a float in [{low}, {high}]" if high is not None else f"a float >= {low}"
        raise ValueError(f"Invalid value for argument `{name}`: expected {expected}. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="keras_gan")
class Adaptive(SavesSeedStates, keras.layers.Layer):
    """ADA: the augmentation pipeline with an adaptive probability `p`.

    Use it as a GAN's `augment`: the GAN applies it to every image D sees
    (real and fake, D and G phases) and, after each D update, calls
    `update(real_logits)` with D's logits on the augmented reals. `p` is a
    non-trainable variable saved with the model, so a resumed run continues
    with the same p; the GAN logs it as `augment_p`.

    Args:
        target: the target of `r_t = E[sign(D(real))]` (0.6); None keeps
            `p` fixed at `initial_p`.
        interval: adjust `p` every `interval` D updates (4).
        speed_kimg: thousands of real images over which p can go from 0 to
            1 (500).
        initial_p: the starting p (0).
        augment: transform groups, any of "b", "g", "c" ("bgc").
        seed: seed of the layer's `SeedGenerator`.

    Example:

    ```python
    ada = keras_gan.augment.Adaptive(target=0.6, interval=4, speed_kimg=500)
    gan = keras_gan.GAN(g, d, augment=ada)
    ```
    """

    def __init__(self, target=0.6, interval=4, speed_kimg=500.0, initial_p=0.0, augment="bgc", seed=None,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.target = None if target is None else _check_float("target", target, -1.0, 1.0)
        if not isinstance(interval, int) or isinstance(interval, bool) or interval <= 0:
            raise ValueError(
                f"Invalid value for argument `interval`: expected a positive integer. Received: interval={interval!r}")
        self.interval = interval
        self.speed_kimg = _check_float("speed_kimg", speed_kimg, 0.0)
        if self.speed_kimg == 0:
            raise ValueError(
                "Invalid value for argument `speed_kimg`: expected a positive float. "
                f"Received: speed_kimg={speed_kimg!r}")
        self.initial_p = _check_float("initial_p", initial_p, 0.0, 1.0)
        self.augment = _parse_groups(augment)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="ada_seed")
        # "mean" aggregation: under tf.distribute each replica adds its own
        # statistics and the mirrored copies stay equal.
        self.p = self.add_weight(shape=(), name="p", initializer=keras.initializers.Constant(self.initial_p),
                                 trainable=False, aggregation="mean")
        self.sign_sum = self.add_weight(shape=(), name="sign_sum", initializer="zeros", trainable=False,
                                        aggregation="mean")
        self.image_count = self.add_weight(shape=(), name="image_count", initializer="zeros", trainable=False,
                                           aggregation="mean")
        self.update_count = self.add_weight(shape=(), name="update_count", initializer="zeros",
                                            trainable=False, aggregation="mean")

    def build(self, input_shape):
        if len(input_shape) != 4 or None in tuple(input_shape[1:]):
            raise ValueError(
                "Adaptive expects image batches of known size (batch, height, width, channels). "
                f"Received: inputs of shape {tuple(input_shape)}")
        if "c" in self.augment and input_shape[-1] not in (1, 3):
            raise ValueError(
                "Invalid value for argument `augment`: the color group 'c' expects 1 or 3 channels. "
                f"Received: augment={self.augment!r} for images with {input_shape[-1]} channels")
        self.built = True

    def call(self, x, training=False):
        if not training:
            return x
        return augment_images(x, self.p, _random.replica_seed(self.seed_generator), self.augment)

    def update(self, real_logits):
        """Accumulates `sign(real_logits)`; every `interval` calls moves `p` towards the target.

        Args:
            real_logits: D's logits on this D update's augmented real batch.

        Returns:
            None. (Graph-safe: no Python branching on tensors.)
        """
        if self.target is None:
            return
        signs = ops.sign(ops.cast(real_logits, "float32"))
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        self.sign_sum.assign_add(ops.sum(signs))
        count = self.image_count + ops.cast(ops.size(signs), "float32")
        self.image_count.assign(count)
        calls = self.update_count + 1.0
        due = ops.equal(ops.mod(calls, float(self.interval)), 0.0)
        r_t = self.sign_sum / ops.maximum(count, 1.0)
        step = ops.sign(r_t - self.target) * count * replicas / (self.speed_kimg * 1000.0)
        self.p.assign(ops.where(due, ops.clip(self.p + step, 0.0, 1.0), self.p))
        self.sign_sum.assign(ops.where(due, 0.0, self.sign_sum))
        self.image_count.assign(ops.where(due, 0.0, count))
        self.update_count.assign(ops.where(due, 0.0, calls))

    def compute_output_shape(self, input_shape):
        return input_shape

    def _seed_generators_by_name(self):
        return {"seed_state": self.seed_generator}

    def get_config(self):
        return {**super().get_config(), "target": self.target, "interval": self.interval,
                "speed_kimg": self.speed_kimg, "initial_p": self.initial_p, "augment": self.augment,
                "seed": self.seed}


class AdaptiveTerm(Term):
    """The D-side term of `GAN(augment=Adaptive(...))`: feeds ADA each D update's real logits.

    Adds nothing to D's loss; moves p (`Adaptive.update`) and logs it as
    `augment_p` (its mean over the epoch).
    """

    phase, log_name = "d", "augment_p"

    def __init__(self, augment):
        self.augment = augment

    def loss(self, step):
        self.augment.update(step.real_logits)
        step.gan.log(self.log_name, self.augment.p)
        return None
