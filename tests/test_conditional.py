"""Class-conditional GANs: networks, training from (x, y), generate(labels=...), the CLI flag."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import networks


def two_class_data(n=2048, seed=0):
    """Class 0 ~ N(-2, 0.25^2), class 1 ~ N(+2, 0.25^2)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(2, size=n).astype("int32")
    x = (np.where(y == 0, -2.0, 2.0) + 0.25 * rng.normal(size=n)).astype("float32")[:, None]
    return x, y


def toy_conditional_gan(**kwargs):
    return keras_gan.GAN(
        networks.conditional_generator("toy", 4, (1,), num_classes=2, units=(32, 32)),
        networks.conditional_discriminator("toy", (1,), num_classes=2, units=(32, 32)),
        num_classes=2, seed=0, **kwargs)


@pytest.mark.parametrize("kind, shape", [("toy", (2,)), ("mlp", (8, 8, 1)), ("dcgan", (8, 8, 1))])
def test_conditional_networks_take_z_or_x_with_an_int32_label(kind, shape):
    g = networks.conditional_generator(kind, 5, shape, num_classes=3)
    d = networks.conditional_discriminator(kind, shape, num_classes=3)
    assert [tuple(t.shape) for t in g.inputs] == [(None, 5), (None,)]
    assert [t.dtype for t in g.inputs] == ["float32", "int32"]
    assert [tuple(t.shape) for t in d.inputs] == [(None,) + shape, (None,)]
    assert d.inputs[1].dtype == "int32"
    z, labels = np.zeros((4, 5), "float32"), np.array([0, 1, 2, 0], "int32")
    assert g([z, labels]).shape == (4,) + shape
    assert d([np.zeros((4,) + shape, "float32"), labels]).shape == (4, 1)


def test_conditional_gan_learns_each_class():
    x, y = two_class_data()
    gan = toy_conditional_gan()
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5))
    gan.fit(x, y, batch_size=64, epochs=8, verbose=0)
    zeros = gan.generate(1000, labels=0, seed=1)
    ones = gan.generate(1000, labels=1, seed=1)
    assert abs(zeros.mean() + 2.0) < 0.6 and abs(ones.mean() - 2.0) < 0.6
    assert np.mean(zeros < 0) > 0.9 and np.mean(ones > 0) > 0.9


def test_generate_labels_forms():
    gan = toy_conditional_gan()
    assert gan.num_classes == 2
    assert gan.generate(5, seed=0).shape == (5, 1)  # labels cycle 0, 1, 0, ...
    np.testing.assert_array_equal(gan.generate(4, seed=0),
                                  gan.generate(4, seed=0, labels=[0, 1, 0, 1]))
    same = gan.generate(3, labels=1, seed=0)
    np.testing.assert_array_equal(same, gan.generate(3, labels=np.ones(3, "int64"), seed=0))
    z = np.zeros((2, 4), "float32")
    expected = gan.generator([z, np.array([1, 0], "int32")])
    np.testing.assert_allclose(gan.generate_from_noise(z, labels=[1, 0]), expected, rtol=1e-6)


@pytest.mark.parametrize("labels, match", [
    (2, r"ints in \[0, 2\).*values 2..2"),
    ([0, 1], r"expected one int or 3 ints"),
    ([0.5, 1.0, 0.0], "dtype float"),
])
def test_bad_labels_are_named(labels, match):
    with pytest.raises(ValueError, match="argument `labels`.*" + match):
        toy_conditional_gan().generate(3, labels=labels)


def test_unconditional_gan_rejects_labels():
    gan = keras_gan.GAN(networks.toy_generator(3, 2), networks.toy_discriminator(2))
    assert gan.num_classes is None
    with pytest.raises(ValueError, match="argument `labels`.*not conditional"):
        gan.generate(2, labels=0)


def test_mismatched_networks_and_missing_labels_are_reported():
    with pytest.raises(ValueError, match=r"argument `generator`.*inputs \[z, label\]"):
        keras_gan.GAN(networks.toy_generator(3, 1), networks.conditional_discriminator("toy", (1,), 2),
                      num_classes=2)
    with pytest.raises(ValueError, match="argument `discriminator`.*pass `num_classes`"):
        keras_gan.GAN(networks.toy_generator(3, 1), networks.conditional_discriminator("toy", (1,), 2))
    with pytest.raises(ValueError, match="argument `pack`"):
        toy_conditional_gan(pack=2)
    gan = toy_conditional_gan()
    gan.compile("adam", "adam")
    x, _ = two_class_data(64)
    with pytest.raises(ValueError, match=r"conditional GAN \(num_classes=2\) trains on \(x, y\)"):
        gan.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="conditional GAN"):
        gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0)


def test_conditional_gan_with_stabilisers_round_trips(tmp_path):
    x, y = two_class_data(256)
    gan = toy_conditional_gan(ema_decay=0.9)
    gan.compile("adam", "adam", loss="relativistic_average", penalties=[keras_gan.penalties.R1(1.0)])
    gan.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(64), epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert restored.num_classes == 2 and restored.inference_generator is restored.ema_generator
    np.testing.assert_array_equal(restored.generate(6, labels=[1, 0, 1, 0, 1, 1], seed=2),
                                  gan.generate(6, labels=[1, 0, 1, 0, 1, 1], seed=2))


def test_cli_trains_a_conditional_gan_on_digits(tmp_path):
    from keras_gan import cli

    out = tmp_path / "run"
    code = cli.main(["train", "--dataset", "digits", "--conditional", "--epochs", "1", "--batch-size", "256",
                     "--no-xla", "--verbose", "0", "--out", str(out)])
    assert code == 0
    gan = keras.models.load_model(out / "model.keras")
    assert gan.num_classes == 10
    assert gan.generate(4, labels=[0, 3, 7, 9], seed=0).shape == (4, 8, 8, 1)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--dataset", "ring_2d", "--conditional", "--epochs", "1",
                  "--out", str(tmp_path / "ring")])
    assert exit_info.value.code == 2
