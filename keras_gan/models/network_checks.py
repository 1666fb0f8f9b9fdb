"""The checks every model makes of the networks it is given, with errors that name the argument."""

import keras

from keras_gan._internal.validation import check_positive_int


def check_model(name, model, inputs=None):
    """Raises a ValueError naming `name` unless `model` is a built keras.Model (with `inputs` inputs)."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"Invalid value for argument `{name}`: expected a keras.Model. Received: {name}={model!r}")
    if not model.built:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a built keras.Model (build it or give it "
            f"a keras.Input). Received: unbuilt model {model.name!r}"
        )
    count = len(getattr(model, "inputs", None) or ()) or None
    if inputs is not None and count is not None and count != inputs:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a model with {inputs} input"
            f"{'s' if inputs > 1 else ''}. Received: a model with {count} inputs"
        )
    return model


def sample_shape(model, which, index=None):
    """The per-sample shape of a model's single input or output (or input `index`), or None."""
    try:
        shape = model.input_shape if which == "input" else model.output_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        if index is not None:
            shape = shape[index] if index < len(shape) else None
        else:
            shape = shape[0] if len(shape) == 1 else None
    return None if shape is None else tuple(shape[1:])


def image_shape(model, which="input", index=0):
    """The `(H, W, C)` of a model's input `index` or output, or None when unknown."""
    try:
        shape = model.input_shape if which == "input" else model.output_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        shape = shape[index]
    return tuple(shape[1:])


def check_gan_networks(generator, discriminator, num_classes, pack, latent_dim):
    """Checks G and D against each other and the GAN's arguments.

    Returns:
        `(latent_dim, data_shape)`: z's size (read from G's input when None)
        and the shape of one training sample (None when unknown).
    """
    check_model("generator", generator)
    check_model("discriminator", discriminator)
    conditional = num_classes is not None
    for arg, net, first in (("generator", generator, "z"), ("discriminator", discriminator, "x")):
        count = len(getattr(net, "inputs", None) or ()) or None
        if count is not None and count != (2 if conditional else 1):
            expected = (
                f"a model with inputs [{first}, label] for a conditional GAN "
                f"(num_classes={num_classes})" if conditional
                else "a model with one input (pass `num_classes` for a conditional GAN)"
            )
            raise ValueError(
                f"Invalid value for argument `{arg}`: expected {expected}. "
                f"Received: a model with {count} inputs"
            )
    if pack > 1 and conditional:
        raise ValueError(
            "Invalid value for argument `pack`: PacGAN packing is not supported by a "
            f"conditional GAN; expected 1. Received: pack={pack}"
        )
    index = 0 if conditional else None
    g_in = sample_shape(generator, "input", index)
    if latent_dim is None:
        if not g_in or len(g_in) != 1 or g_in[0] is None:
            raise ValueError(
                "Could not read `latent_dim` from the generator's input shape "
                f"{g_in}: pass `latent_dim` explicitly."
            )
        latent_dim = g_in[0]
    latent_dim = check_positive_int("latent_dim", latent_dim)
    if g_in and len(g_in) == 1 and g_in[0] not in (None, latent_dim):
        raise ValueError(
            f"Invalid value for argument `latent_dim`: expected the generator's "
            f"input size {g_in[0]}. Received: latent_dim={latent_dim}"
        )
    g_out = sample_shape(generator, "output")
    d_in = sample_shape(discriminator, "input", index)
    packed = None if g_out is None else g_out[:-1] + (g_out[-1] * pack,)
    if packed is not None and d_in is not None and packed != d_in:
        raise ValueError(
            f"The generator's samples have shape {g_out} but the discriminator "
            f"expects inputs of shape {d_in}: they must match"
            + (f" once packed by pack={pack}, i.e. {packed}." if pack > 1 else ".")
        )
    return latent_dim, g_out if g_out is not None else (d_in if pack == 1 else None)
