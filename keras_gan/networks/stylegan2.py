"""StyleGAN2: the generator and discriminator of Karras et al. 2020.

"Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020), with the
definitions of the official code (NVlabs/stylegan2-ada-pytorch,
`training/networks.py`):

- Equalized learning rate: every weight is stored as N(0, 1 / lr_multiplier)
  and scaled at run time by `lr_multiplier / sqrt(fan_in)`; biases by
  `lr_multiplier`. The mapping network uses `lr_multiplier=0.01`.
- Mapping: z normalized by its second moment, 8 fully connected layers
  (leaky ReLU 0.2 with gain sqrt(2)), w broadcast to every layer. G keeps a
  running average `w_avg` of w (decay `w_avg_beta=0.995`), updated by every
  training-mode call, read by the truncation trick
  (`w = w_avg + psi * (w - w_avg)`).
- Synthesis: a learned 4x4 constant, then per resolution two modulated 3x3
  convolutions with weight demodulation (`modulated_conv2d`), per-pixel noise
  with a learned strength per layer, and a "skip" output: a toRGB (modulated
  1x1 convolution, no demodulation) at every resolution, summed after
  upsampling with the [1, 3, 3, 1] FIR filter.
- Discriminator: "resnet" blocks (two 3x3 convolutions, the second one
  downsampling, plus a 1x1 skip, both scaled by sqrt(0.5)), minibatch
  standard deviation (groups of 4, 1 feature), a 3x3 convolution, two fully
  connected layers, float32 logits.
- Style mixing regularization (probability 0.9 in training): from a random
  layer on, the layers take the w of a second latent vector.

Resampling uses the FIR filter [1, 3, 3, 1]: upsampling is zero insertion
followed by the filter (gain 4) and then the 3x3 convolution, the same linear
map as the official transposed convolution followed by the filter, up to
kernel flipping and borders. Downsampling filters then takes every other
pixel, before a strided 3x3 convolution or the 1x1 skip.

Under a `mixed_float16` policy the mapping network, w, styles, weight
demodulation, the image branch (toRGB sums), the minibatch standard deviation
and D's logits stay float32, as in the official code; convolutions run in
float16 and their activations are clamped to +-256 (`conv_clamp`).
"""

import math

import numpy as np
import tensorflow as tf
import keras
from keras import layers, ops

from keras_gan._internal import random as _random
from keras_gan._internal.validation import check_positive_int
from keras_gan._internal.seed_states import SavesSeedStates

_SQRT2 = math.sqrt(2.0)
_FIR = np.array([1.0, 3.0, 3.0, 1.0])


def supports_truncation(generator):
    """Whether `generator` takes a `truncation` argument (a mapping network with `w_avg`).

    Args:
        generator: a `keras.Model`.

    Returns:
        True for `StyleGAN2Generator` and any model whose `call` accepts
        `truncation=`, else False.

    Example:

    ```python
    keras_gan.networks.supports_truncation(keras_gan.networks.dcgan_generator())  # False
    ```
    """
    import inspect

    try:
        return "truncation" in inspect.signature(generator.call).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def check_truncation(truncation, generator):
    """`truncation` as a float after checking it, or a clear error for a G without a mapping network."""
    if truncation is None:
        return None
    if not supports_truncation(generator):
        raise ValueError(
            "Invalid value for argument `truncation`: the truncation trick needs a generator with a "
            f"mapping network and its average w (e.g. keras_gan.networks.stylegan2_generator); "
            f"{generator.name!r} has none. Expected None. Received: truncation={truncation!r}"
        )
    try:
        value = float(truncation)
    except (TypeError, ValueError):
        value = float("nan")
    if not math.isfinite(value):
        raise ValueError(
            "Invalid value for argument `truncation`: expected a finite float psi (1 for none, 0 for the "
            f"average image, 0.5-0.7 usually). Received: truncation={truncation!r}"
        )
    return value


def _check_resolution(resolution):
    ok = (isinstance(resolution, int) and not isinstance(resolution, bool)
          and resolution >= 8 and resolution <= 1024 and resolution & (resolution - 1) == 0)
    if not ok:
        raise ValueError(
            "Invalid value for argument `resolution`: expected a power of two from 8 to 1024 "
            f"(32 to 1024 for images; 8 and 16 for tests). Received: resolution={resolution!r}"
        )
    return resolution


