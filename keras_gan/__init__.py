"""keras-gan: GANs trained with plain Keras 3 `fit()`, exported for TF Serving."""

from keras_gan import callbacks, data, images, losses, networks
from keras_gan import augment, codes, feature_matching, layers, penalties
from keras_gan import evaluation, rejection
from keras_gan import distribute
from keras_gan.gan import GAN
from keras_gan import image_to_image, pool
from keras_gan.pix2pix import Pix2Pix
from keras_gan.cyclegan import CycleGAN
from keras_gan import export, inference, serving
from keras_gan.export import export_generator
from keras_gan.inference import load_generator
from keras_gan import resume, saving
from keras_gan.saving import load_gan

__version__ = "0.1.0"

__all__ = ["GAN", "callbacks", "data", "images", "losses", "networks", "__version__",
           "augment", "codes", "feature_matching", "layers", "penalties", "evaluation", "rejection", "distribute",
           "export", "export_generator", "inference", "load_generator", "serving",
           "Pix2Pix", "CycleGAN", "image_to_image", "pool",
           "resume", "saving", "load_gan"]
