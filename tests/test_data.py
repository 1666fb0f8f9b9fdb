"""Data pipelines: toy distributions, bundled digits, folders, offline errors."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gan import data


def _all_x(ds):
    return np.concatenate([b[0] if isinstance(b, tuple) else b for b in ds.as_numpy_iterator()])


def test_gaussian_1d_has_the_requested_mean_and_std():
    x = _all_x(data.gaussian_1d(mean=4.0, std=1.25, n=20000, batch_size=500))
    assert x.shape == (20000, 1)
    assert abs(x.mean() - 4.0) < 0.05 and abs(x.std() - 1.25) < 0.05


def test_ring_and_grid_samples_sit_on_their_modes():
    ring = _all_x(data.ring_2d(n=4000))
    grid = _all_x(data.grid_2d(n=4000))
    for x, modes, std in ((ring, data.ring_modes(), 0.01), (grid, data.grid_modes(), 0.05)):
        d = np.linalg.norm(x[:, None] - modes[None], axis=-1)
        assert d.min(axis=1).max() < 6 * std
        assert len(np.unique(d.argmin(axis=1))) == len(modes)
    assert data.ring_modes().shape == (8, 2) and data.grid_modes().shape == (25, 2)
    np.testing.assert_allclose(np.linalg.norm(data.ring_modes(), axis=1), 1.0, rtol=1e-6)


def test_digits_are_bundled_and_scaled_to_minus_one_one():
    x, y = data.load_digits()
    assert x.shape == (1797, 8, 8, 1) and y.shape == (1797,)
    assert x.min() == -1.0 and x.max() == 1.0
    images, labels = next(iter(data.digits(batch_size=32)))
    assert images.shape == (32, 8, 8, 1) and labels.dtype.name == "int32"


def test_keras_datasets_offline_raise_a_clear_error(monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(data.DatasetUnavailableError, match=r"`mnist`.*offline.*digits\(\)"):
        data.mnist()


def test_keras_datasets_are_scaled_and_batched(monkeypatch):
    import keras

    fake = np.random.default_rng(0).integers(0, 256, (10, 32, 32, 3)).astype("uint8")
    monkeypatch.setattr(keras.datasets.cifar10, "load_data",
                        lambda: ((fake, np.arange(10).reshape(10, 1)), (fake[:2], np.zeros((2, 1)))))
    x, y = next(iter(data.cifar10(batch_size=4, shuffle=False)))
    np.testing.assert_allclose(x.numpy(), fake[:4] / 127.5 - 1.0, atol=1e-6)
    assert y.shape == (4,)


def test_image_folder_reads_resizes_and_scales(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "sub").mkdir()
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (20, 30, 3)).astype("uint8")).save(tmp_path / ("sub" if i % 2 else ".") / f"{i}.png")
    x = _all_x(data.image_folder(str(tmp_path), (16, 16), batch_size=2))
    assert x.shape == (5, 16, 16, 3)
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.5 and x.max() > 0.5


def test_image_folder_errors_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"`path`.*folder of images"):
        data.image_folder(str(tmp_path / "missing"), (8, 8))
    with pytest.raises(ValueError, match=r"`path`: no images found"):
        data.image_folder(str(tmp_path), (8, 8))
    with pytest.raises(ValueError, match=r"`image_size`"):
        data.image_folder(str(tmp_path), 8)


# ------------------------------------------------------------------ pipeline
def _epochs(ds, passes=1):
    return [[b.numpy().ravel().tolist() for b in ds] for _ in range(passes)]


def test_pipeline_visits_every_sample_once_per_epoch_in_a_new_seeded_order():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    ds = data.pipeline(x, batch_size=4, seed=0)
    assert len(ds) == 3
    first, second = _epochs(ds, passes=2)
    for epoch in (first, second):
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(sum(epoch, [])) == list(range(10))
    assert first != second  # reshuffled each pass
    assert _epochs(data.pipeline(x, batch_size=4, seed=0), passes=2) == [first, second]
    assert _epochs(data.pipeline(x, batch_size=4, seed=1))[0] != first
    assert _epochs(data.pipeline(x, batch_size=4, shuffle=False))[0] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_pipeline_repeat_reshuffles_and_drop_remainder_keeps_a_static_batch_size():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    ds = data.pipeline(x, batch_size=4, seed=0, drop_remainder=True)
    assert ds.element_spec.shape == (4, 1)
    batches = [b.numpy().ravel().tolist() for b in ds.repeat(3)]
    assert len(batches) == 6
    epochs = [sum(batches[i:i + 2], []) for i in (0, 2, 4)]
    assert all(len(set(e)) == 8 for e in epochs) and len({tuple(e) for e in epochs}) == 3


def test_pipeline_batches_do_not_depend_on_how_many_rows_one_gather_takes():
    # Arrays are gathered a chunk of batches at a time (an epoch of small samples):
    # the batches are the epoch's permutation cut into runs of batch_size all the same.
    x = np.arange(23, dtype="float32").reshape(23, 1) * 10
    y = np.arange(23, dtype="int32")

    def passes(chunk_bytes, drop_remainder):
        ds = data._in_memory_batches((x, y), 4, True, 7, drop_remainder, chunk_bytes=chunk_bytes)
        return [[(xb.numpy().ravel().tolist(), yb.numpy().tolist()) for xb, yb in ds] for _ in range(2)]

    row = 4 + 4  # bytes of one sample: a float32 and an int32
    for drop_remainder in (False, True):
        whole = passes(2**20, drop_remainder)  # one gather per epoch
        assert [len(e) for e in whole] == ([5, 5] if drop_remainder else [6, 6])
        for chunk_batches in (1, 2, 3):
            assert passes(chunk_batches * 4 * row, drop_remainder) == whole
        for epoch in whole:
            assert all(xs == [10.0 * v for v in ys] for xs, ys in epoch)
            assert len({v for _, ys in epoch for v in ys}) == (20 if drop_remainder else 23)
    assert whole[0] != whole[1]


def test_pipeline_keeps_labels_with_their_samples_and_checks_their_length():
    x = np.arange(12, dtype="float32").reshape(12, 1) * 10
    y = np.arange(12, dtype="int32")
    for xb, yb in data.pipeline((x, y), batch_size=5, seed=3):
        np.testing.assert_array_equal(xb.numpy().ravel(), yb.numpy() * 10)
    with pytest.raises(ValueError, match=r"`arrays`.*Received: shapes \[\(12, 1\), \(11,\)\]"):
        data.pipeline((x, y[:11]), batch_size=5)


def test_pipeline_on_a_dataset_caches_and_shuffles_every_sample_once():
    ds = data.pipeline(tf.data.Dataset.range(10), batch_size=4, seed=0)
    first, second = _epochs(ds, passes=2)
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10))
    assert first != second
