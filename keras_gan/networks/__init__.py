"""Reference generators and discriminators, parameterised by shapes.

Every discriminator outputs logits (no sigmoid) from a float32 layer, and every
generator's last activation is float32, so both stay float32 at the model
boundary under a mixed-precision policy (docs/design.md, "Float32 at the boundaries").
"""

import math

import keras
from keras import layers

from keras_gan._internal.registry import Registry
from keras_gan.components import codes
from keras_gan.components import layers as gan_layers
from keras_gan.networks import stylegan2
from keras_gan.networks.stylegan2 import (
    StyleGAN2Generator, check_truncation, stylegan2_discriminator, stylegan2_generator, supports_truncation,
)


def _check_shape(name, shape, rank=None):
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a tuple of positive "
            f"integers. Received: {name}={shape!r}"
        ) from None
    if not shape or any(d <= 0 for d in shape) or (rank and len(shape) != rank):
        what = f"a tuple of {rank} positive integers" if rank else "a tuple of positive integers"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected {what}. Received: {name}={shape!r}"
        )
    return shape


def _check_positive(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a positive integer. "
            f"Received: {name}={value!r}"
        )
    return value


def _sn(layer, spectral_norm):
    """`layer`, or `layer` inside `SpectralNorm` (which takes its dtype) when asked."""
    if not spectral_norm:
        return layer
    return gan_layers.SpectralNorm(layer, dtype=layer.dtype_policy, name=f"{layer.name}_sn")


def _code_input(z, categories):
    """z itself, or, with `categories`, z through an InfoGAN `CategoricalCode` layer."""
    return z if categories is None else codes.CategoricalCode(categories, name="categorical_code")(z)


def mlp_generator(latent_dim=100, output_shape=(28, 28, 1), units=(128, 256, 512, 1024), categories=None,
                  name="mlp_generator"):
    """The MLP generator: Dense 128-256-512-1024, BatchNorm, LeakyReLU(0.2), tanh.

    BatchNorm follows every hidden Dense but the first, as in the classic
    PyTorch GAN for 28x28 digits.

    Args:
        latent_dim: size of the noise vector z.
        output_shape: shape of one sample, e.g. `(28, 28, 1)`.
        units: hidden layer sizes.
        categories: start from `keras_gan.codes.CategoricalCode(categories)`:
            z's first value becomes an InfoGAN categorical code (train with
            `keras_gan.GAN(..., code_classifier=code_classifier(...))`).
            None for a plain z.
        name: model name.

    Returns:
        A `keras.Model` mapping `(batch, latent_dim)` to `(batch, *output_shape)`
        in [-1, 1].

    Example:

    ```python
    g = keras_gan.networks.mlp_generator(latent_dim=100, output_shape=(28, 28, 1))
    ```
    """
    _check_positive("latent_dim", latent_dim)
    output_shape = _check_shape("output_shape", output_shape)
    z = keras.Input((latent_dim,), name="z")
    x = _code_input(z, categories)
    for i, n in enumerate(units):
        x = layers.Dense(n)(x)
        if i > 0:
            x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(math.prod(output_shape))(x)
    x = layers.Activation("tanh", dtype="float32")(x)
    x = layers.Reshape(output_shape)(x)
    return keras.Model(z, x, name=name)


def mlp_discriminator(input_shape=(28, 28, 1), units=(512, 256), spectral_norm=False,
                      name="mlp_discriminator"):
    """The MLP discriminator: Dense 512-256-1 with LeakyReLU(0.2), logits out.

    Args:
        input_shape: shape of one sample.
        units: hidden layer sizes.
        spectral_norm: wrap every Dense and Conv layer of D in
            `keras_gan.layers.SpectralNorm` (SN-GAN), making each about
            1-Lipschitz.
        name: model name.

    Returns:
        A `keras.Model` mapping `(batch, *input_shape)` to `(batch, 1)` logits.

    Example:

    ```python
    d = keras_gan.networks.mlp_discriminator(input_shape=(28, 28, 1))
    ```
    """
    input_shape = _check_shape("input_shape", input_shape)
    x_in = keras.Input(input_shape, name="x")
    x = layers.Flatten()(x_in)
    for n in units:
        x = _sn(layers.Dense(n), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = _sn(layers.Dense(1, dtype="float32", name="logits"), spectral_norm)(x)
    return keras.Model(x_in, logits, name=name)


NORMS = ("batch", "instance", "none")


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(
            f"Invalid value for argument `norm`: expected one of {list(NORMS)}. Received: norm={norm!r}"
        )
    return norm


def _norm_layer(norm):
    """The normalisation layer of the image-to-image builders, or None for `"none"`."""
    if norm == "batch":
        return layers.BatchNormalization()
    if norm == "instance":
        # GroupNormalization with one group per channel is instance norm: per image
        # statistics, no moving averages, so a frozen D judges as it trains.
        return layers.GroupNormalization(groups=-1, epsilon=1e-5)
    return None


def _check_image_shape(name, shape):
    shape = _check_shape(name, shape, rank=3)
    if shape[0] % 4 or shape[1] % 4:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected (H, W, C) with H and W "
            f"multiples of 4. Received: {name}={shape!r}"
        )
    return shape


