"""Adversarial losses: each one is a small object with a D loss and a G loss.

All losses take D's raw outputs (logits, or critic scores for the Wasserstein
loss) of any shape `(batch, ...)`: a scalar per sample or a PatchGAN map of
logits. Every term is a mean over all of its elements, so a map of logits is
scored per patch and averaged.

Losses are plain means over the local batch. `keras_gan.GAN` divides them by
the number of replicas for the gradient under `tf.distribute` (gradients are
summed across replicas), so a loss object never has to know about replicas.
"""

import keras
from keras import ops

from keras_gan._internal.registry import Registry


def _bce(logits, target):
    """Mean binary cross-entropy from logits against a constant target."""
    # Targets 1 and 0 keep one half of the formula below: the same values for
    # finite logits, with half the ops (it shows in small nets' step time).
    if isinstance(target, (int, float)) and target in (0.0, 1.0):
        return ops.mean(ops.softplus(-logits if target == 1.0 else logits))
    # t * softplus(-l) + (1 - t) * softplus(l) is the stable BCE from logits.
    return ops.mean(target * ops.softplus(-logits) + (1.0 - target) * ops.softplus(logits))


def _float32(x):
    # Under mixed precision D's logits may arrive as float16: the losses are
    # always computed in float32.
    return ops.cast(x, "float32")


class GANLoss:
    """Base class: a D loss made of a real term and a fake term, and a G loss.

    Subclasses implement `real_term`, `fake_term` and `generator_loss`.

    Args:
        label_smoothing: one-sided label smoothing: D's target for real samples
            is `1 - label_smoothing` (fakes keep 0). Only for losses with
            targets (`minimax`, `non_saturating`, `least_squares`,
            `relativistic_average`).
        halve_d_loss: the pix2pix convention: D's loss is
            `(loss_real + loss_fake) * 0.5` instead of their sum.

    Example:

    ```python
    loss = keras_gan.losses.NonSaturating(label_smoothing=0.1, halve_d_loss=True)
    gan.compile(d_optimizer, g_optimizer, loss=loss)
    ```
    """

    name = None
    #: Whether `generator_loss` needs D's outputs on real samples.
    needs_real_logits_for_g = False
    #: Whether the loss has targets that label smoothing can move.
    has_targets = True

    def __init__(self, label_smoothing=0.0, halve_d_loss=False):
        received = label_smoothing
        try:
            label_smoothing = float(label_smoothing)
        except (TypeError, ValueError):
            label_smoothing = float("nan")  # not a number: reported below, by name
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                "Invalid value for argument `label_smoothing`: expected a float in "
                f"[0, 1). Received: label_smoothing={received!r}"
            )
        if label_smoothing and not self.has_targets:
            raise ValueError(
                f"Invalid value for argument `label_smoothing`: the {self.name!r} loss "
                "has no targets to smooth; expected 0. "
                f"Received: label_smoothing={label_smoothing}"
            )
        self.label_smoothing = label_smoothing
        self.halve_d_loss = bool(halve_d_loss)

    @property
    def real_target(self):
        return 1.0 - self.label_smoothing

    def real_term(self, real_logits, fake_logits):
        raise NotImplementedError

    def fake_term(self, real_logits, fake_logits):
        raise NotImplementedError

    def discriminator_loss(self, real_logits, fake_logits):
        """D's loss.

        Args:
            real_logits: D's outputs on real samples.
            fake_logits: D's outputs on generated samples.

        Returns:
            A float32 scalar: `real_term + fake_term`, times 0.5 when
            `halve_d_loss`.
        """
        real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
        loss = self.real_term(real_logits, fake_logits) + self.fake_term(
            real_logits, fake_logits
        )
        return loss * 0.5 if self.halve_d_loss else loss

    def generator_loss(self, fake_logits, real_logits=None):
        """G's loss.

        Args:
            fake_logits: D's outputs on generated samples.
            real_logits: D's outputs on real samples; only used by losses whose
                `needs_real_logits_for_g` is True.

        Returns:
            A float32 scalar.
        """
        raise NotImplementedError

    def get_config(self):
        return {"label_smoothing": self.label_smoothing, "halve_d_loss": self.halve_d_loss}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


_REGISTRY = Registry("loss", "loss", base=GANLoss)


@_REGISTRY.register("minimax")
class Minimax(GANLoss):
    """The original minimax loss: G minimises `log(1 - D(G(z)))`.

    D: `BCE(D(x), 1) + BCE(D(G(z)), 0)`. G: `mean(log(1 - sigmoid(D(G(z)))))`,
    which saturates when D rejects fakes confidently (use `NonSaturating`).

    Example:

    ```python
    gan.compile(d_optimizer, g_optimizer, loss="minimax")
    ```
    """

    name = "minimax"

    def real_term(self, real_logits, fake_logits):
        return _bce(real_logits, self.real_target)

    def fake_term(self, real_logits, fake_logits):
        return _bce(fake_logits, 0.0)

    def generator_loss(self, fake_logits, real_logits=None):
        # log(1 - sigmoid(l)) == -softplus(l)
        return -ops.mean(ops.softplus(_float32(fake_logits)))


