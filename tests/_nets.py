"""Tiny networks with BatchNorm in G and D, shared by the GAN tests.

BatchNorm on both sides lets a test see any leak between the phases: a D
update that moved G's statistics, or a G update that moved D's.
"""

import keras
from keras import layers


def bn_generator(latent_dim=4, out_dim=2):
    z = keras.Input((latent_dim,))
    h = layers.Dense(16)(z)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    return keras.Model(z, layers.Dense(out_dim, dtype="float32")(h))


def bn_discriminator(in_dim=2):
    x = keras.Input((in_dim,))
    h = layers.Dense(16)(x)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(0.2)(h)
    return keras.Model(x, layers.Dense(1, dtype="float32")(h))


class SubclassedDiscriminator(keras.Model):
    """A subclassed D (no functional graph): one Dense logit."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)

    def call(self, x):
        return self.dense(x)