def dcgan_generator(latent_dim=100, output_shape=(28, 28, 1), filters=64, categories=None, name="dcgan_generator"):
    """A DCGAN generator for any H x W x C image, H and W multiples of 4.

    Dense to (H/4, W/4, 2*filters), then two stride-2 transposed convolutions
    (BatchNorm and LeakyReLU(0.2) between them), tanh out.

    Args:
        latent_dim: size of z.
        output_shape: `(H, W, C)`, H and W multiples of 4.
        filters: width of the last hidden convolution.
        categories: start from `keras_gan.codes.CategoricalCode(categories)`:
            z's first value becomes an InfoGAN categorical code (train with
            `keras_gan.GAN(..., code_classifier=code_classifier(...))`).
            None for a plain z.
        name: model name.

    Returns:
        A `keras.Model` from `(batch, latent_dim)` to `(batch, H, W, C)` in [-1, 1].

    Example:

    ```python
    g = keras_gan.networks.dcgan_generator(latent_dim=64, output_shape=(32, 32, 3))
    ```
    """
    _check_positive("latent_dim", latent_dim)
    _check_positive("filters", filters)
    h, w, c = _check_image_shape("output_shape", output_shape)
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense((h // 4) * (w // 4) * filters * 2, use_bias=False)(_code_input(z, categories))
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((h // 4, w // 4, filters * 2))(x)
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2DTranspose(c, 4, strides=2, padding="same")(x)
    x = layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(z, x, name=name)


def dcgan_discriminator(input_shape=(28, 28, 1), filters=64, dropout=0.0, minibatch_stddev=False,
                        spectral_norm=False, name="dcgan_discriminator"):
    """A DCGAN discriminator: two stride-2 convolutions, LeakyReLU(0.2), logits out.

    Args:
        input_shape: `(H, W, C)`, H and W multiples of 4.
        filters: width of the first convolution (the second has twice as many).
        dropout: dropout rate after each convolution (0 disables it).
        minibatch_stddev: append the minibatch standard deviation as a
            feature map before the second convolution
            (`keras_gan.layers.MinibatchStddev`, against mode collapse).
        spectral_norm: wrap every Dense and Conv layer of D in
            `keras_gan.layers.SpectralNorm` (SN-GAN), making each about
            1-Lipschitz.
        name: model name.

    Returns:
        A `keras.Model` mapping `(batch, H, W, C)` to `(batch, 1)` logits.

    Example:

    ```python
    d = keras_gan.networks.dcgan_discriminator(input_shape=(32, 32, 3))
    ```
    """
    _check_positive("filters", filters)
    input_shape = _check_image_shape("input_shape", input_shape)
    x_in = keras.Input(input_shape, name="x")
    x = x_in
    for f in (filters, filters * 2):
        if minibatch_stddev and f == filters * 2:
            x = gan_layers.MinibatchStddev()(x)
        x = _sn(layers.Conv2D(f, 4, strides=2, padding="same"), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    logits = _sn(layers.Dense(1, dtype="float32", name="logits"), spectral_norm)(x)
    return keras.Model(x_in, logits, name=name)


def toy_generator(latent_dim=8, output_dim=2, units=(64, 64), categories=None, name="toy_generator"):
    """A small MLP generator for 1D and 2D toy distributions (linear output).

    Args:
        latent_dim: size of z.
        output_dim: dimension of one sample (1 for `gaussian_1d`, 2 for the
            2D mixtures).
        units: hidden layer sizes (ReLU).
        categories: start from `keras_gan.codes.CategoricalCode(categories)`:
            z's first value becomes an InfoGAN categorical code (train with
            `keras_gan.GAN(..., code_classifier=toy_code_classifier(...))`).
            None for a plain z.
        name: model name.

    Returns:
        A `keras.Model` from `(batch, latent_dim)` to `(batch, output_dim)`.

    Example:

    ```python
    g = keras_gan.networks.toy_generator(latent_dim=4, output_dim=1)
    ```
    """
    _check_positive("latent_dim", latent_dim)
    _check_positive("output_dim", output_dim)
    z = keras.Input((latent_dim,), name="z")
    x = _code_input(z, categories)
    for n in units:
        x = layers.Dense(n, activation="relu")(x)
    x = layers.Dense(output_dim, dtype="float32", name="sample")(x)
    return keras.Model(z, x, name=name)


def toy_code_classifier(input_dim=2, categories=8, units=(128, 128), name="toy_code_classifier"):
    """InfoGAN's Q for toy data: an MLP from a sample to `categories` logits.

    The same body as `toy_discriminator` (LeakyReLU(0.2)), a separate
    network: Q is trained with G (`keras_gan.GAN(code_classifier=...)`),
    D is not.

    Args:
        input_dim: dimension of one sample.
        categories: number of codes; G must start from
            `keras_gan.codes.CategoricalCode(categories)`.
        units: hidden layer sizes.
        name: model name.

    Returns:
        A `keras.Model` from `(batch, input_dim)` to `(batch, categories)`
        logits (float32).

    Example:

    ```python
    g = keras_gan.networks.toy_generator(16, 2, units=(128,) * 3, categories=8)
    q = keras_gan.networks.toy_code_classifier(2, categories=8)
    gan = keras_gan.GAN(g, keras_gan.networks.toy_discriminator(2), code_classifier=q)
    ```
    """
    _check_positive("input_dim", input_dim)
    return code_classifier("toy", (input_dim,), categories, units=units, name=name)


def toy_discriminator(input_dim=2, units=(64, 64), minibatch_features=None, spectral_norm=False,
                      name="toy_discriminator"):
    """A small MLP discriminator for 1D and 2D toy data (LeakyReLU(0.2), logits).

    Args:
        input_dim: dimension of one sample.
        units: hidden layer sizes.
        minibatch_features: features of the whole batch against mode collapse:
            `"deviation"` feeds D each sample with its squared deviation from
            the batch mean (`keras_gan.layers.SquaredDeviationFromBatchMean`);
            `"stddev"` appends the minibatch standard deviation before the
            last hidden layer (`keras_gan.layers.MinibatchStddev`); None for
            neither.
        spectral_norm: wrap every Dense and Conv layer of D in
            `keras_gan.layers.SpectralNorm` (SN-GAN), making each about
            1-Lipschitz.
        name: model name.

    Returns:
        A `keras.Model` from `(batch, input_dim)` to `(batch, 1)` logits.

    Example:

    ```python
    d = keras_gan.networks.toy_discriminator(input_dim=1)
    ```
    """
    _check_positive("input_dim", input_dim)
    if minibatch_features not in (None, "deviation", "stddev"):
        raise ValueError(
            "Invalid value for argument `minibatch_features`: expected None, 'deviation' or "
            f"'stddev'. Received: minibatch_features={minibatch_features!r}"
        )
    x_in = keras.Input((input_dim,), name="x")
    x = x_in
    if minibatch_features == "deviation":
        x = gan_layers.SquaredDeviationFromBatchMean()(x)
    for i, n in enumerate(units):
        if minibatch_features == "stddev" and i == len(units) - 1:
            x = gan_layers.MinibatchStddev()(x)
        x = _sn(layers.Dense(n), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = _sn(layers.Dense(1, dtype="float32", name="logits"), spectral_norm)(x)
    return keras.Model(x_in, logits, name=name)


def patchgan_discriminator(input_shape=(64, 64, 3), filters=64, n_layers=3, norm="batch",
                           spectral_norm=False, name="patchgan_discriminator"):
    """A PatchGAN discriminator (pix2pix): a map of logits, one per patch.

    `n_layers` stride-2 4x4 convolutions (a normalisation after all but the
    first, LeakyReLU(0.2)), then a stride-1 4x4 convolution to one logit
    channel.

    Args:
        input_shape: `(H, W, C)`; H and W must be divisible by `2**n_layers`.
        filters: width of the first convolution, doubling per layer (capped
            at 8x).
        n_layers: number of downsampling convolutions.
        norm: `"batch"` (pix2pix), `"instance"` (CycleGAN: per-image
            statistics, so the D judges the same way when frozen in the G
            phase) or `"none"`.
        spectral_norm: wrap every Dense and Conv layer of D in
            `keras_gan.layers.SpectralNorm` (SN-GAN), making each about
            1-Lipschitz.
        name: model name.

    Returns:
        A `keras.Model` from `(batch, H, W, C)` to
        `(batch, H / 2**n_layers, W / 2**n_layers, 1)` logits.

    Example:

    ```python
    d = keras_gan.networks.patchgan_discriminator((64, 64, 3))  # 8x8 logits
    ```
    """
    _check_positive("filters", filters)
    _check_positive("n_layers", n_layers)
    _check_norm(norm)
    h, w, c = _check_shape("input_shape", input_shape, rank=3)
    if h % 2**n_layers or w % 2**n_layers:
        raise ValueError(
            "Invalid value for argument `input_shape`: expected H and W divisible by "
            f"2**n_layers={2**n_layers}. Received: input_shape={tuple(input_shape)!r}"
        )
    x_in = keras.Input((h, w, c), name="x")
    x = x_in
    for i in range(n_layers):
        x = _sn(layers.Conv2D(filters * min(2**i, 8), 4, strides=2, padding="same"), spectral_norm)(x)
        if i > 0 and norm != "none":
            x = _norm_layer(norm)(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = _sn(layers.Conv2D(1, 4, padding="same", dtype="float32", name="logits"), spectral_norm)(x)
    return keras.Model(x_in, logits, name=name)


# ------------------------------------------------ conditional and packed D
def _square_image(name, shape):
    """(resolution, channels) of a square image shape `(R, R, C)`, for StyleGAN2."""
    shape = _check_shape(name, shape, 3)
    if shape[0] != shape[1]:
        raise ValueError(
            f"Invalid value for argument `{name}`: StyleGAN2 expects square images (R, R, C) with R a "
            f"power of two from 32 to 1024. Received: {name}={shape!r}"
        )
    return shape[0], shape[2]


def _stylegan2_generator_for(latent_dim, output_shape, categories=None, **kwargs):
    if categories is not None:
        raise ValueError(
            "Invalid value for argument `categories`: the StyleGAN2 generator takes no InfoGAN code; "
            f"expected None. Received: categories={categories!r}"
        )
    resolution, channels = _square_image("output_shape", output_shape)
    kwargs.setdefault("w_dim", latent_dim)  # w as wide as z, as in the paper (512 and 512)
    return stylegan2_generator(resolution, channels, latent_dim=latent_dim, **kwargs)


def _stylegan2_discriminator_for(input_shape, spectral_norm=False, **kwargs):
    if spectral_norm:
        raise ValueError(
            "Invalid value for argument `spectral_norm`: the StyleGAN2 discriminator uses equalized "
            "learning rate, not spectral normalization; expected False. Received: spectral_norm=True"
        )
    resolution, channels = _square_image("input_shape", input_shape)
    return stylegan2_discriminator(resolution, channels, **kwargs)


_GENERATORS = Registry("generator", "kind")
_DISCRIMINATORS = Registry("discriminator", "kind")
_GENERATORS.register("toy")(toy_generator)
_GENERATORS.register("mlp")(mlp_generator)
_GENERATORS.register("dcgan")(dcgan_generator)
_DISCRIMINATORS.register("toy")(toy_discriminator)
_DISCRIMINATORS.register("mlp")(mlp_discriminator)
_DISCRIMINATORS.register("dcgan")(dcgan_discriminator)
_DISCRIMINATORS.register("patchgan")(patchgan_discriminator)
_GENERATORS.register("stylegan2")(_stylegan2_generator_for)
_DISCRIMINATORS.register("stylegan2")(_stylegan2_discriminator_for)


def generator_kinds():
    """The kinds `generator` builds: `["toy", "mlp", "dcgan", ...]`."""
    return _GENERATORS.names()


def discriminator_kinds():
    """The kinds `discriminator` builds: `["toy", "mlp", "dcgan", "patchgan", ...]`."""
    return _DISCRIMINATORS.names()


def generator(kind, latent_dim, output_shape, **kwargs):
    """A generator of `kind` from `latent_dim` noise to samples of `output_shape`.

    Args:
        kind: one of `generator_kinds()`: "toy" (2D/1D points), "mlp" (the
            MLP GAN), "dcgan", ...
        latent_dim: size of z.
        output_shape: the shape of one sample, e.g. `(28, 28, 1)` or `(2,)`.
        **kwargs: passed to the kind's builder (e.g. `units`, `filters`,
            `categories`, `name`).

    Returns:
        A built `keras.Model`.

    Example:

    ```python
    g = keras_gan.networks.generator("dcgan", 64, (8, 8, 1), filters=16)
    ```
    """
    builder = _GENERATORS[kind]
    if builder is toy_generator:
        return builder(latent_dim=latent_dim, output_dim=_check_shape("output_shape", output_shape, 1)[0], **kwargs)
    return builder(latent_dim=latent_dim, output_shape=output_shape, **kwargs)


def discriminator(kind, input_shape, **kwargs):
    """A discriminator of `kind` from samples of `input_shape` to logits.

    Args:
        kind: one of `discriminator_kinds()`.
        input_shape: the shape of one sample.
        **kwargs: passed to the kind's builder (e.g. `units`, `filters`,
            `spectral_norm`, `name`).

    Returns:
        A built `keras.Model`.

    Example:

    ```python
    d = keras_gan.networks.discriminator("dcgan", (8, 8, 1), filters=16)
    ```
    """
    builder = _DISCRIMINATORS[kind]
    if builder is toy_discriminator:
        return builder(input_dim=_check_shape("input_shape", input_shape, 1)[0], **kwargs)
    return builder(input_shape=input_shape, **kwargs)


def code_classifier(kind="dcgan", input_shape=(28, 28, 1), categories=10, name="code_classifier", **kwargs):
    """InfoGAN's Q: the `kind` discriminator's body with a `categories`-logit head.

    A network of its own, built like a fresh D of that kind up to the
    features D's logits would read, then `Dense(categories)`: Q is trained
    with G (`keras_gan.GAN(code_classifier=...)`), D is not. Pair it with a
    G that starts from `keras_gan.codes.CategoricalCode(categories)` (the
    `categories` argument of the generator builders).

    Args:
        kind: `"toy"`, `"mlp"` or `"dcgan"` (a PatchGAN judges patches, not
            whole samples, so it has no place here).
        input_shape: shape of one sample, G's output shape (`(d,)` for
            `"toy"`).
        categories: number of codes, as G's.
        name: model name.
        **kwargs: passed to the `kind` discriminator builder (`units`,
            `filters`, ...).

    Returns:
        A `keras.Model` from `(batch, *input_shape)` to `(batch, categories)`
        logits (float32).

    Example:

    ```python
    g = keras_gan.networks.dcgan_generator(64, (8, 8, 1), filters=32, categories=10)
    q = keras_gan.networks.code_classifier("dcgan", (8, 8, 1), categories=10, filters=32)
    gan = keras_gan.GAN(g, keras_gan.networks.dcgan_discriminator((8, 8, 1), filters=32),
                        code_classifier=q)
    ```
    """
    if kind not in ("toy", "mlp", "dcgan"):
        raise ValueError(
            "Invalid value for argument `kind`: expected one of ['dcgan', 'mlp', 'toy'] for a code "
            f"classifier. Received: kind={kind!r}"
        )
    categories = codes.check_categories(categories)
    body = discriminator(kind, input_shape, **kwargs)
    features = body.layers[-1].input  # what D's logits layer reads
    return keras.Model(body.input, layers.Dense(categories, dtype="float32", name="code_logits")(features),
                       name=name)


def conditional_generator(kind="dcgan", latent_dim=100, output_shape=(28, 28, 1), num_classes=10,
                          embedding_dim=None, name="conditional_generator", **kwargs):
    """A class-conditional G: `[z, label]` to a sample of class `label`.

    The label (int32, shape `(batch,)`) is embedded and concatenated to z,
    which then goes through the unconditional `kind` network.

    Args:
        kind: `"toy"`, `"mlp"` or `"dcgan"`: the network after the embedding.
        latent_dim: size of z.
        output_shape: shape of one sample (`(d,)` for `"toy"`).
        num_classes: number of classes.
        embedding_dim: size of the label embedding (default `num_classes`).
        name: model name.
        **kwargs: passed to the `kind` builder (`units`, `filters`).

    Returns:
        A `keras.Model` with inputs `[z float32 (batch, latent_dim), label
        int32 (batch,)]`.

    Example:

    ```python
    g = keras_gan.networks.conditional_generator("dcgan", 64, (8, 8, 1), num_classes=10)
    ```
    """
    _check_positive("latent_dim", latent_dim)
    _check_positive("num_classes", num_classes)
    embedding_dim = _check_positive("embedding_dim", embedding_dim or num_classes)
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="label")
    embedded = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)
    body = generator(kind, latent_dim + embedding_dim, output_shape, name=f"{kind}_body", **kwargs)
    return keras.Model([z, label], body(layers.Concatenate()([z, embedded])), name=name)


def conditional_discriminator(kind="dcgan", input_shape=(28, 28, 1), num_classes=10,
                              name="conditional_discriminator", **kwargs):
    """A class-conditional D: `[x, label]` to logits.

    Images get the label as one extra channel (an embedding of size H*W,
    reshaped to H x W x 1); vectors get a `num_classes`-sized embedding
    concatenated to the features. The result goes through the unconditional
    `kind` network.

    Args:
        kind: `"toy"`, `"mlp"`, `"dcgan"` or `"patchgan"`.
        input_shape: shape of one sample (`(d,)` for `"toy"`).
        num_classes: number of classes.
        name: model name.
        **kwargs: passed to the `kind` builder.

    Returns:
        A `keras.Model` with inputs `[x (batch, *input_shape), label int32
        (batch,)]` and logits out.

    Example:

    ```python
    d = keras_gan.networks.conditional_discriminator("dcgan", (8, 8, 1), num_classes=10)
    ```
    """
    _check_positive("num_classes", num_classes)
    input_shape = _check_shape("input_shape", input_shape)
    x = keras.Input(input_shape, name="x")
    label = keras.Input((), dtype="int32", name="label")
    if len(input_shape) == 1:
        extra = layers.Embedding(num_classes, num_classes, name="label_embedding")(label)
        body_shape = (input_shape[0] + num_classes,)
    else:
        extra = layers.Embedding(num_classes, math.prod(input_shape[:-1]), name="label_embedding")(label)
        extra = layers.Reshape(input_shape[:-1] + (1,))(extra)
        body_shape = input_shape[:-1] + (input_shape[-1] + 1,)
    body = discriminator(kind, body_shape, name=f"{kind}_body", **kwargs)
    return keras.Model([x, label], body(layers.Concatenate()([x, extra])), name=name)


def packed_discriminator(kind="toy", input_shape=(2,), pack=2, name=None, **kwargs):
    """A D for PacGAN: the `kind` network on `pack` samples concatenated along the last axis.

    Use with `keras_gan.GAN(g, d, pack=pack)`, which packs real and fake
    batches (`keras_gan.layers.PackSamples`) before D.

    Args:
        kind: `"toy"`, `"mlp"`, `"dcgan"` or `"patchgan"`.
        input_shape: shape of ONE sample (G's output shape).
        pack: samples judged together (m).
        name: model name (default `"packed_<kind>_discriminator"`).
        **kwargs: passed to the `kind` builder.

    Returns:
        A `keras.Model` from `(batch, *input_shape[:-1], input_shape[-1] * pack)`
        to logits.

    Example:

    ```python
    d = keras_gan.networks.packed_discriminator("toy", (2,), pack=2)
    gan = keras_gan.GAN(keras_gan.networks.toy_generator(8, 2), d, pack=2)
    ```
    """
    _check_positive("pack", pack)
    input_shape = _check_shape("input_shape", input_shape)
    packed = input_shape[:-1] + (input_shape[-1] * pack,)
    return discriminator(kind, packed, name=name or f"packed_{kind}_discriminator", **kwargs)


# ------------------------------------------------------------ image-to-image
def unet_generator(input_shape=(32, 32, 1), output_channels=3, filters=64, depth=None, dropout=0.5,
                   norm="batch", name="unet_generator"):
    """The pix2pix U-Net: an encoder-decoder with skip connections, image to image.

    The encoder has `depth` stride-2 4x4 convolutions (BatchNorm after all
    but the first, LeakyReLU(0.2)); the decoder mirrors it with stride-2
    transposed convolutions (BatchNorm, dropout on the three innermost as
    pix2pix's noise, ReLU), each concatenated with the encoder output of the
    same size; a tanh layer (float32) gives the image.

    Args:
        input_shape: `(H, W, C)` of the input image; H and W must be
            divisible by `2**depth`.
        output_channels: channels of the output image.
        filters: width of the first convolution, doubling per level (capped
            at 8x).
        depth: number of downsampling levels; None goes down to 1x1
            (`log2(min(H, W))`).
        dropout: dropout rate in the three innermost decoder levels (0 for none).
        norm: `"batch"` (pix2pix), `"instance"` (CycleGAN) or `"none"`.
        name: model name.

    Returns:
        A `keras.Model` from `(batch, H, W, C)` to `(batch, H, W,
        output_channels)` in [-1, 1].

    Example:

    ```python
    g = keras_gan.networks.unet_generator((32, 32, 1), output_channels=3, filters=32)
    ```
    """
    h, w, c = _check_shape("input_shape", input_shape, rank=3)
    _check_positive("output_channels", output_channels)
    _check_positive("filters", filters)
    if depth is None:
        depth = max(1, int(math.log2(min(h, w))))
    _check_positive("depth", depth)
    _check_norm(norm)
    if h % 2**depth or w % 2**depth:
        raise ValueError(
            f"Invalid value for argument `input_shape`: expected H and W divisible by "
            f"2**depth={2**depth}. Received: input_shape={tuple(input_shape)!r}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"Invalid value for argument `dropout`: expected a float in [0, 1). Received: dropout={dropout!r}")
    x_in = keras.Input((h, w, c), name="images")
    x, skips = x_in, []
    for i in range(depth):
        x = layers.Conv2D(filters * min(2**i, 8), 4, strides=2, padding="same",
                          use_bias=i == 0 or norm == "none")(x)
        if 0 < i < depth - 1 and norm != "none":  # none innermost: at 1x1, instance norm gives 0
            x = _norm_layer(norm)(x)
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    for i in reversed(range(depth - 1)):
        x = layers.Conv2DTranspose(filters * min(2**i, 8), 4, strides=2, padding="same",
                                   use_bias=norm == "none")(x)
        if norm != "none":
            x = _norm_layer(norm)(x)
        if dropout and i >= depth - 4:
            x = layers.Dropout(dropout)(x)
        x = layers.ReLU()(x)
        x = layers.Concatenate()([x, skips[i]])
    x = layers.Conv2DTranspose(output_channels, 4, strides=2, padding="same")(x)
    x = layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(x_in, x, name=name)


def pix2pix_discriminator(input_shape=(32, 32, 1), target_shape=(32, 32, 3), filters=64, n_layers=3,
                          norm="batch", spectral_norm=False, name="pix2pix_discriminator"):
    """The conditional PatchGAN of pix2pix: judges (input, output) image pairs.

    The input image and the candidate output are concatenated along the
    channels and judged by `patchgan_discriminator`, one logit per patch.

    Args:
        input_shape: `(H, W, C_in)` of G's input image.
        target_shape: `(H, W, C_out)` of G's output (and the target) image.
        filters: width of the PatchGAN's first convolution.
        n_layers: its downsampling convolutions.
        norm: its normalisation, `"batch"`, `"instance"` or `"none"`.
        spectral_norm: wrap every convolution in `keras_gan.layers.SpectralNorm`
            (its power iteration moves in D's own updates only, never in the
            G phase, where D is frozen).
        name: model name.

    Returns:
        A `keras.Model` with inputs `[input (batch, H, W, C_in), output
        (batch, H, W, C_out)]` and logits `(batch, H / 2**n_layers,
        W / 2**n_layers, 1)` out.

    Example:

    ```python
    d = keras_gan.networks.pix2pix_discriminator((32, 32, 1), (32, 32, 3), filters=32)
    ```
    """
    input_shape = _check_shape("input_shape", input_shape, rank=3)
    target_shape = _check_shape("target_shape", target_shape, rank=3)
    if input_shape[:2] != target_shape[:2]:
        raise ValueError(
            "Invalid value for argument `target_shape`: expected the same height and width as "
            f"`input_shape` {input_shape}. Received: target_shape={target_shape!r}"
        )
    condition = keras.Input(input_shape, name="input_images")
    image = keras.Input(target_shape, name="images")
    body = patchgan_discriminator(
        input_shape[:2] + (input_shape[2] + target_shape[2],), filters=filters, n_layers=n_layers,
        norm=norm, spectral_norm=spectral_norm, name=f"{name}_patchgan",
    )
    return keras.Model([condition, image], body(layers.Concatenate()([condition, image])), name=name)