@_REGISTRY.register("non_saturating", "bce")
class NonSaturating(Minimax):
    """The non-saturating loss: G's fakes are labelled 1, `BCE(D(G(z)), 1)`.

    D's loss is the minimax one: `BCE(D(x), 1) + BCE(D(G(z)), 0)`.

    Example:

    ```python
    gan.compile(d_optimizer, g_optimizer, loss="non_saturating")
    ```
    """

    name = "non_saturating"

    def generator_loss(self, fake_logits, real_logits=None):
        return _bce(_float32(fake_logits), 1.0)


@_REGISTRY.register("least_squares", "lsgan")
class LeastSquares(GANLoss):
    """LSGAN: D regresses real to 1 and fake to 0; G pushes D(G(z)) to 1.

    D: `mean((D(x) - 1)^2) + mean(D(G(z))^2)`; G: `mean((D(G(z)) - 1)^2)`.
    Use `halve_d_loss=True` for the paper's 1/2 factor on D.

    Example:

    ```python
    gan.compile(d_optimizer, g_optimizer, loss="least_squares")
    ```
    """

    name = "least_squares"

    def real_term(self, real_logits, fake_logits):
        return ops.mean(ops.square(real_logits - self.real_target))

    def fake_term(self, real_logits, fake_logits):
        return ops.mean(ops.square(fake_logits))

    def generator_loss(self, fake_logits, real_logits=None):
        return ops.mean(ops.square(_float32(fake_logits) - 1.0))


@_REGISTRY.register("hinge")
class Hinge(GANLoss):
    """Hinge loss (SAGAN, BigGAN).

    D: `mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))`; G: `-mean(D(G(z)))`.

    Example:

    ```python
    gan.compile(d_optimizer, g_optimizer, loss="hinge")
    ```
    """

    name = "hinge"
    has_targets = False

    def real_term(self, real_logits, fake_logits):
        return ops.mean(ops.relu(1.0 - real_logits))

    def fake_term(self, real_logits, fake_logits):
        return ops.mean(ops.relu(1.0 + fake_logits))

    def generator_loss(self, fake_logits, real_logits=None):
        return -ops.mean(_float32(fake_logits))


@_REGISTRY.register("wasserstein", "wgan")
class Wasserstein(GANLoss):
    """Wasserstein loss; D is a critic. Pair it with a gradient penalty.

    D: `mean(D(G(z))) - mean(D(x))`; G: `-mean(D(G(z)))`.

    Example:

    ```python
    gan.compile(d_optimizer, g_optimizer, loss="wasserstein", d_steps=5)
    ```
    """

    name = "wasserstein"
    has_targets = False

    def real_term(self, real_logits, fake_logits):
        return -ops.mean(real_logits)

    def fake_term(self, real_logits, fake_logits):
        return ops.mean(fake_logits)

    def generator_loss(self, fake_logits, real_logits=None):
        return -ops.mean(_float32(fake_logits))


@_REGISTRY.register("relativistic_average", "ragan")
class RelativisticAverage(GANLoss):
    """Relativistic average GAN (RaGAN, Jolicoeur-Martineau 2018), BCE form.

    With `r = D(x) - mean(D(G(z)))` and `f = D(G(z)) - mean(D(x))` (means over
    the batch, per patch for map outputs):
    D: `BCE(r, 1) + BCE(f, 0)`; G: `BCE(f, 1) + BCE(r, 0)`.

    Example:

    ```python
    gan.compile(d_optimizer, g_optimizer, loss="relativistic_average")
    ```
    """

    name = "relativistic_average"
    needs_real_logits_for_g = True

    @staticmethod
    def _relative(real_logits, fake_logits):
        r = real_logits - ops.mean(fake_logits, axis=0, keepdims=True)
        f = fake_logits - ops.mean(real_logits, axis=0, keepdims=True)
        return r, f

    def real_term(self, real_logits, fake_logits):
        r, _ = self._relative(real_logits, fake_logits)
        return _bce(r, self.real_target)

    def fake_term(self, real_logits, fake_logits):
        _, f = self._relative(real_logits, fake_logits)
        return _bce(f, 0.0)

    def generator_loss(self, fake_logits, real_logits=None):
        if real_logits is None:
            raise ValueError("The relativistic_average G loss needs `real_logits`.")
        r, f = self._relative(_float32(real_logits), _float32(fake_logits))
        return _bce(f, 1.0) + _bce(r, 0.0)


def get(identifier):
    """Returns a loss object from a name, a config dict or a `GANLoss`.

    Args:
        identifier: one of `"minimax"`, `"non_saturating"` (alias `"bce"`),
            `"least_squares"` (`"lsgan"`), `"hinge"`, `"wasserstein"`
            (`"wgan"`), `"relativistic_average"` (`"ragan"`); a `GANLoss`
            instance; or a dict from `keras.saving.serialize_keras_object`.

    Returns:
        A `GANLoss`.

    Example:

    ```python
    loss = keras_gan.losses.get("hinge")
    ```
    """
    return _REGISTRY.get(identifier)


def names(aliases=False):
    """The loss names accepted by `get` and `GAN.compile` (with `aliases`: "bce", "lsgan", ...).

    Example:

    ```python
    keras_gan.losses.names()  # ['minimax', 'non_saturating', ...]
    ```
    """
    return _REGISTRY.names(aliases)
