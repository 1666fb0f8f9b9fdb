"""keras-gan: GANs trained with plain Keras 3 `fit()`, exported for TF Serving."""

import os as _os
import sys as _sys

if _os.path.basename(_sys.argv[0] if _sys.argv else "") == "keras-gan":
    # The console script imports this package (and so TensorFlow) before
    # cli.main runs: quiet TF's C++ start-up chatter (CUDA probing on a CPU
    # machine) here. Set TF_CPP_MIN_LOG_LEVEL yourself to see it.
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_gan import callbacks, data, images, losses, networks
from keras_gan import augment, layers, penalties
from keras_gan import evaluation
from keras_gan import distribute
from keras_gan.gan import GAN
from keras_gan import export, inference, serving
from keras_gan.export import export_generator
from keras_gan.inference import load_generator

__version__ = "0.1.0"

__all__ = ["GAN", "callbacks", "data", "images", "losses", "networks", "__version__",
           "augment", "layers", "penalties", "evaluation", "distribute",
           "export", "export_generator", "inference", "load_generator", "serving"]