def _check_probability(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a float in [0, 1]. Received: {name}={value!r}"
        )
    return value


def _channels(resolution, channel_base, channel_max):
    return min(channel_base // resolution, channel_max)


def _act(x, activation, gain, clamp):
    """bias_act's activation: leaky ReLU 0.2 times `gain` (sqrt(2) by default), then the clamp."""
    if activation == "lrelu":
        x = tf.nn.leaky_relu(x, 0.2)
    if gain != 1:
        x = x * ops.cast(gain, x.dtype)
    if clamp is not None:
        x = ops.clip(x, -clamp, clamp)
    return x


def _fir_kernel(channels, gain, dtype):
    f = np.outer(_FIR, _FIR)
    f = f / f.sum() * gain
    return ops.cast(np.tile(f[:, :, None, None], (1, 1, channels, 1)), dtype)


def upsample2d(x):
    """Doubles H and W: zero insertion, then the [1, 3, 3, 1] FIR filter with gain 4.

    Args:
        x: `(batch, H, W, C)`.

    Returns:
        `(batch, 2H, 2W, C)`.
    """
    n, h, w, c = ops.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
    zeros = ops.zeros_like(x)
    x = ops.stack([x, zeros], axis=3)                       # (n, h, w, 2, c)
    x = ops.stack([x, ops.zeros_like(x)], axis=2)           # (n, h, 2, w, 2, c)
    x = ops.reshape(x, (n, 2 * h, 2 * w, c))
    x = tf.pad(x, [[0, 0], [2, 1], [2, 1], [0, 0]])
    return tf.nn.depthwise_conv2d(x, _fir_kernel(c, 4.0, x.dtype), [1, 1, 1, 1], "VALID")


def downsample2d(x):
    """Halves H and W: the [1, 3, 3, 1] FIR filter, then every other pixel.

    Args:
        x: `(batch, H, W, C)` with H and W even.

    Returns:
        `(batch, H / 2, W / 2, C)`.
    """
    x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return tf.nn.depthwise_conv2d(x, _fir_kernel(x.shape[-1], 1.0, x.dtype), [1, 2, 2, 1], "VALID")


def modulated_conv2d(x, weight, styles, demodulate=True, fused=True):
    """StyleGAN2's modulated convolution ("same" padding, stride 1).

    Each sample `b` is convolved with its own weights
    `w'[b] = weight * styles[b]` (scaled per input channel) and, with
    `demodulate`, `w''[b] = w'[b] / sqrt(sum_{kh, kw, in} w'[b]**2 + 1e-8)`
    per output channel (Karras et al. 2020, eq. 1-3).

    Args:
        x: inputs `(batch, H, W, in)`.
        weight: the kernel `(kh, kw, in, out)` (already scaled).
        styles: `(batch, in)`, float32.
        demodulate: normalize each output channel's weights (eq. 3).
        fused: one grouped convolution with every sample's own kernel (as
            the official code does at inference); otherwise scale the
            inputs by the styles, run one shared convolution and scale the
            outputs by the demodulation coefficients (its training path).
            Both compute the same function.

    Returns:
        `(batch, H, W, out)` in `x`'s dtype.

    Example:

    ```python
    y = keras_gan.networks.stylegan2.modulated_conv2d(
        tf.random.normal((2, 8, 8, 4)), tf.random.normal((3, 3, 4, 5)), tf.ones((2, 4)))
    ```
    """
    styles = ops.cast(styles, "float32")
    weight32 = ops.cast(weight, "float32")
    kh, kw, cin, cout = weight.shape
    dcoefs = None
    if demodulate:
        w = weight32[None] * styles[:, None, None, :, None]                # (b, kh, kw, in, out)
        dcoefs = ops.rsqrt(ops.sum(ops.square(w), axis=(1, 2, 3)) + 1e-8)  # (b, out)
    if not fused:
        x = x * ops.cast(styles[:, None, None, :], x.dtype)
        x = tf.nn.conv2d(x, ops.cast(weight, x.dtype), 1, "SAME")
        if dcoefs is not None:
            x = x * ops.cast(dcoefs[:, None, None, :], x.dtype)
        return x
    w = weight32[None] * styles[:, None, None, :, None]
    if dcoefs is not None:
        w = w * dcoefs[:, None, None, None, :]
    n, h, wd = ops.shape(x)[0], x.shape[1], x.shape[2]
    # Grouped convolution: the batch becomes groups of channels.
    xg = ops.reshape(ops.transpose(x, (1, 2, 0, 3)), (1, h, wd, -1))     # (1, h, w, b*in)
    wg = ops.reshape(ops.transpose(w, (1, 2, 3, 0, 4)), (kh, kw, cin, -1))  # (kh, kw, in, b*out)
    y = tf.nn.conv2d(xg, ops.cast(wg, x.dtype), 1, "SAME")
    return ops.transpose(ops.reshape(y, (h, wd, n, cout)), (2, 0, 1, 3))


# ------------------------------------------------------------------- layers
@keras.saving.register_keras_serializable(package="keras_gan")
class EqualizedDense(layers.Layer):
    """A fully connected layer with equalized learning rate (StyleGAN's FullyConnectedLayer).

    The kernel is stored as N(0, 1 / lr_multiplier) and used as
    `kernel * lr_multiplier / sqrt(fan_in)`; the bias, initialized to
    `bias_init`, is used as `bias * lr_multiplier`.

    Args:
        units: output size.
        lr_multiplier: learning-rate multiplier (0.01 in the mapping network).
        bias_init: initial bias value.
        activation: `"lrelu"` (leaky ReLU 0.2, gain sqrt(2)) or `"linear"`.

    Example:

    ```python
    layer = keras_gan.networks.stylegan2.EqualizedDense(512, lr_multiplier=0.01, activation="lrelu")
    ```
    """

    def __init__(self, units, lr_multiplier=1.0, bias_init=0.0, activation="linear", **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.lr_multiplier = float(lr_multiplier)
        self.bias_init = float(bias_init)
        if activation not in ("lrelu", "linear"):
            raise ValueError(
                "Invalid value for argument `activation`: expected 'lrelu' or 'linear'. "
                f"Received: activation={activation!r}"
            )
        self.activation = activation

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(fan_in, self.units), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier))
        self.bias = self.add_weight(
            shape=(self.units,), name="bias", initializer=keras.initializers.Constant(self.bias_init))
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, x):
        x = ops.matmul(x, self.kernel * self.weight_gain) + self.bias * self.lr_multiplier
        return _act(x, self.activation, _SQRT2 if self.activation == "lrelu" else 1.0, None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "lr_multiplier": self.lr_multiplier,
                "bias_init": self.bias_init, "activation": self.activation}


