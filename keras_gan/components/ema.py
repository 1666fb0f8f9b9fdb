"""An exponential moving average (EMA) of G's weights, kept beside G for sampling and export.

`keras_gan.GAN(ema_decay=...)` keeps `gan.ema_generator` (`ema_copy`) and
moves it after every G update (`EMATerm`):
`w_ema = decay * w_ema + (1 - decay) * w` on G's trainable weights; the
others (BatchNorm statistics) are copied.
"""

import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import keras_private
from keras_gan.components.terms import Term


def check_ema_decay(ema_decay):
    """`ema_decay` as a float in [0, 1), None kept, or a ValueError naming it."""
    if ema_decay is None:
        return None
    try:
        decay = -1.0 if isinstance(ema_decay, (bool, str)) else float(ema_decay)
    except (TypeError, ValueError):
        decay = -1.0
    if not 0.0 <= decay < 1.0:
        raise ValueError(
            "Invalid value for argument `ema_decay`: expected a float in [0, 1) "
            f"(e.g. 0.999) or None. Received: ema_decay={ema_decay!r}"
        )
    return decay


def ema_copy(generator):
    """A frozen copy of `generator` with its own weights, equal to G's.

    Args:
        generator: a Functional, Sequential, or subclassed model with
            `get_config`/`from_config` (`keras.models.clone_model` copies it).

    Returns:
        A `keras.Model` with `trainable = False`.
    """
    # recursive=True: nested models (conditional networks) get their own
    # weights instead of sharing G's.
    try:
        ema = keras.models.clone_model(generator, recursive=True)
        ema.set_weights(generator.get_weights())
    except Exception as e:  # clone_model raises several types
        raise ValueError(
            "Invalid value for argument `ema_decay`: the EMA copy needs a generator "
            "that keras.models.clone_model can copy (Functional, Sequential, or a "
            f"subclass with get_config/from_config). Cloning failed with: {e}"
        ) from e
    ema.trainable = False
    return ema


class EMATerm(Term):
    """Moves `gan.ema_generator` towards `gan.generator` after each G update.

    With `warmup`, `decay = min(decay, (1 + t) / (10 + t))` for the `t`-th G
    update (0-based), `t = g_optimizer.iterations - 1` (read after that
    update's `apply_gradients`), as StyleGAN's EMA ramp-up.

    Args:
        decay: the EMA decay in [0, 1).
        warmup: ramp the decay up over the first G updates.
    """

    phase = "g"

    def __init__(self, decay, warmup):
        self.decay, self.warmup = decay, warmup

    def after_update(self, gan):
        averaged = {id(v) for v in gan.generator.trainable_weights}
        pairs = [
            (e.value, g.value, id(g) in averaged)
            for e, g in zip(gan.ema_generator.weights, gan.generator.weights)
        ]

        def average(ema, w):
            decay = ops.cast(self.decay, ema.dtype)
            if self.warmup:
                # Read inside the per-device update, next to the assignment it feeds.
                t = ops.cast(gan.g_optimizer.iterations - 1, ema.dtype)
                decay = ops.minimum(decay, (1.0 + t) / (10.0 + t))
            ema.assign(decay * ema + (1.0 - decay) * w)

        def copy(ema, w):
            ema.assign(w)

        def update(strategy):
            # Cross-replica updates of mirrored variables, as Keras' optimizers
            # do them: a replica-context assign needs an aggregation.
            for ema, w, is_averaged in pairs:
                strategy.extended.update(ema, average if is_averaged else copy, args=(w,), group=False)

        keras_private.merge_call(update, tf.distribute.get_strategy())
