"""Load an exported generator and run it, with TensorFlow alone.

This module imports only the standard library, numpy and tensorflow: never
keras nor another keras_gan module, so a serving client can copy this one
file and load generators written by `keras_gan.export_generator` without
installing keras-gan.
"""

import json
import os

import numpy as np
import tensorflow as tf

_METADATA_PATH = os.path.join("assets.extra", "keras_gan.json")


def _is_saved_model(directory):
    return os.path.isfile(os.path.join(directory, "saved_model.pb"))


def resolve_version_dir(path):
    """The SavedModel directory for `path`: itself, or the latest version under it.

    Args:
        path: a version directory (holding `saved_model.pb`) or a base
            directory of integer version directories (TF Serving's layout).

    Returns:
        The path of the version directory to load.

    Example:

    ```python
    resolve_version_dir("saved_models/digits")  # 'saved_models/digits/3'
    ```
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        hint = (" (a .keras model: load it with keras_gan.saving.load_model, or keras_gan.load_gan "
                "for a whole GAN)" if path.endswith(".keras") else "")
        raise ValueError(
            f"Invalid value for argument `path`: expected an exported generator's base or version "
            f"directory; found a file{hint}. Received: path={path!r}"
        )
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"Invalid value for argument `path`: expected an exported generator's base "
            f"or version directory. Received: path={path!r}, which does not exist"
        )
    if _is_saved_model(path):
        return path
    found = sorted(
        int(name) for name in os.listdir(path)
        if name.isdigit() and _is_saved_model(os.path.join(path, name))
    )
    if not found:
        raise FileNotFoundError(
            f"Invalid value for argument `path`: expected a directory holding "
            f"`saved_model.pb` or integer version directories that do. Received: "
            f"path={path!r} with neither"
        )
    return os.path.join(path, str(found[-1]))


def _open_export(loaded, path):
    """Sets `path`, `version`, `_model` and `signatures` of a loaded export."""
    loaded.path = resolve_version_dir(path)
    name = os.path.basename(os.path.normpath(loaded.path))
    loaded.version = int(name) if name.isdigit() else None
    loaded._model = _load_saved_model(loaded.path)
    loaded.signatures = dict(loaded._model.signatures)


class ExportedGenerator:
    """A generator loaded from a SavedModel export, returning numpy arrays.

    Built by `load_generator`. Every method runs one of the export's
    signatures, the same graphs TF Serving runs.

    Attributes:
        path: the version directory loaded.
        version: its integer version, or None when its name is not one.
        latent_dim: size of z.
        num_classes: number of classes of a class-conditional generator
            (None when unconditional or unknown).
        conditional: whether every call needs `labels`.
        sample_shape: shape of one sample, e.g. `(8, 8, 1)`.
        output_range: `(low, high)` of the generator's output, e.g. `(-1, 1)`.
        signatures: the loaded `tf.saved_model` signatures by name.
    """

    def __init__(self, path):
        _open_export(self, path)
        if "serving_default" not in self.signatures:
            raise ValueError(
                f"The SavedModel at {self.path!r}: expected a generator exported by "
                f"keras_gan.export_generator; found no `serving_default` signature "
                f"(signatures: {sorted(self.signatures)})."
            )
        inputs = self._inputs("serving_default")
        outputs = self.signatures["serving_default"].structured_outputs
        z_shape = inputs["z"].shape if "z" in inputs else None
        if (z_shape is None or z_shape.rank != 2 or z_shape[1] is None
                or not isinstance(outputs, dict) or "images" not in outputs):
            raise ValueError(
                f"The SavedModel at {self.path!r}: expected a `serving_default` signature from "
                f"input `z` (n, latent_dim) to output `images`, as keras_gan.export_generator "
                f"writes; found {_found(inputs)}."
            )
        self.latent_dim = int(z_shape[1])
        self.conditional = "label" in inputs
        metadata = _metadata(self.path)
        self.num_classes = metadata.get("num_classes")
        output = outputs["images"]
        self.sample_shape = tuple(metadata.get("sample_shape") or output.shape[1:])
        self.output_range = tuple(metadata.get("output_range") or (-1.0, 1.0))

    def _inputs(self, signature):
        return self.signatures[signature].structured_input_signature[1]

    def __repr__(self):
        return (
            f"ExportedGenerator(path={self.path!r}, latent_dim={self.latent_dim}, "
            f"num_classes={self.num_classes}, sample_shape={self.sample_shape})"
        )

    # ------------------------------------------------------------------ checks
    def _labels(self, labels, n):
        if not self.conditional:
            if labels is not None:
                raise ValueError(
                    "Invalid value for argument `labels`: this generator is unconditional "
                    f"and takes no labels. Received: labels={labels!r}"
                )
            return {}
        if labels is None:
            raise ValueError(
                "Invalid value for argument `labels`: this generator is class-conditional; "
                f"expected one integer label per sample ({n}). Received: labels=None"
            )
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full((n,), labels)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"Invalid value for argument `labels`: expected {n} integers. "
                f"Received: labels of shape {labels.shape} and dtype {labels.dtype}"
            )
        if self.num_classes is not None and n and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"Invalid value for argument `labels`: expected integers in "
                f"[0, {self.num_classes}). Received: labels from {labels.min()} to {labels.max()}"
            )
        return {"label": tf.constant(labels, tf.int32)}

    def _seeds(self, seeds):
        seeds = np.asarray(seeds)
        if seeds.ndim == 0:
            seeds = seeds.reshape(1)
        if seeds.ndim != 1 or not (np.issubdtype(seeds.dtype, np.integer) or seeds.size == 0):
            raise ValueError(
                "Invalid value for argument `seeds`: expected a list of integers. "
                f"Received: seeds of shape {seeds.shape} and dtype {seeds.dtype}"
            )
        return tf.constant(seeds.astype(np.int64), tf.int64)

    # ---------------------------------------------------------------- sampling
    def __call__(self, z, labels=None):
        """Generates one sample per row of `z` (signature `serving_default`).

        Args:
            z: float array of shape `(n, latent_dim)`.
            labels: `n` integer class labels (class-conditional generators only).

        Returns:
            A float32 numpy array of shape `(n, *sample_shape)`.

        Example:

        ```python
        images = g(np.random.normal(size=(4, g.latent_dim)))
        ```
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Invalid value for argument `z`: expected shape (n, {self.latent_dim}). "
                f"Received: z with shape {z.shape}"
            )
        out = self.signatures["serving_default"](z=tf.constant(z), **self._labels(labels, len(z)))
        return out["images"].numpy()

    def from_seeds(self, seeds, labels=None, truncation=None):
        """Generates one sample per seed (signature `generate_from_seeds`).

        The same seed always gives the same sample: the noise is
        `stateless_normal([latent_dim], seed=[seed, 0])`, drawn in the graph.

        Args:
            seeds: integers (int64), one per sample.
            labels: one integer class label per seed (class-conditional only).
            truncation: psi of the truncation trick (signature
                `generate_truncated`, generators with a mapping network
                only, e.g. StyleGAN2), or None for none.

        Returns:
            A float32 numpy array of shape `(len(seeds), *sample_shape)`.

        Example:

        ```python
        images = g.from_seeds([0, 1, 2, 3])
        ```
        """
        seeds = self._seeds(seeds)
        if truncation is not None:
            if "generate_truncated" not in self.signatures:
                raise ValueError(
                    "Invalid value for argument `truncation`: this export has no `generate_truncated` "
                    "signature (its generator has no mapping network); expected None. "
                    f"Received: truncation={truncation!r}"
                )
            out = self.signatures["generate_truncated"](
                seeds=seeds, truncation=tf.constant([float(truncation)], tf.float32))
            return out["images"].numpy()
        out = self.signatures["generate_from_seeds"](
            seeds=seeds, **self._labels(labels, int(seeds.shape[0]))
        )
        return out["images"].numpy()

    def png_from_seeds(self, seeds, labels=None):
        """PNG files, one per seed (signature `images_png`, image generators only).

        Args:
            seeds: integers, one per sample.
            labels: one integer class label per seed (class-conditional only).

        Returns:
            A list of `bytes`, each a PNG file.

        Example:

        ```python
        open("sample.png", "wb").write(g.png_from_seeds([7])[0])
        ```
        """
        if "images_png" not in self.signatures:
            raise ValueError(
                f"This export has no `images_png` signature: its samples of shape "
                f"{self.sample_shape} are not images."
            )
        seeds = self._seeds(seeds)
        out = self.signatures["images_png"](seeds=seeds, **self._labels(labels, int(seeds.shape[0])))
        return [bytes(b) for b in out["png_bytes"].numpy()]