@keras.saving.register_keras_serializable(package="keras_gan")
class EqualizedConv2D(layers.Layer):
    """A convolution with equalized learning rate (StyleGAN2's Conv2dLayer), for D.

    Args:
        filters: output channels.
        kernel_size: 1 or 3 ("same" padding).
        down: 2 to halve the resolution (FIR filter, then a stride-2
            convolution), else 1.
        activation: `"lrelu"` or `"linear"`.
        use_bias: add a bias.
        gain: extra output gain (sqrt(0.5) in the residual branches).
        conv_clamp: clamp the activations to +-conv_clamp, or None.

    Example:

    ```python
    layer = keras_gan.networks.stylegan2.EqualizedConv2D(64, 3, down=2, activation="lrelu")
    ```
    """

    def __init__(self, filters, kernel_size=3, down=1, activation="lrelu", use_bias=True, gain=1.0,
                 conv_clamp=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.down = down
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.gain = float(gain)
        self.conv_clamp = conv_clamp

    def build(self, input_shape):
        fan_in = int(input_shape[-1]) * self.kernel_size ** 2
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros") if self.use_bias else None
        self.weight_gain = 1.0 / math.sqrt(fan_in)

    def call(self, x):
        w = self.kernel * ops.cast(self.weight_gain, self.kernel.dtype)
        if self.down == 2:
            if self.kernel_size == 1:
                x = tf.nn.conv2d(downsample2d(x), w, 1, "VALID")
            else:
                x = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]])
                x = tf.nn.depthwise_conv2d(x, _fir_kernel(x.shape[-1], 1.0, x.dtype), [1, 1, 1, 1], "VALID")
                x = tf.nn.conv2d(x, w, 2, "VALID")
        else:
            x = tf.nn.conv2d(x, w, 1, "SAME")
        if self.bias is not None:
            x = x + self.bias
        gain = (_SQRT2 if self.activation == "lrelu" else 1.0) * self.gain
        clamp = None if self.conv_clamp is None else self.conv_clamp * self.gain
        return _act(x, self.activation, gain, clamp)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        if self.down == 2:
            h, w = h // 2, w // 2
        return (n, h, w, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "down": self.down, "activation": self.activation, "use_bias": self.use_bias,
                "gain": self.gain, "conv_clamp": self.conv_clamp}


