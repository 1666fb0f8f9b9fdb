"""keras-gan: GANs trained with plain Keras 3 `fit()`, exported for TF Serving."""

from keras_gan import data, losses, networks
from keras_gan.gan import GAN

__version__ = "0.1.0"

__all__ = ["GAN", "data", "losses", "networks", "__version__"]
