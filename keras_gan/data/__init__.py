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

from keras_gan._internal.validation import check_float, check_positive_int


class DatasetUnavailableError(RuntimeError):
    """A dataset could not be downloaded or read."""


def pipeline(arrays, batch_size, shuffle=True, seed=0, drop_remainder=False, cache=True):
    """The input pipeline of every dataset here: cache, seeded shuffle, batch, prefetch.

    Every epoch (every pass over the dataset, `repeat()` included) visits
    each sample once, in a new order drawn from `seed` (the same orders for
    the same seed); batches are prefetched so that the next one is ready
    while a training step runs: the pipeline is not the bottleneck
    (`benchmarks/throughput.py`, variant `pipeline`; `benchmarks/pipeline.py`).
    In-memory arrays are shuffled as a whole: one permutation per epoch,
    gathered a chunk of batches at a time (up to 16 MiB: a whole epoch of
    small samples), no per-sample work. A `tf.data.Dataset` is cached once
    (after any decoding) and shuffled with a full-size buffer.

    Args:
        arrays: an array, a tuple of arrays with one row per sample, or an
            unbatched `tf.data.Dataset`.
        batch_size: samples per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle.
        drop_remainder: drop the last batch when it is smaller.
        cache: for a `tf.data.Dataset`, keep its samples in memory after the
            first epoch (arrays are in memory already).

    Returns:
        A `tf.data.Dataset` of batches.

    Example:

    ```python
    ds = keras_gan.data.pipeline((images, labels), batch_size=64, seed=0)
    gan.fit(ds, epochs=10)
    ```
    """
    batch_size = check_positive_int("batch_size", batch_size)
    if not isinstance(arrays, tf.data.Dataset):
        return _in_memory_batches(arrays, batch_size, shuffle, seed, drop_remainder)
    ds, n = arrays, int(arrays.cardinality())
    if cache:
        ds = ds.cache()
    if shuffle:
        if n <= 0:  # unknown or infinite cardinality: a bounded buffer
            n = 10000
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


# Rows gathered by one op (all arrays together): an epoch of small samples at once, a few
# batches of images. Bounds the extra memory (a few chunks in flight) on large arrays.
_CHUNK_BYTES = 16 * 2**20


def _in_memory_batches(arrays, batch_size, shuffle, seed, drop_remainder, chunk_bytes=_CHUNK_BYTES):
    """`pipeline` for arrays: batches gathered by a per-epoch permutation (`_epoch_batches`)."""
    as_tuple = isinstance(arrays, tuple)
    tensors = tuple(tf.convert_to_tensor(a) for a in (arrays if as_tuple else (arrays,)))
    lengths = [int(t.shape[0]) if t.shape.rank else None for t in tensors]
    if None in lengths or len(set(lengths)) != 1:
        raise ValueError(
            "Invalid value for argument `arrays`: expected arrays with one row per sample "
            f"(the same number of rows each). Received: shapes {[tuple(t.shape) for t in tensors]}."
        )
    n = lengths[0]
    full, rest = divmod(n, batch_size)
    rest = 0 if drop_remainder else rest

    def one_epoch(key):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([key, tf.zeros_like(key)]))
        return _epoch_batches(tensors, order, batch_size, as_tuple, drop_remainder, chunk_bytes=chunk_bytes)

    # One random key per pass: a new order every epoch, the same orders for the same seed.
    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    ds = keys.flat_map(one_epoch)
    ds = ds.apply(tf.data.experimental.assert_cardinality(full + (1 if rest else 0)))
    return ds.prefetch(tf.data.AUTOTUNE)


def _epoch_batches(tensors, order, batch_size, as_tuple, drop_remainder=False, skip=0, chunk_bytes=_CHUNK_BYTES):
    """One epoch of batches of in-memory `tensors`, in the row order `order`.

    The batches are `order` cut into consecutive runs of `batch_size` rows
    (the last one shorter unless `drop_remainder`), from batch `skip` on.
    At toy-network speeds (a step of 1-2 ms) every tf.data stage a batch goes
    through shows in the step time: a per-sample shuffle buffer and batching
    cost about 10%, and a `map` gathering each batch tens of us (a function
    call and a thread hand-off). So rows are gathered a chunk of batches at a
    time, up to `chunk_bytes` (the whole epoch of small samples), and a batch
    is a slice of its chunk; the batches do not depend on the chunk size.

    Args:
        tensors: tensors with the same number of rows.
        order: int64 row indices of the epoch, a vector with a static length.
        batch_size: rows per batch.
        as_tuple: batches are tuples (else the one tensor of `tensors`).
        drop_remainder: drop the last, shorter batch.
        skip: batches to leave out at the start (a resumed epoch).
        chunk_bytes: the most bytes one gather takes (at least one batch).

    Returns:
        A `tf.data.Dataset` of batches.
    """
    full, rest = divmod(int(order.shape[0]), batch_size)
    row_bytes = sum(t.dtype.size * int(np.prod(t.shape[1:])) for t in tensors)
    chunk = max(1, min(full, chunk_bytes // max(1, row_bytes * batch_size)))

    def gather(index):
        batch = tuple(tf.gather(t, index) for t in tensors)
        return batch if as_tuple else batch[0]

    def slices(*rows):
        return tf.data.Dataset.from_tensor_slices(rows if as_tuple else rows[0])

    # [full, batch_size] indices -> chunks of batches, gathered -> the chunks' batches.
    index = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: full * batch_size], (full, batch_size)))
    batches = index.skip(skip).batch(chunk).map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    batches = batches.flat_map(slices)
    if rest and not drop_remainder:
        last = tf.data.Dataset.from_tensors(order[full * batch_size:]).skip(max(0, skip - full))
        batches = batches.concatenate(last.map(gather))
    return batches