@keras.saving.register_keras_serializable(package="keras_gan")
class MinibatchStd(layers.Layer):
    """Minibatch standard deviation (StyleGAN2's MinibatchStdLayer), float32.

    The batch is split into groups of `group_size` samples (sample `i` in
    group `i % (batch / group_size)`, as the official reshape does); each
    group's standard deviation, averaged over features and pixels
    (`num_channels` averages of channel slices), is appended as extra
    channels. When the batch is not a multiple of `group_size`, the largest
    group size up to `group_size` that divides it is used.

    Args:
        group_size: samples per group (4).
        num_channels: statistics channels appended (1).

    Example:

    ```python
    y = keras_gan.networks.stylegan2.MinibatchStd(4)(tf.random.normal((8, 4, 4, 16)))
    ```
    """

    def __init__(self, group_size=4, num_channels=1, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.group_size = check_positive_int("group_size", group_size)
        self.num_channels = check_positive_int("num_channels", num_channels)

    def call(self, x):
        x = ops.cast(x, "float32")
        n = tf.shape(x)[0]
        h, w, c = x.shape[1], x.shape[2], x.shape[3]
        f = self.num_channels
        candidates = tf.range(1, self.group_size + 1)
        g = tf.reduce_max(tf.where(n % candidates == 0, candidates, 1))
        y = tf.reshape(x, tf.stack([g, -1, h, w, f, c // f]))
        y = y - tf.reduce_mean(y, axis=0)
        y = tf.sqrt(tf.reduce_mean(tf.square(y), axis=0) + 1e-8)  # (n/g, h, w, f, c/f)
        y = tf.reduce_mean(y, axis=(1, 2, 4))                      # (n/g, f)
        y = tf.tile(y, tf.stack([g, 1]))                           # sample i -> group i % (n/g)
        y = tf.broadcast_to(y[:, None, None, :], tf.stack([n, h, w, f]))
        return tf.concat([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + self.num_channels,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "num_channels": self.num_channels}


@keras.saving.register_keras_serializable(package="keras_gan")
class NormalizeSecondMoment(layers.Layer):
    """`x / sqrt(mean(x**2) + 1e-8)` over the last axis (the mapping network's input)."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)




def _keep_float32_inputs(layer):
    # Under a mixed policy Keras casts a layer's float inputs to float16 before
    # `call` (keras/src/layers/layer.py, `_convert_input_args`); z, w and the
    # styles stay float32 here, as in the official code, and each layer casts
    # its activations itself.
    layer._convert_input_args = False


class _SynthesisLayer(layers.Layer):
    """Modulated 3x3 conv (optionally after 2x upsampling), noise, bias, leaky ReLU."""

    def __init__(self, filters, resolution, up=False, conv_clamp=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.resolution, self.up, self.conv_clamp = filters, resolution, up, conv_clamp
        _keep_float32_inputs(self)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        cin = int(x_shape[-1])
        self.affine = EqualizedDense(cin, bias_init=1.0, dtype="float32", name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(shape=(3, 3, cin, self.filters), name="kernel",
                                      initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")
        self.noise_strength = self.add_weight(shape=(), name="noise_strength", initializer="zeros")
        self.noise_const = self.add_weight(
            shape=(self.resolution, self.resolution), name="noise_const", trainable=False,
            initializer=keras.initializers.RandomNormal(stddev=1.0))

    def call(self, x, w, noise_seed=None, fused=False):
        x = ops.cast(x, self.compute_dtype)
        styles = self.affine(w)
        if self.up:
            x = upsample2d(x)
        x = modulated_conv2d(x, self.kernel, styles, demodulate=True, fused=fused)
        if noise_seed is None:
            noise = self.noise_const[None, :, :, None]
        else:
            noise = _random.normal(tf.stack([tf.shape(x)[0], self.resolution, self.resolution, 1]), noise_seed)
        x = x + ops.cast(noise, x.dtype) * ops.cast(self.noise_strength, x.dtype) + ops.cast(self.bias, x.dtype)
        return _act(x, "lrelu", _SQRT2, self.conv_clamp)


class _ToRGB(layers.Layer):
    """Modulated 1x1 conv without demodulation, bias; float32 output (the image branch)."""

    def __init__(self, channels, conv_clamp=None, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.conv_clamp = channels, conv_clamp
        _keep_float32_inputs(self)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        cin = int(x_shape[-1])
        self.affine = EqualizedDense(cin, bias_init=1.0, dtype="float32", name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(shape=(1, 1, cin, self.channels), name="kernel",
                                      initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.bias = self.add_weight(shape=(self.channels,), name="bias", initializer="zeros")
        self.weight_gain = 1.0 / math.sqrt(cin)

    def call(self, x, w, fused=False):
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.kernel, styles, demodulate=False, fused=fused)
        x = ops.cast(x, "float32") + ops.cast(self.bias, "float32")
        return x if self.conv_clamp is None else ops.clip(x, -self.conv_clamp, self.conv_clamp)


def _resolution_channels(resolution, channel_base, channel_max):
    return {r: _channels(r, channel_base, channel_max)
            for r in (2 ** i for i in range(2, int(math.log2(resolution)) + 1))}


#: The layers here that run convolutions (XLA's CPU convolutions are slower
#: than TensorFlow's: `GAN.compile(jit_compile="auto")` keeps XLA off for them).
CONVOLUTIONS = (EqualizedConv2D, _SynthesisLayer, _ToRGB)


class StyleGAN2Synthesis(keras.Model):
    """The synthesis network: ws `(batch, num_ws, w_dim)` to images `(batch, R, R, C)`, float32.

    Built by `StyleGAN2Generator` (its `.synthesis`); call it with
    `noise_seed` (a stateless seed) for random per-pixel noise, None for
    the constant noise buffers.
    """

    def __init__(self, resolution, channels, w_dim, channel_base, channel_max, conv_clamp=None, **kwargs):
        super().__init__(**kwargs)
        _keep_float32_inputs(self)
        widths = _resolution_channels(resolution, channel_base, channel_max)
        self.resolutions = sorted(widths)
        self.w_dim = w_dim
        self.num_ws = 2 * len(self.resolutions)  # 1 conv at 4x4, 2 above, + the last toRGB
        self.const = self.add_weight(shape=(4, 4, widths[4]), name="const",
                                     initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.convs, self.torgbs = [], []
        cin = widths[4]
        for r in self.resolutions:
            if r > 4:
                conv0 = _SynthesisLayer(widths[r], r, up=True, conv_clamp=conv_clamp, name=f"b{r}_conv0")
                conv0.build(((None, r // 2, r // 2, cin), (None, w_dim)))
                self.convs.append(conv0)
            conv1 = _SynthesisLayer(widths[r], r, conv_clamp=conv_clamp, name=f"b{r}_conv1")
            conv1.build(((None, r, r, widths[r]), (None, w_dim)))
            self.convs.append(conv1)
            torgb = _ToRGB(channels, conv_clamp=conv_clamp, name=f"b{r}_torgb")
            torgb.build(((None, r, r, widths[r]), (None, w_dim)))
            self.torgbs.append(torgb)
            cin = widths[r]
        self.built = True

    def call(self, ws, noise_seed=None, fused=False):
        n = ops.shape(ws)[0]
        x = ops.broadcast_to(ops.cast(self.const, self.compute_dtype)[None], (n,) + tuple(self.const.shape))
        img = None
        conv, w_index = iter(self.convs), 0
        for i, r in enumerate(self.resolutions):
            # A block reads its convs' ws and, for toRGB, the next one (shared with the next block's conv0).
            for _ in range(1 if r == 4 else 2):
                layer = next(conv)
                seed = None if noise_seed is None else _random.fold_in(noise_seed, w_index)
                x = layer(x, ws[:, w_index], noise_seed=seed, fused=fused)
                w_index += 1
            y = self.torgbs[i](x, ws[:, w_index], fused=fused)
            img = y if img is None else upsample2d(img) + y
        return img


@keras.saving.register_keras_serializable(package="keras_gan")
class StyleGAN2Generator(SavesSeedStates, keras.Model):
    """StyleGAN2's generator: a mapping network z -> w and a synthesis network w -> image.

    Karras et al. 2020 (see the module docstring). Call it as `g(z)`:
    inference mode uses the constant per-pixel noise (the same z always
    gives the same image, as the official `generate.py` with
    `noise_mode='const'`), no style mixing and no `w_avg` update.
    `g(z, training=True)` draws random noise and, with probability
    `style_mixing_prob`, mixes the ws of a second latent vector from a random
    layer on (one cutoff for the batch, as the official loss does), and moves
    `w_avg` towards the batch's mean w.

    Build it with `stylegan2_generator(...)`.

    Attributes:
        mapping: the mapping network (a functional `keras.Model`, float32).
        synthesis: the synthesis network (`StyleGAN2Synthesis`).
        w_avg: the running mean of w (non-trainable, saved with the model).
        num_ws: how many ws the synthesis network reads.
    """

    def __init__(self, resolution=32, channels=3, latent_dim=512, w_dim=512, mapping_layers=8,
                 channel_base=16384, channel_max=512, lr_multiplier=0.01, w_avg_beta=0.995,
                 style_mixing_prob=0.9, conv_clamp=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _keep_float32_inputs(self)
        self.resolution = _check_resolution(resolution)
        self.channels = check_positive_int("channels", channels)
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.w_dim = check_positive_int("w_dim", w_dim)
        self.mapping_layers = check_positive_int("mapping_layers", mapping_layers)
        self.channel_base = check_positive_int("channel_base", channel_base)
        self.channel_max = check_positive_int("channel_max", channel_max)
        if channel_base // resolution < 1:
            raise ValueError(
                "Invalid value for argument `channel_base`: expected at least the resolution "
                f"({resolution}) so that every block has a channel. Received: channel_base={channel_base}"
            )
        self.lr_multiplier = float(lr_multiplier)
        if not self.lr_multiplier > 0:
            raise ValueError(
                "Invalid value for argument `lr_multiplier`: expected a positive float. "
                f"Received: lr_multiplier={lr_multiplier!r}")
        self.w_avg_beta = _check_probability("w_avg_beta", w_avg_beta)
        self.style_mixing_prob = _check_probability("style_mixing_prob", style_mixing_prob)
        if conv_clamp is None and keras.config.dtype_policy().compute_dtype == "float16":
            conv_clamp = 256.0  # the official code's clamp for its float16 layers
        self.conv_clamp = conv_clamp
        self.seed = seed

        z = keras.Input((latent_dim,), name="z")
        x = NormalizeSecondMoment(dtype="float32", name="normalize_z")(z)
        for i in range(mapping_layers):
            x = EqualizedDense(w_dim, lr_multiplier=self.lr_multiplier, activation="lrelu",
                               dtype="float32", name=f"fc{i}")(x)
        self.mapping = keras.Model(z, x, name="mapping")
        self.synthesis = StyleGAN2Synthesis(resolution, channels, w_dim, channel_base, channel_max,
                                            conv_clamp=conv_clamp, name="synthesis")
        self.num_ws = self.synthesis.num_ws
        self.w_avg = self.add_weight(shape=(w_dim,), name="w_avg", initializer="zeros", trainable=False,
                                     dtype="float32", aggregation="mean")
        self.seed_generator = keras.random.SeedGenerator(seed, name="stylegan2_seed")
        self.built = True

    @property
    def input_shape(self):
        """`(None, latent_dim)`, as a functional model's."""
        return (None, self.latent_dim)

    @property
    def output_shape(self):
        """`(None, resolution, resolution, channels)`, as a functional model's."""
        return (None, self.resolution, self.resolution, self.channels)

    def compute_ws(self, z, training=False, truncation=None):
        """The ws `(batch, num_ws, w_dim)` of latent vectors `z`, float32.

        Args:
            z: `(batch, latent_dim)`.
            training: update `w_avg` and apply style mixing.
            truncation: psi (a float, a scalar or a `(batch,)` tensor), or
                None for none: `w = w_avg + psi * (w - w_avg)`.

        Returns:
            A float32 tensor `(batch, num_ws, w_dim)`.
        """
        z = ops.cast(z, "float32")
        w = self.mapping(z)
        if training and self.w_avg_beta < 1.0:
            batch_mean = ops.mean(ops.stop_gradient(w), axis=0)
            self.w_avg.assign(batch_mean + self.w_avg_beta * (self.w_avg - batch_mean))
        ws = ops.repeat(w[:, None, :], self.num_ws, axis=1)
        if training and self.style_mixing_prob > 0:
            seed = _random.replica_seed(self.seed_generator)
            w2 = self.mapping(_random.normal(tf.shape(z), _random.fold_in(seed, 0)))
            cutoff = _random.uniform_int((1,), _random.fold_in(seed, 1), 1, self.num_ws)[0]
            mixed = _random.uniform((1,), _random.fold_in(seed, 2))[0] < self.style_mixing_prob
            cutoff = ops.where(mixed, cutoff, self.num_ws)
            later = ops.arange(self.num_ws) >= cutoff
            ws = ops.where(later[None, :, None], w2[:, None, :], ws)
        if truncation is not None:
            psi = ops.cast(truncation, "float32")
            psi = ops.reshape(psi, (-1, 1, 1)) if len(psi.shape) == 1 else psi
            ws = self.w_avg + psi * (ws - self.w_avg)
        return ws

    def synthesize(self, ws, training=False, noise_mode=None):
        """Images `(batch, R, R, C)` (float32) from ws.

        Args:
            ws: `(batch, num_ws, w_dim)`.
            training: training mode (random noise by default).
            noise_mode: `"const"` (the learned-strength constant noise),
                `"random"`, or None: random when training, else const.

        Returns:
            A float32 tensor.
        """
        if noise_mode is None:
            noise_mode = "random" if training else "const"
        if noise_mode not in ("const", "random"):
            raise ValueError(
                "Invalid value for argument `noise_mode`: expected 'const', 'random' or None. "
                f"Received: noise_mode={noise_mode!r}")
        seed = None
        if noise_mode == "random":
            seed = _random.fold_in(_random.replica_seed(self.seed_generator), 3)
        # The grouped convolution at inference, the shared one in training (as the official code).
        return self.synthesis(ws, noise_seed=seed, fused=not training)

    def call(self, z, training=False, truncation=None, noise_mode=None):
        """Images from latent vectors `z`.

        Args:
            z: `(batch, latent_dim)`.
            training: training mode (style mixing, random noise, `w_avg` update).
            truncation: psi (float or tensor) for the truncation trick, or None.
            noise_mode: `"const"`, `"random"` or None (random when training).

        Returns:
            float32 images `(batch, resolution, resolution, channels)`.
        """
        ws = self.compute_ws(z, training=training, truncation=truncation)
        return self.synthesize(ws, training=training, noise_mode=noise_mode)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.resolution, self.resolution, self.channels)

    def compute_output_spec(self, z, training=False, truncation=None, noise_mode=None):
        return keras.KerasTensor((z.shape[0], self.resolution, self.resolution, self.channels), "float32")

    def _seed_generators_by_name(self):
        return {"seed_state": self.seed_generator}

    def get_config(self):
        return {
            "name": self.name, "resolution": self.resolution, "channels": self.channels,
            "latent_dim": self.latent_dim, "w_dim": self.w_dim, "mapping_layers": self.mapping_layers,
            "channel_base": self.channel_base, "channel_max": self.channel_max,
            "lr_multiplier": self.lr_multiplier, "w_avg_beta": self.w_avg_beta,
            "style_mixing_prob": self.style_mixing_prob, "conv_clamp": self.conv_clamp, "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def stylegan2_generator(resolution=32, channels=3, latent_dim=512, w_dim=512, mapping_layers=8,
                        channel_base=16384, channel_max=512, lr_multiplier=0.01, w_avg_beta=0.995,
                        style_mixing_prob=0.9, conv_clamp=None, seed=None, name="stylegan2_generator"):
    """StyleGAN2's generator (Karras et al. 2020, config F; official `networks.Generator`).

    Args:
        resolution: output size, a power of two from 32 to 1024 (8 and 16
            are accepted for tests).
        channels: image channels (3 for RGB, 1 for grey).
        latent_dim: size of z.
        w_dim: size of w.
        mapping_layers: depth of the mapping network (8 in the paper).
        channel_base, channel_max: a block at resolution r has
            `min(channel_base // r, channel_max)` channels (the official
            defaults are 32768 and 512; 16384 below 512x512 in its "auto"
            config). Small values (e.g. 256 and 16) make a CPU-sized network.
        lr_multiplier: the mapping network's learning-rate multiplier (0.01).
        w_avg_beta: decay of the running mean of w (0.995).
        style_mixing_prob: probability of style mixing in training (0.9).
        conv_clamp: clamp of the convolutions' activations; None clamps at
            256 under a float16 policy only.
        seed: seed of G's `SeedGenerator` (style mixing and random noise).
        name: model name.

    Returns:
        A `StyleGAN2Generator` mapping `(batch, latent_dim)` to float32
        images `(batch, resolution, resolution, channels)` (not squashed:
        the official G has no output activation).

    Example:

    ```python
    g = keras_gan.networks.stylegan2_generator(32, channels=3, latent_dim=64, w_dim=64,
                                               channel_base=256, channel_max=16)
    images = g(tf.random.normal((4, 64)), truncation=0.7)
    ```
    """
    return StyleGAN2Generator(resolution, channels, latent_dim, w_dim, mapping_layers, channel_base,
                              channel_max, lr_multiplier, w_avg_beta, style_mixing_prob, conv_clamp,
                              seed, name=name)


def stylegan2_discriminator(resolution=32, channels=3, channel_base=16384, channel_max=512,
                            mbstd_group_size=4, mbstd_num_channels=1, conv_clamp=None,
                            name="stylegan2_discriminator"):
    """StyleGAN2's residual discriminator (official `networks.Discriminator`, "resnet").

    fromRGB (1x1) at full resolution, then per resolution r down to 8 a block
    of two 3x3 convolutions (the second downsampling) plus a downsampling
    1x1 skip, both branches scaled by sqrt(0.5); at 4x4, minibatch standard
    deviation, a 3x3 convolution, a fully connected layer and the logit.

    Args:
        resolution: input size, a power of two from 32 to 1024 (8 and 16
            accepted for tests).
        channels: image channels.
        channel_base, channel_max: widths as in `stylegan2_generator`.
        mbstd_group_size: minibatch standard deviation group size (4).
        mbstd_num_channels: its number of statistics channels (1).
        conv_clamp: as in `stylegan2_generator`.
        name: model name.

    Returns:
        A functional `keras.Model` mapping `(batch, resolution, resolution,
        channels)` to `(batch, 1)` float32 logits.

    Example:

    ```python
    d = keras_gan.networks.stylegan2_discriminator(32, channels=3, channel_base=256, channel_max=16)
    ```
    """
    _check_resolution(resolution)
    check_positive_int("channels", channels)
    check_positive_int("channel_base", channel_base)
    check_positive_int("channel_max", channel_max)
    if channel_base // resolution < 1:
        raise ValueError(
            "Invalid value for argument `channel_base`: expected at least the resolution "
            f"({resolution}) so that every block has a channel. Received: channel_base={channel_base}"
        )
    if conv_clamp is None and keras.config.dtype_policy().compute_dtype == "float16":
        conv_clamp = 256.0
    widths = _resolution_channels(resolution, channel_base, channel_max)
    x_in = keras.Input((resolution, resolution, channels), name="x")
    x = EqualizedConv2D(widths[resolution], 1, conv_clamp=conv_clamp, name="fromrgb")(x_in)
    r = resolution
    while r > 4:
        y = EqualizedConv2D(widths[r // 2], 1, down=2, activation="linear", use_bias=False,
                            gain=math.sqrt(0.5), name=f"b{r}_skip")(x)
        x = EqualizedConv2D(widths[r], 3, conv_clamp=conv_clamp, name=f"b{r}_conv0")(x)
        x = EqualizedConv2D(widths[r // 2], 3, down=2, gain=math.sqrt(0.5), conv_clamp=conv_clamp,
                            name=f"b{r}_conv1")(x)
        x = layers.Add(name=f"b{r}_add")([y, x])
        r //= 2
    x = MinibatchStd(mbstd_group_size, mbstd_num_channels, name="mbstd")(x)
    x = EqualizedConv2D(widths[4], 3, conv_clamp=conv_clamp, dtype="float32", name="b4_conv")(x)
    x = layers.Flatten(dtype="float32", name="flatten")(x)
    x = EqualizedDense(widths[4], activation="lrelu", dtype="float32", name="b4_fc")(x)
    x = EqualizedDense(1, dtype="float32", name="logits")(x)
    return keras.Model(x_in, x, name=name)
