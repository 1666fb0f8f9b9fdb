"""`tf.data` pipelines for GAN training. Images are scaled to [-1, 1].

Toy distributions are generated; `digits` is scikit-learn's bundled 8x8 digits
(no download); `mnist`, `fashion_mnist` and `cifar10` download through
`keras.datasets` and raise `DatasetUnavailableError` when that fails
(offline); `image_folder` reads the user's own images.
"""

import os

import numpy as np
import tensorflow as tf
import keras

from keras_gan._validation import check_positive_int


class DatasetUnavailableError(RuntimeError):
    """A dataset could not be downloaded or read."""


def _dataset(arrays, batch_size, shuffle, seed, drop_remainder=False):
    batch_size = check_positive_int("batch_size", batch_size)
    ds = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle:
        ds = ds.shuffle(len(arrays[0] if isinstance(arrays, tuple) else arrays), seed=seed,
                        reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------- toys
def gaussian_1d_samples(n=10000, mean=4.0, std=1.25, seed=0):
    """`n` samples of N(mean, std^2) as a float32 array of shape `(n, 1)`."""
    check_positive_int("n", n)
    if not std > 0:
        raise ValueError(f"Invalid value for argument `std`: expected a positive float. Received: std={std!r}")
    return np.random.default_rng(seed).normal(mean, std, (n, 1)).astype("float32")


def gaussian_1d(mean=4.0, std=1.25, n=10000, batch_size=128, shuffle=True, seed=0):
    """A dataset of 1D samples from N(mean, std^2), batches of shape `(batch, 1)`.

    Args:
        mean: the target mean.
        std: the target standard deviation.
        n: samples per epoch.
        batch_size: samples per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the samples and of the shuffle.

    Returns:
        A `tf.data.Dataset` of float32 batches.

    Example:

    ```python
    ds = keras_gan.data.gaussian_1d(mean=4.0, std=1.25, batch_size=128)
    ```
    """
    return _dataset(gaussian_1d_samples(n, mean, std, seed), batch_size, shuffle, seed)


def ring_modes(n_modes=8, radius=1.0):
    """The means of the ring mixture: `n_modes` points on a circle, shape `(n_modes, 2)`."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype("float32")


def grid_modes(values=(-4.0, -2.0, 0.0, 2.0, 4.0)):
    """The means of the grid mixture: all pairs of `values`, shape `(25, 2)` by default."""
    xs, ys = np.meshgrid(values, values, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype("float32")


def mixture_samples(modes, std, n, seed=0):
    """`n` samples from the uniform mixture of N(mode, std^2 I), shape `(n, dim)`."""
    check_positive_int("n", n)
    rng = np.random.default_rng(seed)
    modes = np.asarray(modes, "float32")
    which = rng.integers(len(modes), size=n)
    return (modes[which] + rng.normal(0.0, std, (n, modes.shape[1]))).astype("float32")


def ring_2d(n=10000, n_modes=8, radius=1.0, std=0.01, batch_size=128, shuffle=True, seed=0):
    """A dataset of the 2D ring: `n_modes` Gaussians on a circle.

    The defaults are the VEEGAN/PacGAN protocol (8 modes, radius 1, std 0.01).

    Args:
        n: samples per epoch.
        n_modes: number of Gaussians.
        radius: radius of the circle.
        std: standard deviation of each Gaussian.
        batch_size: samples per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the samples and of the shuffle.

    Returns:
        A `tf.data.Dataset` of float32 batches of shape `(batch, 2)`.

    Example:

    ```python
    ds = keras_gan.data.ring_2d(batch_size=256)
    ```
    """
    x = mixture_samples(ring_modes(n_modes, radius), std, n, seed)
    return _dataset(x, batch_size, shuffle, seed)


def grid_2d(n=10000, std=0.05, batch_size=128, shuffle=True, seed=0):
    """A dataset of the 2D grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2.

    Args:
        n: samples per epoch.
        std: standard deviation of each Gaussian (0.05 in the PacGAN protocol).
        batch_size: samples per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the samples and of the shuffle.

    Returns:
        A `tf.data.Dataset` of float32 batches of shape `(batch, 2)`.

    Example:

    ```python
    ds = keras_gan.data.grid_2d(batch_size=256)
    ```
    """
    return _dataset(mixture_samples(grid_modes(), std, n, seed), batch_size, shuffle, seed)


# --------------------------------------------------------------------- images
def _scale_uint8(x):
    return (np.asarray(x, "float32") / 127.5 - 1.0).astype("float32")


def load_digits():
    """scikit-learn's bundled 8x8 digits: `(images, labels)`.

    Returns:
        `images` float32 `(1797, 8, 8, 1)` in [-1, 1] and `labels` int32 `(1797,)`.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images = (bunch.images.astype("float32") / 8.0 - 1.0)[..., None]  # pixel values are 0..16
    return images, bunch.target.astype("int32")


def digits(batch_size=64, shuffle=True, seed=0):
    """scikit-learn's 8x8 digits (1797 images, bundled: works offline).

    Args:
        batch_size: images per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle.

    Returns:
        A `tf.data.Dataset` of `(images, labels)`: float32 `(batch, 8, 8, 1)` in
        [-1, 1] and int32 `(batch,)`.

    Example:

    ```python
    ds = keras_gan.data.digits(batch_size=64)
    ```
    """
    return _dataset(load_digits(), batch_size, shuffle, seed)


def stacked_digits_samples(n=26000, seed=0):
    """Stacked digits: three random `digits` images as the channels of one image.

    The 8x8 analogue of stacked MNIST (VEEGAN, PacGAN): 1000 modes, one per
    triple of classes.

    Args:
        n: number of stacked images.
        seed: seed of the random triples.

    Returns:
        `images` float32 `(n, 8, 8, 3)` in [-1, 1] and int32 `labels` `(n,)`,
        `100 * class(channel 0) + 10 * class(channel 1) + class(channel 2)`.
    """
    check_positive_int("n", n)
    images, labels = load_digits()
    which = np.random.default_rng(seed).integers(len(images), size=(n, 3))
    stacked = np.concatenate([images[which[:, c]] for c in range(3)], axis=-1)
    return stacked, (labels[which] @ np.array([100, 10, 1])).astype("int32")


def stacked_digits(n=26000, batch_size=64, shuffle=True, seed=0):
    """A dataset of stacked digits (1000 modes): see `stacked_digits_samples`.

    Args:
        n: stacked images per epoch.
        batch_size: images per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the triples and of the shuffle.

    Returns:
        A `tf.data.Dataset` of `(images, labels)`: float32 `(batch, 8, 8, 3)`
        in [-1, 1] and int32 `(batch,)` mode labels in [0, 1000).

    Example:

    ```python
    ds = keras_gan.data.stacked_digits(batch_size=256)
    ```
    """
    return _dataset(stacked_digits_samples(n, seed), batch_size, shuffle, seed)


def _keras_dataset(name, loader, batch_size, shuffle, seed, split):
    if split not in ("train", "test"):
        raise ValueError(f"Invalid value for argument `split`: expected 'train' or 'test'. Received: split={split!r}")
    try:
        (x_train, y_train), (x_test, y_test) = loader()
    except Exception as e:  # keras raises a bare Exception on URL failures
        raise DatasetUnavailableError(
            f"Could not load `{name}` through keras.datasets (it downloads on first "
            f"use; is this machine offline?): {e}. Offline, use "
            "keras_gan.data.digits() or keras_gan.data.image_folder(path, image_size)."
        ) from e
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    x = _scale_uint8(x)
    if x.ndim == 3:
        x = x[..., None]
    return _dataset((x, np.asarray(y, "int32").reshape(-1)), batch_size, shuffle, seed)


def mnist(batch_size=64, shuffle=True, seed=0, split="train"):
    """MNIST through `keras.datasets` (downloads once): `(batch, 28, 28, 1)` in [-1, 1], labels.

    Raises:
        DatasetUnavailableError: when the download fails (e.g. offline).
    """
    return _keras_dataset("mnist", keras.datasets.mnist.load_data, batch_size, shuffle, seed, split)


def fashion_mnist(batch_size=64, shuffle=True, seed=0, split="train"):
    """Fashion-MNIST through `keras.datasets`: `(batch, 28, 28, 1)` in [-1, 1], labels.

    Raises:
        DatasetUnavailableError: when the download fails (e.g. offline).
    """
    return _keras_dataset(
        "fashion_mnist", keras.datasets.fashion_mnist.load_data, batch_size, shuffle, seed, split
    )


def cifar10(batch_size=64, shuffle=True, seed=0, split="train"):
    """CIFAR-10 through `keras.datasets`: `(batch, 32, 32, 3)` in [-1, 1], labels.

    Raises:
        DatasetUnavailableError: when the download fails (e.g. offline).
    """
    return _keras_dataset("cifar10", keras.datasets.cifar10.load_data, batch_size, shuffle, seed, split)


def image_folder(path, image_size, batch_size=64, channels=3, shuffle=True, seed=0):
    """The user's own images (jpeg, png, bmp, gif) from a folder, recursively.

    Args:
        path: a folder of images (sub-folders are read too; labels are not used).
        image_size: `(height, width)`; images are resized to it.
        batch_size: images per batch.
        channels: 1 (grayscale) or 3 (RGB).
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle.

    Returns:
        A `tf.data.Dataset` of float32 batches `(batch, height, width, channels)`
        in [-1, 1].

    Example:

    ```python
    ds = keras_gan.data.image_folder("faces/", image_size=(64, 64))
    ```
    """
    if not os.path.isdir(path):
        raise ValueError(f"Invalid value for argument `path`: expected a folder of images. Received: path={path!r}")
    if channels not in (1, 3):
        raise ValueError(f"Invalid value for argument `channels`: expected 1 or 3. Received: channels={channels!r}")
    try:
        size = tuple(int(s) for s in image_size)
        assert len(size) == 2 and min(size) > 0
    except (TypeError, ValueError, AssertionError):
        raise ValueError(
            "Invalid value for argument `image_size`: expected (height, width). "
            f"Received: image_size={image_size!r}"
        ) from None
    check_positive_int("batch_size", batch_size)
    try:
        ds = keras.utils.image_dataset_from_directory(
            path, labels=None, image_size=size, batch_size=batch_size, shuffle=shuffle, seed=seed,
            color_mode="grayscale" if channels == 1 else "rgb", verbose=False,
        )
    except ValueError as e:
        raise ValueError(f"Invalid value for argument `path`: no images found in {path!r} ({e})") from e
    return ds.map(lambda x: x / 127.5 - 1.0).prefetch(tf.data.AUTOTUNE)


DATASETS = {
    "digits": digits,
    "stacked_digits": stacked_digits,
    "gaussian_1d": gaussian_1d,
    "ring_2d": ring_2d,
    "grid_2d": grid_2d,
    "mnist": mnist,
    "fashion_mnist": fashion_mnist,
    "cifar10": cifar10,
}
