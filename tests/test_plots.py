"""keras_gan.plots: toy samples drawn where they lie, over the target."""

import numpy as np
import pytest

from keras_gan import data, plots


def _mask(picture, colour):
    return np.all(picture == colour, axis=-1)


def _centroid(mask):
    rows, cols = np.nonzero(mask)
    return np.array([cols.mean(), rows.mean()])


@pytest.mark.parametrize("mode", [0, 2, 5])
def test_scatter_draws_samples_at_the_mode_they_come_from(mode):
    modes = data.ring_modes()
    samples = data.mixture_samples(modes[mode:mode + 1], 0.01, 200)
    picture = plots.scatter_2d(samples, modes)
    assert picture.shape == (256, 256, 3) and picture.dtype == np.uint8
    # Each mode's red cross, and the samples' dots on the cross of their own mode.
    red, blue = _mask(picture, plots._TARGET), _mask(picture, plots._SAMPLE)
    crosses = _centroid(red)  # the ring's centre
    direction = _centroid(blue) - crosses
    expected = modes[mode] * [1, -1]  # image rows grow downwards
    cosine = direction @ expected / (np.linalg.norm(direction) * np.linalg.norm(expected))
    assert cosine > 0.99


def test_histogram_matches_the_density_curve_only_for_samples_of_the_target():
    mean, std = plots.toy_target("gaussian_1d")

    def gap(samples):
        picture = plots.histogram_1d(samples, mean, std)
        blue, red = _mask(picture, plots._SAMPLE), _mask(picture, plots._TARGET)
        columns = [c for c in range(256) if blue[:, c].any() and red[:, c].any()]
        tops = np.array([np.argmax(blue[:, c]) for c in columns])
        curve = np.array([np.argmax(red[:, c]) for c in columns])
        return np.mean(np.abs(tops - curve)) if columns else 256

    assert gap(data.gaussian_1d_samples(20000, mean, std)) < 12
    assert gap(data.gaussian_1d_samples(20000, mean, std / 3)) > 30


def test_toy_picture_refuses_samples_that_are_not_points():
    with pytest.raises(ValueError, match=r"`samples`: expected toy samples of shape \(n, 1\) or \(n, 2\)"):
        plots.toy_picture(np.zeros((4, 3)))