def _dataset(arrays, batch_size, shuffle, seed, drop_remainder=False):
    return pipeline(arrays, batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder)


# ----------------------------------------------------------------------- toys
def gaussian_1d_samples(n=10000, mean=4.0, std=1.25, seed=0):
    """`n` samples of N(mean, std^2) as a float32 array of shape `(n, 1)`."""
    check_positive_int("n", n)
    std, mean = check_float("std", std, positive=True), check_float("mean", mean)
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
    n_modes, radius = check_positive_int("n_modes", n_modes), check_float("radius", radius, positive=True)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype("float32")


def grid_modes(values=(-4.0, -2.0, 0.0, 2.0, 4.0)):
    """The means of the grid mixture: all pairs of `values`, shape `(25, 2)` by default."""
    xs, ys = np.meshgrid(values, values, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype("float32")


def mixture_samples(modes, std, n, seed=0):
    """`n` samples from the uniform mixture of N(mode, std^2 I), shape `(n, dim)`."""
    check_positive_int("n", n)
    std = check_float("std", std, positive=True)
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


def image_folder(path, image_size, batch_size=64, channels=3, shuffle=True, seed=0, cache=True):
    """The user's own images (jpeg, png, bmp, gif) from a folder, recursively.

    Args:
        path: a folder of images (sub-folders are read too; labels are not used).
        image_size: `(height, width)`; images are resized to it.
        batch_size: images per batch.
        channels: 1 (grayscale) or 3 (RGB).
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle.
        cache: keep the decoded, resized images in memory after the first
            epoch (files are read and decoded once); False for folders
            larger than memory.

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
        # Unbatched and unshuffled: `pipeline` caches the decoded images, then shuffles.
        ds = keras.utils.image_dataset_from_directory(
            path, labels=None, image_size=size, batch_size=None, shuffle=False,
            color_mode="grayscale" if channels == 1 else "rgb", verbose=False,
        )
    except ValueError as e:
        raise ValueError(f"Invalid value for argument `path`: no images found in {path!r} ({e})") from e
    ds = ds.map(lambda x: x / 127.5 - 1.0, num_parallel_calls=tf.data.AUTOTUNE)
    return pipeline(ds, batch_size, shuffle=shuffle, seed=seed, cache=cache)


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


# ------------------------------------------------------------ image-to-image
TRANSLATION_TASKS = ("edges", "colorize")
#: The stroke colours of `colorize`: each channel is lit in half of them, so
#: the colour of a grey digit is as uncertain as it can be.
PALETTE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]], "float32")


def _batched(arrays, batch_size, shuffle, seed):
    batch_size = check_positive_int("batch_size", batch_size)
    ds = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle:
        ds = ds.shuffle(len(arrays[0] if isinstance(arrays, tuple) else arrays), seed=seed,
                        reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def digits_translation_samples(task="edges", image_size=32, seed=0):
    """Paired images made from scikit-learn's digits (offline), upscaled to `image_size`.

    Args:
        task: `"edges"`: a digit (1 channel) to its edge map (1 channel, the
            Sobel gradient magnitude); `"colorize"`: a grey digit (1 channel)
            to the same digit drawn in a colour picked at random per image
            from `PALETTE` (3 channels, black background): the colour cannot
            be read from the input, the case where an L1 loss alone averages.
        image_size: side of the square images (bilinear upscaling of 8x8).
        seed: seed of the colours.

    Returns:
        `(inputs, targets)`: float32 arrays `(1797, S, S, C)` in [-1, 1].

    Example:

    ```python
    x, y = keras_gan.data.digits_translation_samples("colorize", 32)
    ```
    """
    if task not in TRANSLATION_TASKS:
        raise ValueError(
            f"Invalid value for argument `task`: expected one of {list(TRANSLATION_TASKS)}. "
            f"Received: task={task!r}"
        )
    size = check_positive_int("image_size", image_size)
    images, _ = load_digits()
    ink = tf.image.resize((images + 1.0) / 2.0, (size, size), method="bilinear").numpy()
    ink = np.clip(ink, 0.0, 1.0)
    if task == "edges":
        edges = tf.norm(tf.image.sobel_edges(tf.constant(ink)), axis=-1).numpy()
        target = np.clip(edges / np.percentile(edges, 99.5), 0.0, 1.0)
    else:
        colours = PALETTE[np.random.default_rng(seed).integers(len(PALETTE), size=len(ink))]
        target = ink * colours[:, None, None, :]
    return (ink * 2.0 - 1.0).astype("float32"), (target * 2.0 - 1.0).astype("float32")


def paired_digits(task="edges", image_size=32, batch_size=32, shuffle=True, seed=0):
    """A dataset of `(input, target)` digit pairs for `keras_gan.Pix2Pix` (works offline).

    Args:
        task: `"edges"` or `"colorize"` (see `digits_translation_samples`).
        image_size: side of the square images.
        batch_size: pairs per batch.
        shuffle: reshuffle every epoch.
        seed: seed of the colours and of the shuffle.

    Returns:
        A `tf.data.Dataset` of `(inputs, targets)` float32 batches in [-1, 1].

    Example:

    ```python
    ds = keras_gan.data.paired_digits("edges", image_size=32, batch_size=32)
    ```
    """
    return _batched(digits_translation_samples(task, image_size, seed), batch_size, shuffle, seed)


def unpaired_digits(task="edges", image_size=32, batch_size=16, shuffle=True, seed=0):
    """Two unpaired domains from the digits, zipped, for `keras_gan.CycleGAN` (works offline).

    The digits are split at random into two disjoint halves: domain A is
    the inputs of one half, domain B the targets of the other, so no A image
    has its B counterpart in the data.

    Args:
        task: `"edges"` or `"colorize"` (see `digits_translation_samples`).
        image_size: side of the square images.
        batch_size: images per batch of each domain.
        shuffle: reshuffle each domain every epoch, independently.
        seed: seed of the split, the colours and the shuffles.

    Returns:
        A `tf.data.Dataset` of `(a, b)` float32 batches in [-1, 1].

    Example:

    ```python
    ds = keras_gan.data.unpaired_digits("edges", batch_size=16)
    ```
    """
    inputs, targets = digits_translation_samples(task, image_size, seed)
    order = np.random.default_rng(seed).permutation(len(inputs))
    half = len(order) // 2
    a = _batched(inputs[order[:half]], batch_size, shuffle, seed)
    b = _batched(targets[order[half: 2 * half]], batch_size, shuffle, seed + 1)
    return tf.data.Dataset.zip((a, b))


def _image_files(folder):
    extensions = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
    return sorted(
        os.path.relpath(os.path.join(root, name), folder)
        for root, _, names in os.walk(folder) for name in names if name.lower().endswith(extensions)
    )


def image_folder_pairs(path, image_size, batch_size=16, channels=3, paired=True, shuffle=True, seed=0):
    """The user's own image-to-image data: `path/A/` and `path/B/`.

    Args:
        path: a folder holding `A/` (inputs, domain A) and `B/` (targets,
            domain B), each a folder of images (jpeg, png, bmp, gif; read
            recursively).
        image_size: `(height, width)`; images are resized to it.
        batch_size: images per batch.
        channels: 1 or 3, or a pair `(channels of A, channels of B)`.
        paired: True for pix2pix: `A/x.png` goes with `B/x.png` (the same
            relative file names in both folders, else a ValueError). False
            for CycleGAN: A and B are shuffled independently and zipped.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffle.

    Returns:
        A `tf.data.Dataset` of `(a, b)` float32 batches in [-1, 1].

    Example:

    ```python
    ds = keras_gan.data.image_folder_pairs("facades/", (64, 64), paired=True)
    ```
    """
    folders = [os.path.join(os.fspath(path), d) for d in ("A", "B")]
    if not all(os.path.isdir(f) for f in folders):
        raise ValueError(
            "Invalid value for argument `path`: expected a folder holding sub-folders `A/` and `B/` "
            f"of images. Received: path={path!r}"
        )
    pair = (channels, channels) if isinstance(channels, int) else tuple(channels)
    if len(pair) != 2 or any(c not in (1, 3) for c in pair):
        raise ValueError(
            "Invalid value for argument `channels`: expected 1, 3 or a pair of them. "
            f"Received: channels={channels!r}"
        )
    if not paired:
        a, b = (image_folder(f, image_size, batch_size, c, shuffle, seed + i)
                for i, (f, c) in enumerate(zip(folders, pair)))
        return tf.data.Dataset.zip((a, b))
    names = [_image_files(f) for f in folders]
    if not names[0] or names[0] != names[1]:
        only = sorted(set(names[0]) ^ set(names[1]))[:5]
        raise ValueError(
            "Invalid value for argument `path`: paired data needs the same image file names in "
            f"`A/` and `B/` (and at least one). Received: {len(names[0])} and {len(names[1])} "
            f"images" + (f", e.g. {only} in one folder only" if only else "")
        )
    # Both folders read in the same (sorted) order, unshuffled, then paired and shuffled together.
    a, b = (image_folder(f, image_size, batch_size, c, shuffle=False) for f, c in zip(folders, pair))
    ds = tf.data.Dataset.zip((a.unbatch(), b.unbatch()))
    # unbatch() loses the count; without it Keras reads the first epoch as
    # running out of data (a warning, and no progress-bar total).
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(names[0])))
    if shuffle:
        ds = ds.shuffle(len(names[0]), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
