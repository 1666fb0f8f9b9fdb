"""Writes this folder: run with the oldest supported TensorFlow (`python tests/data/export_tf2.18/write.py`)."""

import os

import numpy as np
import keras
import tensorflow as tf

import keras_gan
from keras_gan import inference

here = os.path.dirname(os.path.abspath(__file__))
keras.utils.set_random_seed(7)
generator = keras_gan.networks.dcgan_generator(latent_dim=6, output_shape=(8, 8, 1), filters=4)
keras_gan.export_generator(generator, os.path.join(here, "generator"), version=1, overwrite=True)
exported = inference.load_generator(os.path.join(here, "generator"))
z = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
np.savez(os.path.join(here, "outputs.npz"), z=z, samples=exported(z), seeds=np.array([1, 2, 3]),
         from_seeds=exported.from_seeds([1, 2, 3]), tensorflow=tf.__version__, keras=keras.__version__)
