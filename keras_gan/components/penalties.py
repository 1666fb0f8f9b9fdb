"""Gradient penalties on D, added to D's loss in the D phase.

- `GradientPenalty` (WGAN-GP, Gulrajani et al. 2017):
  `weight * mean((||grad_x D(x_hat)|| - target)**2)` with
  `x_hat = u * real + (1 - u) * fake`, one `u ~ U(0, 1)` per sample.
- `R1` (Mescheder et al. 2018): `weight / 2 * mean(||grad_x D(real)||**2)`.

Both take gradients with respect to D's actual input (after augmentation and
PacGAN packing, when the GAN uses them). Norms are computed as
`sqrt(sum(g**2) + 1e-12)`, whose gradient stays finite when `g` is 0.

Lazy regularisation (StyleGAN2): with `interval=N` the penalty counts in
every N-th D update only, multiplied by N so its average strength is
unchanged. The GAN multiplies by a 0/N factor read from D's optimizer
iteration count instead of branching, because a `tf.cond` around a gradient
update breaks under tf.distribute (docs/design.md, "No control flow around an update"). The
penalty is therefore still computed at every step: the interval changes the
regularisation schedule, not the cost. StyleGAN2 also rescales Adam's learning
rate and betas by `interval / (interval + 1)`; set those on `d_optimizer` if
you want that too.
"""

import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import random as _random
from keras_gan._internal.registry import Registry
from keras_gan.components.terms import Term
from keras_gan._internal.validation import check_float, check_positive_int

_EPSILON = 1e-12


def _input_gradient(discriminate, x):
    """Per-sample gradient of D's summed outputs with respect to its input `x`."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(ops.cast(discriminate(x), "float32"))
    return ops.cast(tape.gradient(total, x), "float32")


def _squared_norms(grads):
    return ops.sum(ops.reshape(ops.square(grads), (ops.shape(grads)[0], -1)), axis=1)


class Penalty:
    """Base class: a weighted, optionally lazy, regulariser of D.

    Subclasses implement `__call__(discriminate, real, fake, seed)` returning
    the unweighted penalty (a float32 scalar).

    Args:
        weight: the penalty's weight (lambda or gamma), >= 0.
        interval: apply every `interval` D updates (lazy regularisation),
            scaled by `interval`.
    """

    name = None

    def __init__(self, weight=10.0, interval=1):
        # Finite too: an infinite weight makes every D loss inf or NaN.
        self.weight = check_float("weight", weight, non_negative=True)
        self.interval = check_positive_int("interval", interval)

    def __call__(self, discriminate, real, fake, seed):
        """The unweighted penalty.

        Args:
            discriminate: a function from D's input batch to D's outputs
                (D in training mode, labels bound for a conditional GAN).
            real: D's input for the real batch.
            fake: D's input for the fake batch (same shape as `real`).
            seed: a stateless seed (int32 tensor of shape (2,)) for any
                randomness.

        Returns:
            A float32 scalar.
        """
        raise NotImplementedError

    def get_config(self):
        return {"weight": self.weight, "interval": self.interval}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


_REGISTRY = Registry("penalty", "penalties", base=Penalty)


@_REGISTRY.register("gradient_penalty", "gp")
class GradientPenalty(Penalty):
    """WGAN-GP: `weight * mean((||grad D(x_hat)|| - target)**2)`.

    `x_hat` interpolates real and fake with one uniform `u` per sample (the
    paper; keras-io's example draws a normal instead, keras-io#143).

    Args:
        weight: lambda (10 in the paper).
        interval: lazy interval in D updates.
        target: the norm the gradient is pushed to (1 in the paper).

    Example:

    ```python
    gan.compile(d_opt, g_opt, loss="wasserstein", d_steps=5,
                penalties=[keras_gan.penalties.GradientPenalty(weight=10.0)])
    ```
    """

    name = "gradient_penalty"

    def __init__(self, weight=10.0, interval=1, target=1.0):
        super().__init__(weight, interval)
        self.target = float(target)

    def __call__(self, discriminate, real, fake, seed):
        real = ops.cast(real, "float32")
        fake = ops.cast(fake, "float32")
        shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
        u = _random.uniform(shape, seed)  # the same numbers with and without XLA
        interpolated = u * real + (1.0 - u) * fake
        norms = ops.sqrt(_squared_norms(_input_gradient(discriminate, interpolated)) + _EPSILON)
        return ops.mean(ops.square(norms - self.target))

    def get_config(self):
        return {**super().get_config(), "target": self.target}


@_REGISTRY.register("r1")
class R1(Penalty):
    """R1 on real data: `weight / 2 * mean(||grad D(real)||**2)`.

    Args:
        weight: gamma (10 in StyleGAN on FFHQ; smaller for small images).
        interval: lazy interval in D updates (16 in StyleGAN2).

    Example:

    ```python
    gan.compile(d_opt, g_opt, loss="non_saturating",
                penalties=[keras_gan.penalties.R1(weight=1.0, interval=16)])
    ```
    """

    name = "r1"

    def __call__(self, discriminate, real, fake, seed):
        grads = _input_gradient(discriminate, ops.cast(real, "float32"))
        return 0.5 * ops.mean(_squared_norms(grads))


def get(identifier):
    """A `Penalty` from a name (`"gradient_penalty"`/`"gp"`, `"r1"`), a config or an instance.

    Example:

    ```python
    penalty = keras_gan.penalties.get("r1")
    ```
    """
    return _REGISTRY.get(identifier)


def names(aliases=False):
    """The penalty names accepted by `get` and `GAN.compile(penalties=...)`."""
    return _REGISTRY.names(aliases)


class PenaltyTerm(Term):
    """The D-side term of `GAN`'s penalties: their weighted sum, logged as `d_penalty`.

    A lazy penalty (`interval=N`) counts in every N-th D update only, times
    N: a 0/N factor read from D's optimizer iteration count, not a
    `tf.cond`, which breaks a gradient update under tf.distribute
    (docs/design.md, "No control flow around an update").

    Args:
        penalties: a list of `Penalty`.
    """

    phase, log_name = "d", "d_penalty"

    def __init__(self, penalties):
        self.penalties = list(penalties)

    def loss(self, step):
        gan = step.gan

        def discriminate(x):
            return gan._discriminate(x, step.labels, training=True)

        total = 0.0
        for penalty in self.penalties:
            value = penalty.weight * penalty(discriminate, step.real, step.fake, gan.replica_seed())
            if penalty.interval > 1:
                due = ops.equal(gan.d_optimizer.iterations % penalty.interval, 0)
                value = value * ops.cast(due, "float32") * float(penalty.interval)
            total = total + value
        gan.log(self.log_name, total)
        return total
