"""Spectral normalization of a D layer's kernel (Miyato et al., 2018), GAN-safe.

`SpectralNorm(layer)` computes `layer` with its kernel divided by an estimate
of the kernel's largest singular value, so each wrapped layer is (about)
1-Lipschitz. It differs from `keras.layers.SpectralNormalization` on the two
points a GAN step relies on:

- the kernel variable is never written: the normalized kernel is a tensor
  made in `call`, and gradients flow through the division by sigma (the
  paper's reparametrization). Keras' wrapper assigns `W / sigma` back into
  the kernel on every training call, so the kernel drifts with lr 0, and its
  gradient skips sigma;
- the power-iteration vectors `u` and `v` advance only in a training call of
  a trainable layer. In the G phase D is frozen (`trainable=False`) and runs
  with the `u`, `v` of its last update, as PyTorch's `spectral_norm` does in
  eval mode; Keras' wrapper would update them and the kernel there, so the G
  phase would change D.

Forward, the wrapped layer maps each sample alone (one kernel for the whole
batch), so `GAN` may judge real and fake in one call (`keras_gan._internal.per_sample`).
"""

import math

import keras
from keras import ops

from keras_gan._internal.validation import check_float, check_positive_int

# Layer types whose call is `activation(op(x, kernel) + bias)` with the
# op reachable here; ConvTranspose kernels put the output channels elsewhere.
_DENSE = (keras.layers.Dense,)
_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_INITIAL_ITERATIONS = 15  # PyTorch's spectral_norm runs 15 at creation


def _l2_normalize(x, epsilon):
    return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x))), epsilon)


@keras.saving.register_keras_serializable(package="keras_gan")
class SpectralNorm(keras.layers.Wrapper):
    """Divides a Dense or Conv layer's kernel by its largest singular value.

    The kernel is viewed as a matrix `W` of shape `(fan_in, units)`. Each
    training call of a trainable layer runs `power_iterations` steps of the
    power method from the stored `u` (`v = W u / |W u|`, `u = W^T v / |W^T v|`),
    stores the new `u` and `v`, and computes the layer with
    `W / sigma`, `sigma = v^T W u`; `u` and `v` are constants for the
    gradient, which does flow through `sigma`. Inference calls and a frozen
    layer (`trainable=False`, D in the G phase) use the stored `u`, `v` and
    write nothing. The power method runs in float32 under mixed precision.

    Args:
        layer: a `keras.layers.Dense`, `Conv1D`, `Conv2D` or `Conv3D`
            (not built, or built).
        power_iterations: power-method steps per training call (1, as the
            paper: `u` carries over between steps).
        epsilon: floor of the norms the power method divides by.
        **kwargs: `keras.layers.Layer` arguments (`name`, ...).

    Returns (when called):
        The wrapped layer's output, computed with the normalized kernel.

    Example:

    ```python
    x = keras.Input((2,))
    h = keras_gan.layers.SpectralNorm(keras.layers.Dense(64))(x)
    # or: keras_gan.networks.dcgan_discriminator((8, 8, 1), spectral_norm=True)
    ```
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, **kwargs):
        if not isinstance(layer, _DENSE + _CONV):
            raise ValueError(
                "Invalid value for argument `layer`: expected a keras.layers.Dense, Conv1D, Conv2D "
                f"or Conv3D instance. Received: layer={layer!r}"
            )
        # No autocast: variables are read in float32 under mixed precision
        # (the power method in float16 would lose sigma's precision); `call`
        # casts the inputs to the compute dtype itself.
        kwargs.setdefault("autocast", False)
        super().__init__(layer, **kwargs)
        self.power_iterations = check_positive_int("power_iterations", power_iterations)
        self.epsilon = check_float("epsilon", epsilon, positive=True)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        kernel_shape = tuple(self.layer.kernel.shape)
        units, fan_in = kernel_shape[-1], math.prod(kernel_shape[:-1])
        self.u = self.add_weight(shape=(units,), initializer="random_normal", trainable=False,
                                 name="u", dtype="float32")
        self.v = self.add_weight(shape=(fan_in,), initializer="random_normal", trainable=False,
                                 name="v", dtype="float32")
        # Converge on the initial kernel now (as PyTorch does), so sigma is
        # right from the first call: a G-first schedule runs frozen D calls,
        # which never iterate, before any D update.
        u, v = self._power_iteration(self._matrix(), _INITIAL_ITERATIONS)
        self.u.assign(u)
        self.v.assign(v)
        self.built = True

    def _matrix(self):
        kernel = ops.cast(self.layer.kernel, "float32")
        return ops.reshape(kernel, (-1, kernel.shape[-1]))

    def _power_iteration(self, w, iterations=None):
        u = _l2_normalize(self.u, self.epsilon)
        v = self.v
        for _ in range(iterations or self.power_iterations):
            v = _l2_normalize(ops.matmul(w, u), self.epsilon)
            u = _l2_normalize(ops.matmul(ops.transpose(w), v), self.epsilon)
        return ops.stop_gradient(u), ops.stop_gradient(v)

    def normalized_kernel(self, training=False):
        """The kernel divided by its estimated largest singular value.

        Args:
            training: run the power method and store `u`, `v` (only if this
                layer is trainable), as a training call does.

        Returns:
            A float32 tensor of the kernel's shape.
        """
        w = self._matrix()
        if training and self.trainable:
            u, v = self._power_iteration(w)
            self.u.assign(u)
            self.v.assign(v)
        else:
            u, v = self.u.value, self.v.value
        sigma = ops.sum(v * ops.matmul(w, u))
        return ops.reshape(w / ops.maximum(sigma, self.epsilon), self.layer.kernel.shape)

    def call(self, inputs, training=False):
        layer = self.layer
        inputs = ops.cast(inputs, self.compute_dtype)
        kernel = ops.cast(self.normalized_kernel(training), inputs.dtype)
        if isinstance(layer, _DENSE):
            outputs = ops.matmul(inputs, kernel)
            channel_axis = -1
        else:
            padding = layer.padding
            if padding == "causal":  # Conv1D pads the input itself before its op
                inputs = ops.pad(inputs, layer._compute_causal_padding())
                padding = "valid"
            outputs = ops.conv(inputs, kernel, strides=list(layer.strides), padding=padding,
                               dilation_rate=layer.dilation_rate, data_format=layer.data_format)
            channel_axis = -1 if layer.data_format == "channels_last" else 1
        if layer.use_bias:
            shape = [1] * len(outputs.shape)
            shape[channel_axis] = -1
            outputs = outputs + ops.reshape(ops.cast(layer.bias, outputs.dtype), shape)
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations, "epsilon": self.epsilon}
