"""InfoGAN categorical codes: a discrete part of z that G must make visible.

A continuous G maps the connected Gaussian latent space onto the data, so
between two separated modes it must put some samples on a "bridge"; on the
ring those bridges are most of the samples that miss "high quality"
(docs/benchmarks.md). A categorical code gives G a discrete
input it can switch modes on without a bridge, and InfoGAN's mutual
information term (Chen et al. 2016; one-hot first-layer inputs as in MGAN,
Hoang et al. 2018) makes G use it: a classifier Q learns to tell each fake's
code from the fake, and G is rewarded when Q can.

The code is cut from z itself: its first coordinate, pushed through the
normal CDF, picks one of `categories` equiprobable bins. So G still takes
`z ~ N(0, I)` of `latent_dim` values, and everything that feeds G noise
(`generate`, the EMA copy, export, TF Serving) works unchanged.

- `categorical_code(z, categories)`: the code of each latent vector.
- `CategoricalCode`: the layer that starts such a G: the code one-hot, then
  `z[:, 1:]`.
- `with_code(z, code, categories)`: latent vectors of a chosen code, to
  generate samples of one category (`gan.generate_from_noise(...)`).
- `keras_gan.GAN(..., code_classifier=q, info_weight=1.0)` trains G and Q on
  the mutual information term (see `GAN`).
"""

import math
import statistics

import keras
import numpy as np
from keras import ops

from keras_gan._internal import keras_private
from keras_gan._internal.validation import _check_int
from keras_gan.components.terms import Term


def check_categories(categories):
    """`categories` as an int >= 2, or a ValueError naming it."""
    return _check_int("categories", categories, 2,
                      "an int >= 2 (a categorical code of one category carries no information)")


def categorical_code(z, categories):
    """The categorical code of each latent vector: `floor(categories * Phi(z[:, 0]))`.

    With `z ~ N(0, I)` every code has probability `1 / categories`.

    Args:
        z: latent vectors, `(batch, latent_dim)`.
        categories: number of codes (>= 2).

    Returns:
        int32 codes in `[0, categories)`, shape `(batch,)`.

    Example:

    ```python
    codes = keras_gan.codes.categorical_code(np.zeros((3, 4)), 8)  # [4, 4, 4]
    ```
    """
    check_categories(categories)
    z = ops.convert_to_tensor(z)
    first = ops.cast(z[:, 0], "float32")
    uniform = 0.5 * (1.0 + ops.erf(first / math.sqrt(2.0)))
    # min(): Phi rounds to exactly 1.0 for z >= ~8.3 in float32.
    return ops.cast(ops.minimum(ops.floor(uniform * categories), categories - 1), "int32")


def with_code(z, code, categories):
    """Latent vectors `z` moved into the bins of `code`: `categorical_code` gives `code` back.

    The first value of each vector becomes the middle (in probability) of
    its code's bin, `Phi^-1((code + 0.5) / categories)`; the rest of z is
    kept. Feed the result to `gan.generate_from_noise` for samples of chosen
    codes.

    Args:
        z: latent vectors, `(n, latent_dim)`.
        code: one int in `[0, categories)` for every vector, or `n` of them.
        categories: number of codes, as G's `CategoricalCode`.

    Returns:
        A float32 numpy array shaped like `z`.

    Example:

    ```python
    z = np.random.default_rng(0).normal(size=(10, gan.latent_dim))
    threes = gan.generate_from_noise(keras_gan.codes.with_code(z, 3, gan.code_categories))
    ```
    """
    categories = check_categories(categories)
    z = np.array(ops.convert_to_numpy(z), dtype="float32")  # a copy: the caller's z is kept
    if z.ndim != 2 or z.shape[1] < 1:
        raise ValueError(
            "Invalid value for argument `z`: expected latent vectors of shape (n, latent_dim). "
            f"Received: z with shape {z.shape}"
        )
    code = np.asarray(code)
    if (code.ndim > 1 or (code.ndim == 1 and len(code) != len(z)) or not np.issubdtype(code.dtype, np.integer)
            or code.min(initial=0) < 0 or code.max(initial=0) >= categories):
        raise ValueError(
            f"Invalid value for argument `code`: expected an int in [0, {categories}) or {len(z)} of them. "
            f"Received: code={code.tolist()!r}"
        )
    normal = statistics.NormalDist()
    middles = np.array([normal.inv_cdf((c + 0.5) / categories) for c in range(categories)], "float32")
    z[:, 0] = middles[code]
    return z


