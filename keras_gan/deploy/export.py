"""Export a generator as a TF Serving SavedModel: `base_path/<version>/`.

The export holds only G (the EMA copy when the GAN keeps one) and these
signatures, every input and output named and float32 at the boundary even for
a model trained under `mixed_float16`, where `model.export` would give float16
inputs and outputs (docs/design.md, "Float32 at the export boundary"):

==========================  ==============================  =====================
signature                   inputs                          outputs
==========================  ==============================  =====================
`serving_default`           `z` float32 `[None, latent]`    `images` float32
`generate_from_seeds`       `seeds` int64 `[None]`          `images` float32
`images_png` (images only)  `seeds` int64 `[None]`          `png_bytes` string
`generate_truncated`        `seeds` int64 `[None]`,         `images` float32
(mapping network only)      `truncation` float32 `[None]`
==========================  ==============================  =====================

`generate_truncated` exists for generators with a mapping network and an
average w (`keras_gan.networks.supports_truncation`, e.g. StyleGAN2): psi in
`truncation` gives `w = w_avg + psi * (w - w_avg)` (1: no truncation, 0: the
average image), one psi per seed or a single psi (`[psi]`) for all of them,
so both REST formats (rows and columns) can carry it. Such generators use their constant per-pixel noise in every
signature, so a seed always gives the same image.

A class-conditional generator (two inputs: z and an integer label) gets the
same three signatures, each with one more input, `label` int32 `[None]`
(TF Serving's Predict takes exactly a signature's inputs, so there is no
optional label).

`images` are what G outputs: in `[-1, 1]` for the reference networks (tanh),
the range the data pipelines scale real images to. `generate_from_seeds`
draws row `i` from `tf.random.stateless_normal([latent_dim], seed=[seeds[i], 0])`,
so a seed always gives the same sample, and `gan.generate(1, seed=s)` gives the
same sample as seed `s`. `png_bytes` ends in `_bytes` so that TF Serving's REST
API returns it base64-encoded (`{"b64": ...}`); pixels are mapped from the
generator's output range (`[-1, 1]` unless its last activation is a sigmoid)
to uint8.

A file `assets.extra/keras_gan.json` beside `saved_model.pb` records the
latent size, the number of classes, the sample shape and the output range;
TF Serving ignores it, `keras_gan.load_generator` reads it.
"""

import json
import os
import shutil
import tempfile

import tensorflow as tf
import keras

from keras_gan._internal.validation import check_positive_int
from keras_gan.data.images import fsync_path
from keras_gan.networks.stylegan2 import supports_truncation

SIGNATURE_Z = "serving_default"
SIGNATURE_SEEDS = "generate_from_seeds"
SIGNATURE_PNG = "images_png"
SIGNATURE_TRUNCATED = "generate_truncated"
METADATA_PATH = os.path.join("assets.extra", "keras_gan.json")
_TEMP_PREFIX = ".tmp-keras-gan-"


def _invalid(message, received):
    return ValueError(
        f"Invalid value for argument `gan_or_generator`: expected {message}. Received: {received}"
    )


def _resolve(gan_or_generator):
    """Returns `(generator, num_classes, latent_dim_hint)` for a GAN or a generator."""
    obj = gan_or_generator
    if not isinstance(obj, keras.Model):
        raise _invalid(
            "a keras_gan.GAN or a generator keras.Model",
            f"gan_or_generator={obj!r} of type {type(obj).__name__}",
        )
    if hasattr(obj, "inference_generator"):
        generator = obj.inference_generator
        return generator, getattr(obj, "num_classes", None), getattr(obj, "latent_dim", None)
    return obj, getattr(obj, "num_classes", None), getattr(obj, "latent_dim", None)


