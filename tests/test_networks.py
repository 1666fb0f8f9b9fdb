"""Reference networks: shapes for any size, output ranges, logits, clear errors."""

import numpy as np
import pytest
import keras

from keras_gan import networks


def test_mlp_pair_has_the_reference_architecture():
    g = networks.mlp_generator(100, (28, 28, 1))
    d = networks.mlp_discriminator((28, 28, 1))
    dense_units = [l.units for l in g.layers if isinstance(l, keras.layers.Dense)]
    assert dense_units == [128, 256, 512, 1024, 784]
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in g.layers) == 3
    assert all(l.negative_slope == pytest.approx(0.2) for l in g.layers if isinstance(l, keras.layers.LeakyReLU))
    assert [l.units for l in d.layers if isinstance(l, keras.layers.Dense)] == [512, 256, 1]
    assert g.output_shape == (None, 28, 28, 1) and d.output_shape == (None, 1)


@pytest.mark.parametrize("shape", [(8, 8, 1), (12, 20, 3), (32, 32, 3)])
def test_dcgan_pair_works_for_any_multiple_of_4(shape):
    g = networks.dcgan_generator(16, shape, filters=8)
    d = networks.dcgan_discriminator(shape, filters=8)
    images = g(np.random.default_rng(0).normal(size=(3, 16)).astype("float32") * 10)
    assert tuple(images.shape) == (3,) + shape
    assert np.all(np.abs(images) <= 1.0)  # tanh
    assert d(images).shape == (3, 1)


def test_discriminators_output_unbounded_logits_in_float32():
    for d, x in [
        (networks.mlp_discriminator((4, 4, 1)), np.full((2, 4, 4, 1), 50.0, "float32")),
        (networks.toy_discriminator(2), np.full((2, 2), 50.0, "float32")),
        (networks.dcgan_discriminator((8, 8, 1), filters=4), np.full((2, 8, 8, 1), 50.0, "float32")),
    ]:
        last = d.layers[-1]
        assert last.activation.__name__ == "linear" and last.dtype_policy.compute_dtype == "float32"
        # A sigmoid would keep outputs in (0, 1); logits of big inputs leave it.
        big = np.abs(np.asarray(d(x))).max()
        assert big > 1.0, big


def test_patchgan_outputs_a_map_of_logits():
    d = networks.patchgan_discriminator((32, 32, 3), filters=8, n_layers=3)
    assert d.output_shape == (None, 4, 4, 1)


def test_toy_networks_shapes():
    g, d = networks.toy_generator(3, 1), networks.toy_discriminator(1)
    assert g.output_shape == (None, 1) and d.input_shape == (None, 1)


@pytest.mark.parametrize("build, match", [
    (lambda: networks.dcgan_generator(16, (10, 8, 1)), r"`output_shape`.*multiples of 4.*\(10, 8, 1\)"),
    (lambda: networks.dcgan_discriminator((8, 8)), r"`input_shape`.*3 positive integers"),
    (lambda: networks.mlp_generator(0), r"`latent_dim`: expected a positive integer. Received: latent_dim=0"),
    (lambda: networks.patchgan_discriminator((12, 12, 3), n_layers=3), r"divisible by 2\*\*n_layers=8"),
])
def test_bad_shapes_give_clear_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()
