"""Path length regularization of G (StyleGAN2, Karras et al. 2020, section 3.2).

As in the official code (NVlabs/stylegan2-ada-pytorch, `training/loss.py`,
phase `Greg`): for a batch of ws (after style mixing) and images
`y = synthesis(ws)` of size H x W, with `u ~ N(0, I) / sqrt(H * W)`,

    J^T u = grad_ws sum(y * u)
    length = sqrt(mean_over_ws(sum_over_w_dim((J^T u)**2)))
    pl_mean <- pl_mean + decay * (mean(length) - pl_mean)
    penalty = mean((length - pl_mean)**2)

G's loss adds `weight * interval * penalty` every `interval`-th G update
(lazy regularization, like `keras_gan.penalties.R1`'s `interval`), on a
batch `batch_shrink` times smaller than the training batch.
"""

import math

import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import random as _random
from keras_gan.components.terms import Term


def _check(name, value, low_exclusive=0.0, integer=False):
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int))
    if bad or not value > low_exclusive or math.isinf(value):
        what = "a positive integer" if integer else f"a finite float > {low_exclusive}"
        raise ValueError(f"Invalid value for argument `{name}`: expected {what}. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="keras_gan")
class PathLength(keras.layers.Layer, Term):
    """StyleGAN2's path length penalty, with its running mean `pl_mean`.

    A G-side term of `GAN` (`gan.compile(terms=[PathLength()])`), logged as
    `path_length` (the unweighted penalty), and a Keras layer to own
    `pl_mean` (a non-trainable variable, saved with the GAN). Called
    directly, `penalty(generator, z, seed)` returns the penalty.
    The generator must expose `compute_ws(z, training)` and
    `synthesize(ws, training)`, as `keras_gan.networks.StyleGAN2Generator`
    does.

    Args:
        weight: the penalty's weight (2).
        interval: lazy interval in G updates (4); the caller scales by it.
        decay: the running mean's update rate (0.01).
        batch_shrink: the penalty's batch is the G batch divided by this (2).

    Example:

    ```python
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99),
                keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99),
                terms=[keras_gan.path_length.PathLength(weight=2.0, interval=4)])
    ```
    """

    def __init__(self, weight=2.0, interval=4, decay=0.01, batch_shrink=2, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < math.inf:
            raise ValueError(
                f"Invalid value for argument `weight`: expected a finite float >= 0. Received: weight={weight!r}")
        self.weight = float(weight)
        self.interval = _check("interval", interval, 0, integer=True)
        self.decay = float(_check("decay", decay))
        if self.decay > 1:
            raise ValueError(
                f"Invalid value for argument `decay`: expected a float in (0, 1]. Received: decay={decay!r}")
        self.batch_shrink = _check("batch_shrink", batch_shrink, 0, integer=True)
        # "mean": replicas average their updates under tf.distribute.
        self.pl_mean = self.add_weight(shape=(), name="pl_mean", initializer="zeros", trainable=False,
                                       aggregation="mean")
        self.built = True

    def lengths(self, generator, z, seed):
        """Per-sample path lengths `||J^T u||` (averaged over the ws), float32 `(batch,)`.

        Args:
            generator: a StyleGAN2-like generator (`compute_ws`, `synthesize`).
            z: latent vectors `(batch, latent_dim)`.
            seed: a stateless seed (2 ints) for `u`.

        Returns:
            A float32 tensor `(batch,)`, differentiable in G's weights.
        """
        ws = generator.compute_ws(z, training=True)
        with tf.GradientTape() as tape:
            tape.watch(ws)
            images = ops.cast(generator.synthesize(ws, training=True), "float32")
            h, w = images.shape[1], images.shape[2]
            u = _random.normal(tf.shape(images), seed) / math.sqrt(h * w)
            total = ops.sum(images * u)
        grads = tape.gradient(total, ws)  # (batch, num_ws, w_dim)
        return ops.sqrt(ops.mean(ops.sum(ops.square(grads), axis=2), axis=1))

    def __call__(self, generator, z, seed, due=None):
        """The unweighted penalty `mean((length - pl_mean)**2)`; updates `pl_mean`.

        As in the official loss, the penalty reads the updated mean, which
        keeps its gradient through this batch's lengths.

        Args:
            generator: a StyleGAN2-like generator.
            z: latent vectors; the first `batch // batch_shrink` are used.
            seed: a stateless seed (2 ints).
            due: None, or a boolean tensor: `pl_mean` moves only when it is
                true (the lazy regularization's steps).

        Returns:
            A float32 scalar, differentiable in G's weights (call it inside
            G's gradient tape).
        """
        n = ops.shape(z)[0]
        z = z[: ops.maximum(n // self.batch_shrink, 1)]
        lengths = self.lengths(generator, z, seed)
        mean = self.pl_mean + self.decay * (ops.mean(lengths) - self.pl_mean)
        kept = ops.stop_gradient(mean)
        self.pl_mean.assign(kept if due is None else ops.where(due, kept, self.pl_mean))
        return ops.mean(ops.square(lengths - mean))

    phase, log_name = "g", "path_length"

    def loss(self, step):
        """G's term in a G update: `weight * interval * penalty` every `interval`-th G update, else 0.

        A 0/interval factor read from G's optimizer iteration count, not a
        `tf.cond` (docs/design.md, "No control flow around an update").
        """
        gan = step.gan
        due = ops.equal(gan.g_optimizer.iterations % self.interval, 0)
        penalty = self(gan.generator, step.z, gan.replica_seed(), due=due)
        gan.log(self.log_name, penalty)
        return self.weight * float(self.interval) * penalty * ops.cast(due, "float32")

    def get_config(self):
        return {**super().get_config(), "weight": self.weight, "interval": self.interval,
                "decay": self.decay, "batch_shrink": self.batch_shrink}
