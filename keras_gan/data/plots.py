"""Pictures of toy samples: a 2D scatter over the mixture's modes, a 1D histogram over the density.

Drawn with numpy and PIL only (the package depends on no plotting library),
as uint8 `(H, W, 3)` arrays: the same arrays `keras_gan.images` writes as PNG
and TensorBoard logs as images.
"""

import math

import numpy as np

from keras_gan.data import images as images_module

_BACKGROUND = (255, 255, 255)
_AXES = (200, 200, 200)
_SAMPLE = (31, 119, 180)
_TARGET = (214, 39, 40)


def _blank(size):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), _BACKGROUND)
    return image, ImageDraw.Draw(image)


def _check_samples(samples, dim):
    samples = np.asarray(samples, "float32")
    if samples.ndim != 2 or samples.shape[1] != dim or not len(samples):
        raise ValueError(
            f"Invalid value for argument `samples`: expected a non-empty array of shape (n, {dim}). "
            f"Received: samples with shape {samples.shape}"
        )
    return samples[np.all(np.isfinite(samples), axis=1)]


def scatter_2d(samples, modes=None, size=256):
    """Draws 2D samples as dots, with the target mixture's modes as red crosses.

    The view frames the modes with a margin (so the same modes give the
    same axes every epoch), widened to the samples' central 98% when they
    fall outside; samples beyond it are clipped to the border.

    Args:
        samples: float array `(n, 2)`.
        modes: float array `(k, 2)` of the mixture's means, or None.
        size: side of the square picture, in pixels.

    Returns:
        A uint8 array `(size, size, 3)`.

    Example:

    ```python
    picture = keras_gan.plots.scatter_2d(gan.generate(1000, seed=0), keras_gan.data.ring_modes())
    ```
    """
    samples = _check_samples(samples, 2)
    points = []
    if modes is not None:
        modes = np.asarray(modes, "float32").reshape(-1, 2)
        points.append(modes)
    if len(samples):
        points.append(np.percentile(samples, [1, 99], axis=0))
    box = np.concatenate(points) if points else np.array([[-1.0, -1.0], [1.0, 1.0]])
    low, high = box.min(axis=0), box.max(axis=0)
    centre, half = (low + high) / 2, max(float(np.max(high - low)) / 2, 1e-3) * 1.15
    image, draw = _blank(size)

    def to_pixels(xy):
        uv = (np.asarray(xy) - centre) / half  # [-1, 1] inside the view
        uv = np.clip(uv, -1, 1)
        return np.stack([(uv[:, 0] + 1) / 2 * (size - 1), (1 - uv[:, 1]) / 2 * (size - 1)], axis=1)

    origin = to_pixels(np.zeros((1, 2)))[0]
    draw.line([(0, origin[1]), (size, origin[1])], fill=_AXES)
    draw.line([(origin[0], 0), (origin[0], size)], fill=_AXES)
    for u, v in to_pixels(samples):
        draw.ellipse([u - 1.5, v - 1.5, u + 1.5, v + 1.5], fill=_SAMPLE)
    if modes is not None:
        arm = max(3, size // 64)
        for u, v in to_pixels(modes):
            draw.line([(u - arm, v - arm), (u + arm, v + arm)], fill=_TARGET, width=2)
            draw.line([(u - arm, v + arm), (u + arm, v - arm)], fill=_TARGET, width=2)
    return np.asarray(image)


def histogram_1d(samples, mean=None, std=None, size=256, bins=40):
    """Draws a histogram of 1D samples, with the target Gaussian's density as a red curve.

    The bars are scaled as a density (area 1), so they match the curve when
    G matches the target. The view spans the target's mean +- 4 std, widened
    to the samples' central 98% when they fall outside.

    Args:
        samples: float array `(n, 1)`.
        mean: the target mean, or None for no curve.
        std: the target standard deviation (with `mean`).
        size: side of the square picture, in pixels.
        bins: number of histogram bars.

    Returns:
        A uint8 array `(size, size, 3)`.

    Example:

    ```python
    picture = keras_gan.plots.histogram_1d(gan.generate(1000, seed=0), mean=4.0, std=1.25)
    ```
    """
    samples = _check_samples(samples, 1)[:, 0]
    ends = []
    if mean is not None:
        ends += [mean - 4 * std, mean + 4 * std]
    if len(samples):
        ends += list(np.percentile(samples, [1, 99]))
    low, high = (min(ends), max(ends)) if ends else (-1.0, 1.0)
    if high - low < 1e-3:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(np.clip(samples, low, high), bins=bins, range=(low, high))
    width = edges[1] - edges[0]
    heights = counts / max(1, counts.sum()) / width
    xs = np.linspace(low, high, size)
    curve = None
    if mean is not None:
        curve = np.exp(-0.5 * ((xs - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
    top = max(float(heights.max()) if len(heights) else 0.0,
              float(curve.max()) if curve is not None else 0.0, 1e-6) * 1.1
    image, draw = _blank(size)
    base = size - 1

    def y(value):
        return base - value / top * (size - 1)

    draw.line([(0, base), (size, base)], fill=_AXES)
    for k, h in enumerate(heights):
        if h > 0:
            x0, x1 = k * size / bins, (k + 1) * size / bins - 1
            draw.rectangle([x0, y(h), x1, base], fill=_SAMPLE)
    if curve is not None:
        draw.line(list(zip(range(size), y(curve))), fill=_TARGET, width=2)
    return np.asarray(image)


def toy_picture(samples, target=None, size=256):
    """A picture of toy samples: `scatter_2d` for 2D, `histogram_1d` for 1D.

    Args:
        samples: float array `(n, 1)` or `(n, 2)`.
        target: for 2D, the mixture's modes `(k, 2)`; for 1D, `(mean, std)`
            of the target Gaussian; None to draw the samples alone.
        size: side of the square picture, in pixels.

    Returns:
        A uint8 array `(size, size, 3)`.

    Example:

    ```python
    picture = keras_gan.plots.toy_picture(samples, keras_gan.plots.toy_target("ring_2d"))
    ```
    """
    samples = np.asarray(samples, "float32")
    if samples.ndim == 2 and samples.shape[1] == 2:
        return scatter_2d(samples, target, size=size)
    if samples.ndim == 2 and samples.shape[1] == 1:
        mean, std = (None, None) if target is None else target
        return histogram_1d(samples, mean, std, size=size)
    raise ValueError(
        "Invalid value for argument `samples`: expected toy samples of shape (n, 1) or (n, 2). "
        f"Received: samples with shape {samples.shape}"
    )


def toy_target(dataset):
    """What `toy_picture` draws under the samples of one of `keras_gan.data`'s toy datasets.

    Args:
        dataset: `"ring_2d"`, `"grid_2d"` or `"gaussian_1d"` (with their
            default parameters).

    Returns:
        The modes `(k, 2)` of a 2D mixture, or `(mean, std)` of the 1D
        Gaussian; None for any other name.
    """
    import inspect

    from keras_gan import data

    if dataset == "ring_2d":
        return data.ring_modes()
    if dataset == "grid_2d":
        return data.grid_modes()
    if dataset == "gaussian_1d":
        defaults = inspect.signature(data.gaussian_1d).parameters
        return (defaults["mean"].default, defaults["std"].default)
    return None


def save_toy_picture(samples, path, target=None, size=256):
    """Writes `toy_picture(samples, target)` as a PNG at `path` (atomically). Returns `path`."""
    images_module.write_atomic(path, images_module.png_bytes(toy_picture(samples, target, size)))
    return path