def load_generator(path):
    """Loads a generator exported by `keras_gan.export_generator`.

    Uses `tf.saved_model.load` only: the process needs TensorFlow and numpy,
    not keras-gan's training code.

    Args:
        path: a base directory (its highest integer version is loaded) or a
            version directory.

    Returns:
        An `ExportedGenerator`: `g(z)`, `g.from_seeds(seeds)`,
        `g.png_from_seeds(seeds)`, `g.latent_dim`, `g.num_classes`; or, for
        an image-to-image export (`keras_gan.export.export_image_to_image`),
        an `ExportedImageToImage`: `g(images)`, `g.translate_png(pngs)`.

    Example:

    ```python
    g = keras_gan.load_generator("saved_models/digits")
    images = g.from_seeds([0, 1, 2])      # (3, 8, 8, 1) in [-1, 1]
    ```
    """
    path = resolve_version_dir(path)
    if _metadata(path).get("format", "").startswith("keras_gan.image_to_image/"):
        return ExportedImageToImage(path)
    return ExportedGenerator(path)


# ------------------------------------------------------------ image-to-image
def _metadata(directory):
    path = os.path.join(directory, _METADATA_PATH)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path) as f:
            metadata = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"The export's metadata {path!r} is unreadable ({e}): a damaged export?") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"The export's metadata {path!r} is not a JSON object: a damaged export?")
    return metadata


