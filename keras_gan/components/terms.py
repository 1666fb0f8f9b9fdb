"""Terms: what plugs into one phase of `keras_gan.GAN`'s train step.

The D phase computes the adversarial D loss, then adds each D-side term's
value; the G phase does the same with the G-side terms (StyleGAN2-ADA's
`Dreg` and `Greg`, inside the same update). A term may also bring
variables trained with its phase's optimizer (InfoGAN's Q) and act after
each update of its phase (the EMA copy of G).

`GAN` assembles its terms from its arguments: gradient penalties (D side,
`keras_gan.penalties`), feature matching and InfoGAN's mutual information
(G side, `keras_gan.feature_matching`, `keras_gan.codes`), the EMA copy of
G (after each G update, `keras_gan.ema`). `GAN.compile(terms=[...])` adds
terms of your own.

Example:

```python
import keras, keras_gan
from keras import ops


@keras.saving.register_keras_serializable(package="my_terms")
class MeanFakeNorm(keras_gan.terms.Term):
    '''A G-side term: weight * mean ||G(z)||^2, logged as `fake_norm`.'''

    phase, log_name, needs_fake = "g", "fake_norm", True

    def __init__(self, weight=0.1):
        self.weight = weight

    def loss(self, step):
        value = ops.mean(ops.sum(ops.square(step.fake), axis=-1))
        step.gan.log(self.log_name, value)
        return self.weight * value

    def get_config(self):
        return {"weight": self.weight}


gan = keras_gan.GAN(keras_gan.networks.toy_generator(4, 2), keras_gan.networks.toy_discriminator(2))
gan.compile("adam", "adam", terms=[MeanFakeNorm(0.1)])
history = gan.fit(keras_gan.data.ring_2d(n=256), epochs=1, verbose=0)
assert "fake_norm" in history.history
```
"""

import collections
import functools
import operator


#: What a D-side term sees: D's views (augmented, packed) of the real and fake
#: batches, their labels (conditional GAN) and D's logits on both.
DStep = collections.namedtuple("DStep", ["gan", "real", "fake", "labels", "real_logits", "fake_logits"],
                               defaults=(None, None))

#: What a G-side term sees: the latent batch, G's samples (None unless a term
#: `needs_fake`), D's features of real and fake (None unless `needs_features`),
#: and whether the networks run in training mode (False in `evaluate`).
GStep = collections.namedtuple("GStep", ["gan", "z", "fake", "real_features", "fake_features", "training"])


class Term:
    """Base class of a term of the D phase (`phase = "d"`) or the G phase (`"g"`).

    `loss(step)` gets a `DStep` or `GStep` and returns the float32 scalar
    added to its phase's loss (inside the phase's tape), or None; a term
    logs what it wants shown with `step.gan.log(name, value)` under its
    `log_name`, which the GAN adds to its logs. `after_update(gan)` runs
    after each update of its phase. Terms passed to `GAN.compile(terms=...)`
    are saved with the model: register them
    (`keras.saving.register_keras_serializable`) and give them `get_config`.
    """

    #: "d" or "g": the phase whose loss the term joins.
    phase = "g"
    #: The name of the Mean the term logs to, or None.
    log_name = None
    #: G side: the term reads `step.fake`, G's samples as a tensor.
    needs_fake = False
    #: G side: the term reads D's features of the real and fake batches.
    needs_features = False

    def loss(self, step):
        return None

    def extra_variables(self):
        """Trainable variables updated with the phase's optimizer, besides its networks'."""
        return []

    def after_update(self, gan):
        """Runs after each update of the term's phase (in the compiled step)."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def total(terms, step):
    """The sum of the terms' values on `step` (None when no term adds to the loss)."""
    values = [v for v in (term.loss(step) for term in terms) if v is not None]
    return functools.reduce(operator.add, values) if values else None


def check_terms(terms):
    """`terms` as a list of `Term`, or a ValueError naming the argument."""
    terms = list(terms or [])
    for term in terms:
        if not isinstance(term, Term) or term.phase not in ("d", "g"):
            raise ValueError(
                "Invalid value for argument `terms`: expected a list of keras_gan.terms.Term with "
                f"phase 'd' or 'g'. Received: {term!r}"
            )
    return terms
