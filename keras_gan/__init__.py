"""keras-gan: GANs trained with plain Keras 3 `fit()`, exported for TF Serving.

The package is laid out by concern (imports flow one way, top to bottom):

- `keras_gan.cli`: the `keras-gan` command line.
- `keras_gan.deploy`: export for TF Serving, loading an export, serving clients.
- `keras_gan.training`: driving a run: callbacks, exact resume, saving, tf.distribute.
- `keras_gan.evaluation`: sample-quality metrics and discriminator rejection sampling.
- `keras_gan.models`: the trainers: `GAN`, `Pix2Pix`, `CycleGAN` on one adversarial base.
- `keras_gan.components`: what plugs into a model: losses, penalties, augmentation,
  InfoGAN codes, layers, spectral norm, the image pool, feature matching.
- `keras_gan.networks`, `keras_gan.data`: reference networks; datasets and image files.
- `keras_gan._internal`: private fast paths and argument checks.

Every module is also importable under its short public name, e.g.
`keras_gan.losses` is `keras_gan.components.losses`.
"""

import sys as _sys

from keras_gan import data, networks, evaluation
from keras_gan.data import images, plots
from keras_gan.components import (
    ada, augment, codes, ema, feature_matching, layers, losses, path_length, penalties, pool, spectral_norm,
    terms,
)
from keras_gan.models import adversarial, cyclegan, gan, image_to_image, pix2pix
from keras_gan.models.gan import GAN
from keras_gan.models.pix2pix import Pix2Pix
from keras_gan.models.cyclegan import CycleGAN
from keras_gan.evaluation import rejection
from keras_gan.training import callbacks, distribute, resume, saving
from keras_gan.training.saving import load_gan
from keras_gan.deploy import export, inference, serving
from keras_gan.deploy.export import export_generator
from keras_gan.deploy.inference import load_generator

__version__ = "0.1.0"

# `import keras_gan.losses` (and `from keras_gan.gan import GAN`) keep working:
# each public module is registered under its short name too.
for _module in (images, plots, ada, augment, codes, ema, feature_matching, layers, losses, path_length, penalties,
                pool, spectral_norm, terms, adversarial, cyclegan, gan, image_to_image, pix2pix, rejection,
                callbacks, distribute, resume, saving, export, inference, serving):
    _sys.modules.setdefault(f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}", _module)
del _module

__all__ = ["GAN", "Pix2Pix", "CycleGAN", "load_gan", "export_generator", "load_generator",
           "__version__", "ada", "augment", "callbacks", "codes", "data", "distribute", "evaluation",
           "export", "feature_matching", "image_to_image", "images", "inference", "layers",
           "losses", "networks", "path_length", "penalties", "plots", "pool", "rejection", "resume", "saving",
           "serving", "spectral_norm", "terms", "ema"]