@keras.saving.register_keras_serializable(package="keras_gan")
class CategoricalCode(keras.layers.Layer):
    """The first layer of an InfoGAN G: `z` to `[one_hot(code), z[:, 1:]]`.

    The code is `categorical_code(z, categories)`, so the output has
    `categories + latent_dim - 1` features. Put it first in G and pass
    `code_classifier` to `keras_gan.GAN` (or G is free to ignore the code).

    Args:
        categories: number of codes (>= 2).

    Example:

    ```python
    z = keras.Input((16,))
    x = keras_gan.codes.CategoricalCode(8)(z)          # (batch, 8 + 15)
    x = keras.layers.Dense(128, activation="relu")(x)
    g = keras.Model(z, keras.layers.Dense(2)(x))
    ```
    """

    def __init__(self, categories, **kwargs):
        super().__init__(**kwargs)
        self.categories = check_categories(categories)

    def build(self, input_shape):
        if len(input_shape) != 2 or (input_shape[-1] is not None and input_shape[-1] < 1):
            raise ValueError(
                "Invalid input for CategoricalCode: expected latent vectors of shape "
                f"(batch, latent_dim) with latent_dim >= 1. Received: shape {tuple(input_shape)}"
            )

    def call(self, z):
        onehot = ops.one_hot(categorical_code(z, self.categories), self.categories, dtype=z.dtype)
        return ops.concatenate([onehot, z[:, 1:]], axis=-1)

    def compute_output_shape(self, input_shape):
        latent = input_shape[-1]
        return (input_shape[0], None if latent is None else self.categories + latent - 1)

    def get_config(self):
        return {**super().get_config(), "categories": self.categories}


def generator_categories(generator):
    """The `categories` of the `CategoricalCode` layers in `generator` (a sorted list)."""
    return sorted({layer.categories for layer in keras_private.flatten_layers(generator)
                   if isinstance(layer, CategoricalCode)})


def check_code_classifier(code_classifier, generator, sample_shape):
    """Checks Q against G; returns the number of categories.

    Q must be a built `keras.Model` from one sample of G to
    `(batch, categories)` logits, and G must start from a `CategoricalCode`
    of as many categories.
    """
    if not isinstance(code_classifier, keras.Model) or not code_classifier.built:
        raise ValueError(
            "Invalid value for argument `code_classifier`: expected a built keras.Model from "
            f"G's samples to (batch, categories) logits. Received: code_classifier={code_classifier!r}"
        )
    out = tuple(code_classifier.output_shape) if hasattr(code_classifier, "output_shape") else ()
    if len(out) != 2 or out[-1] is None or out[-1] < 2:
        raise ValueError(
            "Invalid value for argument `code_classifier`: expected an output of shape "
            f"(batch, categories), categories >= 2. Received: output shape {out}"
        )
    categories = out[-1]
    q_in = tuple(code_classifier.input_shape[1:]) if hasattr(code_classifier, "input_shape") else None
    if sample_shape is not None and q_in is not None and q_in != tuple(sample_shape):
        raise ValueError(
            "Invalid value for argument `code_classifier`: expected inputs of G's sample shape "
            f"{tuple(sample_shape)}. Received: input shape {q_in}"
        )
    found = generator_categories(generator)
    if found != [categories]:
        raise ValueError(
            f"Invalid value for argument `code_classifier`: it predicts {categories} categories, "
            "so the generator must start from keras_gan.codes.CategoricalCode"
            f"({categories}). Received: a generator with "
            + (f"CategoricalCode categories {found}" if found else "no CategoricalCode layer")
        )
    return categories


def info_loss(code_classifier, z, fake, categories, training=True):
    """InfoGAN's term: Q's cross-entropy on the code of each fake's `z`.

    Minimised by G and Q together, it is, up to a constant, minus the
    variational lower bound on the mutual information between code and
    sample (InfoGAN).

    Args:
        code_classifier: Q, from samples to `(batch, categories)` logits.
        z: the latent batch the fakes came from.
        fake: G's samples of `z`.
        categories: the number of code categories.
        training: run Q in training mode.

    Returns:
        A float32 scalar.
    """
    codes = categorical_code(z, categories)
    logits = ops.cast(code_classifier(fake, training=training), "float32")
    return ops.mean(keras.losses.sparse_categorical_crossentropy(codes, logits, from_logits=True))


class InfoTerm(Term):
    """The G-side term of `GAN(code_classifier=q, info_weight=w)`: `w * info_loss`.

    Q's variables train with G's optimizer. Logged as `info_loss`, unweighted.
    """

    phase, log_name, needs_fake = "g", "info_loss", True

    def __init__(self, code_classifier, categories, weight):
        self.code_classifier, self.categories, self.weight = code_classifier, categories, weight

    def loss(self, step):
        value = info_loss(self.code_classifier, step.z, step.fake, self.categories, training=step.training)
        step.gan.log(self.log_name, value)
        return self.weight * value

    def extra_variables(self):
        return list(self.code_classifier.trainable_variables)