def _generator_inputs(generator, latent_dim_hint, num_classes):
    """Reads `(latent_dim, z_dtype, label_shape)` from G's inputs.

    `label_shape` is None for an unconditional G, else the per-sample shape
    of its label input (`()` or `(1,)`).
    """
    if not generator.built:
        raise _invalid(
            "a built generator (call it once or build it from a keras.Input)",
            f"unbuilt model {generator.name!r}",
        )
    try:
        inputs = list(generator.inputs)
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        # A subclassed G has no symbolic inputs: trust the GAN's latent_dim.
        if latent_dim_hint is None:
            raise _invalid(
                "a generator with known inputs (a functional keras.Model, or a "
                "keras_gan.GAN, which knows latent_dim)",
                f"model {generator.name!r} without symbolic inputs",
            )
        return latent_dim_hint, "float32", (() if num_classes else None)
    if len(inputs) > 2:
        raise _invalid(
            "a generator with one input (z) or two (z, label)",
            f"model {generator.name!r} with {len(inputs)} inputs",
        )
    if len(inputs) == 2:
        # The label is the integer input; the order is (z, label) otherwise.
        ints = [i for i, t in enumerate(inputs) if "int" in str(t.dtype)]
        label_index = ints[0] if len(ints) == 1 else 1
        z_input, label_input = inputs[1 - label_index], inputs[label_index]
        label_shape = tuple(label_input.shape[1:])
        if label_shape not in ((), (1,)):
            raise _invalid(
                "a label input of shape (batch,) or (batch, 1)",
                f"label input of shape {tuple(label_input.shape)}",
            )
    else:
        z_input, label_shape = inputs[0], None
    z_shape = tuple(z_input.shape)
    if len(z_shape) != 2 or z_shape[1] is None:
        raise _invalid(
            "a z input of shape (batch, latent_dim)", f"z input of shape {z_shape}"
        )
    return int(z_shape[1]), str(z_input.dtype), label_shape


def _output_range(generator):
    """G's output range, read from its last activation: sigmoid -> [0, 1], else [-1, 1]."""
    for layer in reversed(generator.layers):
        if isinstance(layer, keras.Model):  # a nested body (conditional networks)
            return _output_range(layer)
        activation = getattr(layer, "activation", None)
        if activation is None:
            continue
        name = getattr(activation, "__name__", str(activation))
        return (0.0, 1.0) if name == "sigmoid" else (-1.0, 1.0)
    return (-1.0, 1.0)


def _is_image(sample_shape):
    # tf.io.encode_png takes HxWxC with 1-4 channels.
    return len(sample_shape) == 3 and sample_shape[-1] in (1, 2, 3, 4)


def _noise_from_seeds(seeds, latent_dim):
    zero = tf.zeros((), tf.int64)
    return tf.map_fn(
        lambda s: tf.random.stateless_normal([latent_dim], seed=tf.stack([s, zero])),
        seeds,
        fn_output_signature=tf.TensorSpec([latent_dim], tf.float32),
    )


def _to_png(images, low, high):
    pixels = (tf.clip_by_value(images, low, high) - low) * (255.0 / (high - low))
    pixels = tf.cast(tf.round(pixels), tf.uint8)
    return tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string))


def _build_archive(generator, latent_dim, z_dtype, label_shape, pixel_range):
    conditional = label_shape is not None

    def run(z, label=None):
        args = [tf.cast(z, z_dtype)]
        if conditional:
            label = tf.cast(label, tf.int32)
            args.append(tf.reshape(label, (-1,) + label_shape))
        images = generator(args if conditional else args[0], training=False)
        # Cast: a mixed_float16 G may still compute in float16 inside.
        return tf.cast(images, tf.float32)

    z_spec = tf.TensorSpec((None, latent_dim), tf.float32, name="z")
    seeds_spec = tf.TensorSpec((None,), tf.int64, name="seeds")
    label_spec = [tf.TensorSpec((None,), tf.int32, name="label")] if conditional else []

    def from_z(z, *label):
        return {"images": run(z, *label)}

    def from_seeds(seeds, *label):
        return {"images": run(_noise_from_seeds(seeds, latent_dim), *label)}

    def png(seeds, *label):
        images = run(_noise_from_seeds(seeds, latent_dim), *label)
        return {"png_bytes": _to_png(images, *pixel_range)}

    def truncated(seeds, truncation):
        z = _noise_from_seeds(seeds, latent_dim)
        return {"images": tf.cast(generator(z, training=False, truncation=truncation), tf.float32)}

    archive = keras.export.ExportArchive()
    # No archive.track(generator): add_endpoint tracks the variables the
    # endpoints use, and track() would store every weight a second time.
    archive.add_endpoint(SIGNATURE_Z, from_z, [z_spec] + label_spec)
    archive.add_endpoint(SIGNATURE_SEEDS, from_seeds, [seeds_spec] + label_spec)
    sample_shape = tuple(generator.compute_output_spec(
        keras.KerasTensor((1, latent_dim)) if not conditional
        else [keras.KerasTensor((1, latent_dim)), keras.KerasTensor((1,) + label_shape, "int32")]
    ).shape[1:])
    signatures = [SIGNATURE_Z, SIGNATURE_SEEDS]
    if _is_image(sample_shape):
        archive.add_endpoint(SIGNATURE_PNG, png, [seeds_spec] + label_spec)
        signatures.append(SIGNATURE_PNG)
    if not conditional and supports_truncation(generator):
        archive.add_endpoint(SIGNATURE_TRUNCATED, truncated,
                             [seeds_spec, tf.TensorSpec((None,), tf.float32, name="truncation")])
        signatures.append(SIGNATURE_TRUNCATED)
    return archive, sample_shape, signatures