def _found(inputs):
    """What a SavedModel's `serving_default` inputs say it is, for messages."""
    if "z" in inputs:
        return "a generator from noise (input `z`): load it with load_generator or ExportedGenerator"
    if "images" in inputs:
        return ("an image-to-image generator (input `images`): load it with load_generator or "
                "ExportedImageToImage")
    if inputs:
        return f"a SavedModel taking {sorted(inputs)}, not written by keras_gan"
    return "a SavedModel without a `serving_default` signature, not written by keras_gan"


def _load_saved_model(path):
    """`tf.saved_model.load(path)`, with one clear ValueError for a partial or damaged export."""
    try:
        return tf.saved_model.load(path)
    except Exception as e:  # TF raises OSError, ValueError, DecodeError, NotFoundError...
        first = (str(e).strip().splitlines() or [""])[0][:300]
        raise ValueError(
            f"Could not load the SavedModel at {path!r}: a partial or damaged export "
            f"(e.g. a missing variables/ folder or a truncated saved_model.pb). "
            f"{type(e).__name__}: {first}"
        ) from None


class ExportedImageToImage:
    """An image-to-image generator (pix2pix, CycleGAN) loaded from its SavedModel export.

    Built by `load_generator`; each method runs one of the export's
    signatures, the same graphs TF Serving runs.

    Attributes:
        path: the version directory loaded.
        version: its integer version, or None when its name is not one.
        input_shape: `(H, W, C_in)` of one input image.
        output_shape: `(H, W, C_out)` of one output image.
        output_range: `(low, high)` of the outputs, e.g. `(-1, 1)`.
        signatures: the loaded `tf.saved_model` signatures by name.
    """

    def __init__(self, path):
        _open_export(self, path)
        inputs = self.signatures["serving_default"].structured_input_signature[1] \
            if "serving_default" in self.signatures else {}
        if "images" not in inputs:
            raise ValueError(
                f"The SavedModel at {self.path!r}: expected a `serving_default` signature with "
                f"input `images`, as keras_gan.export_image_to_image writes; found {_found(inputs)}."
            )
        metadata = _metadata(self.path)
        self.input_shape = tuple(inputs["images"].shape[1:])
        output = self.signatures["serving_default"].structured_outputs["images"]
        self.output_shape = tuple(metadata.get("output_shape") or output.shape[1:])
        self.output_range = tuple(metadata.get("output_range") or (-1.0, 1.0))

    def __repr__(self):
        return (f"ExportedImageToImage(path={self.path!r}, input_shape={self.input_shape}, "
                f"output_shape={self.output_shape})")

    def __call__(self, images):
        """Translates a batch of images (signature `serving_default`).

        Args:
            images: float array `(n, H, W, C_in)` in [-1, 1].

        Returns:
            A float32 numpy array `(n, *output_shape)`.

        Example:

        ```python
        outputs = g(inputs[:4])
        ```
        """
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1:] != self.input_shape:
            raise ValueError(
                f"Invalid value for argument `images`: expected shape (n, {', '.join(map(str, self.input_shape))}). "
                f"Received: images with shape {images.shape}"
            )
        return self.signatures["serving_default"](images=tf.constant(images))["images"].numpy()

    def translate_png(self, pngs):
        """Translates encoded images, PNG in, PNG out (signature `translate_png`).

        Args:
            pngs: a list of `bytes`, each an encoded image (PNG, or JPEG,
                BMP, GIF), resized to the model's input size.

        Returns:
            A list of `bytes`, each a PNG file of the output image.

        Example:

        ```python
        out = g.translate_png([open("input.png", "rb").read()])[0]
        ```
        """
        if isinstance(pngs, (bytes, str)) or not all(isinstance(p, bytes) for p in pngs):
            raise ValueError(
                "Invalid value for argument `pngs`: expected a list of bytes (encoded images). "
                f"Received: pngs of type {type(pngs).__name__}"
            )
        out = self.signatures["translate_png"](png_bytes=tf.constant(list(pngs), tf.string))
        return [bytes(b) for b in out["png_bytes"].numpy()]
