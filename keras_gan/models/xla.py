"""What `compile(jit_compile="auto")` resolves to for the adversarial models."""

import tensorflow as tf
import keras

from keras_gan._internal import keras_private
from keras_gan._internal.fit_loop import trains_under_a_strategy
from keras_gan.networks import stylegan2

_CONVOLUTIONS = (
    keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
    keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose,
    keras.layers.SeparableConv1D, keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
) + stylegan2.CONVOLUTIONS
# Below this many weights XLA gains nothing measurable on CPU (toy nets),
# and compiling costs 2-3 s per fit.
XLA_MIN_WEIGHTS = 100_000


def auto_jit_compile(model, networks, run_eagerly):
    """XLA on or off for a model training `networks`.

    On 2 CPU cores (`benchmarks/throughput.py`) XLA speeds up the MLP GAN's
    step but not the convolutional DCGAN nor the toy nets, so on CPU it is
    on for float32 networks of dense layers with at least `XLA_MIN_WEIGHTS`
    weights. Never under a distribution strategy, where forced XLA fails
    (docs/design.md, "XLA"); on a GPU, Keras' own "auto" decides.
    """
    if run_eagerly or trains_under_a_strategy(model):
        return False
    if any(d.device_type != "CPU" for d in tf.config.list_physical_devices()):
        return "auto"
    policies = [keras.mixed_precision.global_policy()] + [m.dtype_policy for m in networks]
    if any(p.compute_dtype != "float32" for p in policies):
        return False
    layers = [layer for net in networks for layer in keras_private.flatten_layers(net)]
    if any(isinstance(layer, _CONVOLUTIONS) for layer in layers):
        return False
    return sum(net.count_params() for net in networks) >= XLA_MIN_WEIGHTS