def versions(base_path):
    """The integer version directories under `base_path`, ascending.

    Args:
        base_path: a model's base directory (TF Serving's `model_base_path`).

    Returns:
        A sorted list of ints; empty when `base_path` does not exist.

    Example:

    ```python
    keras_gan.export.versions("saved_models/digits")  # [1, 2]
    ```
    """
    if not os.path.isdir(base_path):
        return []
    return sorted(
        int(name) for name in os.listdir(base_path)
        if name.isdigit() and os.path.isdir(os.path.join(base_path, name))
    )


def _fsync_tree(root):
    """Flushes every file and folder under `root` to disk, files first."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            fsync_path(os.path.join(folder, name))
        fsync_path(folder)


def _publish(staging, target, overwrite):
    """Renames the complete `staging` directory to `target` (same filesystem).

    The staged files are flushed to disk before the rename and the parent
    folder after it: after a crash or power loss `target` is the old export
    or the new one, complete (a rename alone can reach the disk before the
    files' data does).
    """
    _fsync_tree(staging)
    if not os.path.exists(target):
        os.rename(staging, target)
        fsync_path(os.path.dirname(target))
        return
    if not overwrite:
        raise FileExistsError(
            f"Version directory {target!r} already exists: pass `overwrite=True` "
            "to replace it, or `version=None` for the next version."
        )
    # rename() cannot replace a non-empty directory: move the old one aside
    # first, and put it back if the new one cannot take its place.
    old = tempfile.mkdtemp(prefix=_TEMP_PREFIX + "old-", dir=os.path.dirname(target))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    fsync_path(os.path.dirname(target))
    shutil.rmtree(old, ignore_errors=True)


def _write_metadata(directory, metadata):
    path = os.path.join(directory, METADATA_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(metadata, f, indent=2)


def export_generator(gan_or_generator, base_path, version=None, overwrite=False):
    """Exports a generator as a TF Serving SavedModel at `base_path/<version>/`.

    The version directory appears complete or not at all: the SavedModel is
    written to a hidden temporary directory inside `base_path` (the same
    filesystem; TF Serving ignores non-integer names) and renamed into place.
    A failure leaves no version directory behind.

    Args:
        gan_or_generator: a `keras_gan.GAN` (its `inference_generator`, the
            EMA copy when it keeps one, is exported) or a built generator
            `keras.Model` with input z `(batch, latent_dim)`, or inputs
            `[z, label]` for a class-conditional generator. Built in a
            `tf.distribute` scope or not.
        base_path: the model's base directory (TF Serving's
            `model_base_path`), created if missing. A local path.
        version: a positive integer; None takes the next integer after the
            highest present (1 for a new base directory).
        overwrite: replace an existing version directory. Without it, an
            existing version raises `FileExistsError`.

    Returns:
        The path of the written version directory.

    Example:

    ```python
    path = keras_gan.export_generator(gan, "saved_models/digits")
    g = keras_gan.load_generator("saved_models/digits")
    images = g.from_seeds([0, 1, 2])
    ```
    """
    generator, num_classes, latent_dim_hint = _resolve(gan_or_generator)
    latent_dim, z_dtype, label_shape = _generator_inputs(generator, latent_dim_hint, num_classes)
    if not isinstance(base_path, (str, os.PathLike)) or not str(base_path):
        raise ValueError(
            "Invalid value for argument `base_path`: expected a directory path. "
            f"Received: base_path={base_path!r}"
        )
    base_path = os.fspath(base_path)
    if os.path.exists(base_path) and not os.path.isdir(base_path):
        raise ValueError(
            "Invalid value for argument `base_path`: expected a directory. "
            f"Received: base_path={base_path!r}, an existing file"
        )
    if version is None:
        version = (versions(base_path) or [0])[-1] + 1
    version = check_positive_int("version", version)
    target = os.path.join(base_path, str(version))
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(
            f"Version directory {target!r} already exists: pass `overwrite=True` "
            "to replace it, or `version=None` for the next version."
        )
    pixel_range = _output_range(generator)
    archive, sample_shape, signatures = _build_archive(generator, latent_dim, z_dtype, label_shape, pixel_range)
    os.makedirs(base_path, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=base_path)
    try:
        # mkdtemp makes the directory private (0700): a server running as
        # another user must be able to read the version it becomes.
        os.chmod(staging, 0o755)
        archive.write_out(staging, verbose=False)
        _write_metadata(staging, {
            "format": "keras_gan.generator/1",
            "latent_dim": latent_dim,
            "num_classes": None if num_classes is None else int(num_classes),
            "conditional": label_shape is not None,
            "sample_shape": list(sample_shape),
            "output_range": list(pixel_range),
            "signatures": signatures,
            "generator_name": generator.name,
            "tensorflow_version": tf.__version__,
        })
        _publish(staging, target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# ------------------------------------------------------------ image-to-image
SIGNATURE_TRANSLATE_PNG = "translate_png"
IMAGE_TO_IMAGE_FORMAT = "keras_gan.image_to_image/1"


def _resolve_image_to_image(model, direction):
    """The generator to export from a Pix2Pix/CycleGAN (`direction` "ab" or "ba") or a generator."""
    if direction not in ("ab", "ba"):
        raise ValueError(
            f"Invalid value for argument `direction`: expected 'ab' or 'ba'. Received: direction={direction!r}"
        )
    if not isinstance(model, keras.Model):
        raise ValueError(
            "Invalid value for argument `model`: expected a keras_gan.Pix2Pix, a keras_gan.CycleGAN "
            f"or an image-to-image generator keras.Model. Received: model={model!r}"
        )
    if direction == "ba":
        if not hasattr(model, "generator_ba"):
            raise ValueError(
                "Invalid value for argument `direction`: 'ba' needs a keras_gan.CycleGAN. "
                f"Received: direction='ba' with a {type(model).__name__}"
            )
        return model.generator_ba
    generator = getattr(model, "inference_generator", model)
    if not generator.built:
        raise ValueError(
            f"Invalid value for argument `model`: expected a built generator. Received: unbuilt model {generator.name!r}"
        )
    try:
        inputs = list(generator.inputs)
    except (AttributeError, ValueError):
        inputs = []
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or None in tuple(inputs[0].shape[1:]):
        raise ValueError(
            "Invalid value for argument `model`: expected a generator with one image input of "
            "shape (batch, H, W, C), H, W and C known. Received: a model with inputs "
            f"{[tuple(i.shape) for i in inputs]}"
        )
    return generator


def _build_image_to_image_archive(generator, input_shape, pixel_range):
    height, width, channels = input_shape
    dtype = generator.inputs[0].dtype

    def run(images):
        # Cast: a mixed_float16 G may compute in float16 inside (docs/design.md, "Float32 at the export boundary").
        return tf.cast(generator(tf.cast(images, dtype), training=False), tf.float32)

    def decode(png):
        image = tf.io.decode_image(png, channels=channels, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (height, width))
        return image / 127.5 - 1.0  # the data pipelines' [-1, 1]

    def from_images(images):
        return {"images": run(images)}

    def from_png(png_bytes):
        images = tf.map_fn(decode, png_bytes, fn_output_signature=tf.TensorSpec(input_shape, tf.float32))
        return {"png_bytes": _to_png(run(images), *pixel_range)}

    archive = keras.export.ExportArchive()
    archive.add_endpoint(SIGNATURE_Z, from_images,
                         [tf.TensorSpec((None,) + input_shape, tf.float32, name="images")])
    archive.add_endpoint(SIGNATURE_TRANSLATE_PNG, from_png,
                         [tf.TensorSpec((None,), tf.string, name="png_bytes")])
    output_shape = tuple(generator.compute_output_spec(keras.KerasTensor((1,) + input_shape)).shape[1:])
    return archive, output_shape


def export_image_to_image(model, base_path, version=None, overwrite=False, direction="ab"):
    """Exports an image-to-image generator as a TF Serving SavedModel at `base_path/<version>/`.

    Signatures (inputs and outputs float32 at the boundary, also under
    `mixed_float16`):

    - `serving_default`: `images` float32 `[None, H, W, C_in]` in [-1, 1]
      -> `images` float32 `[None, H, W, C_out]`.
    - `translate_png`: `png_bytes` string `[None]` (one encoded PNG, or
      JPEG/BMP/GIF, per image; resized to H x W) -> `png_bytes` string
      `[None]` (one PNG per image). Names ending in `_bytes` travel
      base64-encoded in TF Serving's REST API (`{"b64": ...}`).

    Written like `export_generator`: in a hidden directory, then renamed into
    place, so the version appears complete or not at all; with
    `assets.extra/keras_gan.json` for `keras_gan.load_generator`.

    Args:
        model: a `keras_gan.Pix2Pix` (its generator), a `keras_gan.CycleGAN`
            (`generator_ab`, or `generator_ba` with `direction="ba"`), or a
            built generator `keras.Model` with one image input.
        base_path: the model's base directory (TF Serving's
            `model_base_path`), created if missing.
        version: a positive integer; None for the next after the highest.
        overwrite: replace an existing version directory.
        direction: `"ab"` or `"ba"` (CycleGAN only).

    Returns:
        The path of the written version directory.

    Example:

    ```python
    path = keras_gan.export.export_image_to_image(pix2pix, "saved_models/edges")
    g = keras_gan.load_generator("saved_models/edges")
    outputs = g(inputs)                        # (n, H, W, C_out) in [-1, 1]
    png = g.translate_png([open("in.png", "rb").read()])[0]
    ```
    """
    generator = _resolve_image_to_image(model, direction)
    if not isinstance(base_path, (str, os.PathLike)) or not str(base_path):
        raise ValueError(
            f"Invalid value for argument `base_path`: expected a directory path. Received: base_path={base_path!r}"
        )
    base_path = os.fspath(base_path)
    if os.path.exists(base_path) and not os.path.isdir(base_path):
        raise ValueError(
            f"Invalid value for argument `base_path`: expected a directory. Received: base_path={base_path!r}, "
            "an existing file"
        )
    version = check_positive_int("version", (versions(base_path) or [0])[-1] + 1 if version is None else version)
    target = os.path.join(base_path, str(version))
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(
            f"Version directory {target!r} already exists: pass `overwrite=True` "
            "to replace it, or `version=None` for the next version."
        )
    input_shape = tuple(int(d) for d in generator.inputs[0].shape[1:])
    pixel_range = _output_range(generator)
    archive, output_shape = _build_image_to_image_archive(generator, input_shape, pixel_range)
    os.makedirs(base_path, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=base_path)
    try:
        os.chmod(staging, 0o755)  # readable by a server running as another user
        archive.write_out(staging, verbose=False)
        _write_metadata(staging, {
            "format": IMAGE_TO_IMAGE_FORMAT,
            "input_shape": list(input_shape),
            "output_shape": list(output_shape),
            "input_range": [-1.0, 1.0],
            "output_range": list(pixel_range),
            "signatures": [SIGNATURE_Z, SIGNATURE_TRANSLATE_PNG],
            "generator_name": generator.name,
            "tensorflow_version": tf.__version__,
        })
        _publish(staging, target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
