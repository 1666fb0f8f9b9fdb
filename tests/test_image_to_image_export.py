"""Image-to-image export: the two signatures, PNG in and out, loading, atomicity, errors."""

import io
import os

import numpy as np
import pytest
import tensorflow as tf
import keras
from PIL import Image

import keras_gan
from keras_gan import data, export, images, networks
from keras_gan.inference import ExportedImageToImage


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny pix2pix (grey to colour), trained two steps, exported once for the module."""
    keras.utils.set_random_seed(0)
    g = networks.unet_generator((16, 16, 1), 3, filters=4, depth=2)
    d = networks.pix2pix_discriminator((16, 16, 1), (16, 16, 3), filters=4, n_layers=2)
    model = keras_gan.Pix2Pix(g, d, seed=0)
    model.compile("adam", "adam")
    x, y = data.digits_translation_samples("colorize", 16)
    model.fit(x[:8], y[:8], batch_size=4, epochs=1, verbose=0)
    base = tmp_path_factory.mktemp("exports") / "colorize"
    path = export.export_image_to_image(model, str(base))
    return model, path, x[:4]


def test_serving_default_maps_images_to_images_like_the_model(exported):
    model, path, x = exported
    assert path.endswith(os.sep + "1")
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures["serving_default"]
    spec = signature.structured_input_signature[1]["images"]
    assert spec.dtype == tf.float32 and spec.shape.as_list() == [None, 16, 16, 1]
    out = signature(images=tf.constant(x))["images"]
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), model.translate(x), atol=1e-5)


def test_load_generator_returns_an_image_to_image_generator_with_png_in_and_out(exported):
    model, path, x = exported
    g = keras_gan.load_generator(os.path.dirname(path))
    assert isinstance(g, ExportedImageToImage)
    assert (g.input_shape, g.output_shape, g.version) == ((16, 16, 1), (16, 16, 3), 1)
    np.testing.assert_allclose(g(x), model.translate(x), atol=1e-5)
    pngs = [images.png_bytes(images.to_uint8(image)) for image in x]  # input images, exactly in uint8
    outputs = g.translate_png(pngs)
    assert len(outputs) == 4
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(b))) for b in outputs])
    assert decoded.shape == (4, 16, 16, 3) and decoded.dtype == np.uint8
    # The same pixels as translating the decoded inputs, within one grey level.
    expected = images.to_uint8(model.translate(images.to_uint8(x) / 127.5 - 1.0))
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 1


def test_png_input_of_another_size_is_resized_to_the_model_input(exported):
    _, path, _ = exported
    g = keras_gan.load_generator(path)
    big = images.png_bytes(np.full((32, 24, 1), 200, np.uint8))
    out = Image.open(io.BytesIO(g.translate_png([big])[0]))
    assert out.size == (16, 16)


def test_cyclegan_exports_either_direction_and_a_failed_write_leaves_no_version(tmp_path, monkeypatch):
    shape_a, shape_b = (16, 16, 1), (16, 16, 3)
    model = keras_gan.CycleGAN(
        networks.unet_generator(shape_a, 3, filters=4, depth=2), networks.unet_generator(shape_b, 1, filters=4, depth=2),
        networks.patchgan_discriminator(shape_a, filters=4, n_layers=2),
        networks.patchgan_discriminator(shape_b, filters=4, n_layers=2), identity_weight=0,
    )
    path = export.export_image_to_image(model, str(tmp_path / "ba"), direction="ba")
    g = keras_gan.load_generator(path)
    assert (g.input_shape, g.output_shape) == (shape_b, shape_a)
    b = np.random.default_rng(0).uniform(-1, 1, (2,) + shape_b).astype("float32")
    np.testing.assert_allclose(g(b), model.translate_ba(b), atol=1e-5)

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "_write_metadata", fail)  # after the SavedModel is written
    with pytest.raises(OSError, match="disk full"):
        export.export_image_to_image(model, str(tmp_path / "ba"))
    assert sorted(os.listdir(tmp_path / "ba")) == ["1"]  # no version 2, no staging directory


def test_invalid_arguments_name_the_argument(exported, tmp_path):
    model, path, _ = exported
    with pytest.raises(ValueError, match="`direction`: 'ba' needs a keras_gan.CycleGAN"):
        export.export_image_to_image(model, str(tmp_path / "x"), direction="ba")
    with pytest.raises(ValueError, match="`direction`: expected 'ab' or 'ba'. Received: direction='up'"):
        export.export_image_to_image(model, str(tmp_path / "x"), direction="up")
    with pytest.raises(ValueError, match="`model`: expected a generator with one image input"):
        export.export_image_to_image(networks.toy_generator(4, 2), str(tmp_path / "x"))
    with pytest.raises(FileExistsError):
        export.export_image_to_image(model, os.path.dirname(path), version=1)
    g = keras_gan.load_generator(path)
    with pytest.raises(ValueError, match="`images`: expected shape \\(n, 16, 16, 1\\)"):
        g(np.zeros((1, 8, 8, 1)))


def test_mixed_precision_generator_exports_float32_signatures(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    g = networks.unet_generator((8, 8, 1), 1, filters=4, depth=2)
    path = export.export_image_to_image(g, str(tmp_path / "half"))
    signature = tf.saved_model.load(path).signatures["serving_default"]
    assert signature.structured_input_signature[1]["images"].dtype == tf.float32
    assert signature.structured_outputs["images"].dtype == tf.float32
    images = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    out = signature(images=tf.constant(images))["images"]
    assert out.dtype == tf.float32 and out.shape == (2, 8, 8, 1)
    # The float32 signature serves G's own (float16) translation, cast: not zeros, not another graph.
    expected = keras.ops.convert_to_numpy(g(images, training=False)).astype("float32")
    assert np.std(expected) > 1e-3
    np.testing.assert_allclose(out.numpy(), expected, atol=2e-3)
