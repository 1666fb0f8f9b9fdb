"""Which discriminators may judge the real and the fake batch in one call."""

import keras
import pytest
from keras import layers, ops

from keras_gan import layers as gan_layers
from keras_gan import networks
from keras_gan._internal.per_sample import judges_each_sample_alone

from _nets import SubclassedDiscriminator, bn_discriminator


def _functional(*middle, in_shape=(8,)):
    x = keras.Input(in_shape)
    h = x
    for layer in middle:
        h = layer(h)
    return keras.Model(x, layers.Dense(1)(layers.Flatten()(h)))


@pytest.mark.parametrize("d", [
    networks.toy_discriminator(2),
    networks.mlp_discriminator((8, 8, 1)),
    networks.dcgan_discriminator((8, 8, 1)),
    keras.Sequential([keras.Input((8,)), layers.Dense(4), layers.Dropout(0.3), layers.LayerNormalization(),
                      layers.Dense(1)]),
    _functional(layers.Dense(4), layers.GroupNormalization(2), layers.LeakyReLU()),
    networks.dcgan_discriminator((8, 8, 1), spectral_norm=True),
], ids=["toy", "mlp", "dcgan", "sequential_dropout_layernorm", "groupnorm", "keras_gan_spectral_norm"])
def test_per_sample_discriminators_are_recognised(d):
    assert judges_each_sample_alone(d)


def test_a_nested_per_sample_model_is_recognised():
    inner = networks.toy_discriminator(2)
    x = keras.Input((2,))
    assert judges_each_sample_alone(keras.Model(x, inner(x)))


class _BatchMean(layers.Layer):
    def call(self, x):
        return x - ops.mean(x, axis=0, keepdims=True)


def _with_raw_op():
    x = keras.Input((8,))
    return keras.Model(x, layers.Dense(1)(x - ops.mean(x, axis=0, keepdims=True)))


@pytest.mark.parametrize("make", [
    lambda: bn_discriminator(8),
    lambda: _functional(gan_layers.MinibatchStddev()),
    lambda: _functional(gan_layers.SquaredDeviationFromBatchMean()),
    lambda: _functional(layers.SpectralNormalization(layers.Dense(4))),
    lambda: _functional(_BatchMean()),  # an unknown layer
    _with_raw_op,  # ops.mean over the batch inside a functional model
    lambda: keras.Sequential([keras.Input((2,)), bn_discriminator(2)]),  # nested BatchNorm
    SubclassedDiscriminator,
], ids=["batchnorm", "minibatch_stddev", "squared_deviation", "keras_spectral_normalization", "unknown_layer",
        "raw_batch_op", "nested_batchnorm", "subclassed"])
def test_discriminators_that_may_mix_samples_are_refused(make):
    assert not judges_each_sample_alone(make())
