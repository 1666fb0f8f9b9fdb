"""Turning generated images into a PNG grid, written atomically."""

import io
import math
import os
import tempfile

import numpy as np


def to_uint8(images):
    """Maps images in [-1, 1] to uint8 [0, 255] (values outside are clipped)."""
    images = np.asarray(images, "float32")
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype("uint8")


def make_grid(images, cols=None, scale=None, padding=1):
    """Tiles `(n, H, W, C)` images in [-1, 1] into one uint8 `(rows*H, cols*W, C)` grid.

    Args:
        images: float array of shape `(n, H, W, C)` with C in {1, 3}, values in [-1, 1].
        cols: images per row (default: a square-ish grid).
        scale: integer upscaling factor (nearest neighbour); by default small
            images are enlarged to about 32 pixels so an 8x8 grid is readable.
        padding: pixels of black between images.

    Returns:
        A uint8 array `(height, width, C)`.
    """
    images = to_uint8(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "Invalid value for argument `images`: expected shape (n, H, W, C) with C 1 or 3. "
            f"Received: shape {images.shape}"
        )
    n, h, w, c = images.shape
    scale = scale or max(1, 32 // max(h, w))
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
        h, w = h * scale, w * scale
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + padding) + padding, cols * (w + padding) + padding, c), "uint8")
    for i, image in enumerate(images):
        r, k = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + k * (w + padding)
        grid[y: y + h, x: x + w] = image
    return grid


def png_bytes(array):
    """Encodes a uint8 `(H, W, C)` array (C in {1, 3}) as PNG bytes."""
    from PIL import Image

    array = np.asarray(array)
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def temporary_path(path):
    """A fresh temporary file beside `path` (same filesystem, so a rename is atomic).

    It gets the permissions a plain `open(path, "w")` would give (mkstemp's
    are owner-only).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    name = os.path.basename(path)
    # Keep compound suffixes: Keras checks that a path ends in `.weights.h5`.
    ext = ".weights.h5" if name.endswith(".weights.h5") else os.path.splitext(name)[1]
    base = name[: len(name) - len(ext)]
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".tmp-{base}-", suffix=ext)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def fsync_path(path):
    """Flushes a file's (or a directory's) data to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # e.g. directories on some filesystems
    finally:
        os.close(fd)


def replace_atomic(path, write):
    """Calls `write(tmp)` on a temporary file beside `path`, then renames it to `path`.

    The temporary file is fsync'ed before the rename and the folder after it,
    so that after a crash or power loss `path` holds either the old or the
    new contents, complete. A failure in `write` leaves `path` as it was and
    no temporary file behind.

    Args:
        path: the file to write.
        write: a function that writes the new contents to the path it is given.

    Returns:
        `path`.

    Example:

    ```python
    replace_atomic("model.keras", gan.save)
    ```
    """
    tmp = temporary_path(path)
    try:
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(os.path.dirname(os.path.abspath(path)))
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_atomic(path, data):
    """Writes bytes to `path` through a temporary file and a rename (never half-written)."""

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    return replace_atomic(path, write)


def save_grid(images, path, **grid_kwargs):
    """Writes `images` in [-1, 1] as a PNG grid at `path` (atomically).

    Example:

    ```python
    keras_gan.images.save_grid(gan.generate(64, seed=0), "grid.png")
    ```
    """
    write_atomic(path, png_bytes(make_grid(images, **grid_kwargs)))
    return path
