"""Whether a model judges each sample of a batch on its own.

`GAN` runs D once on the real and the fake batch concatenated (the keras.io
pattern, one forward and one backward pass instead of two) only when that
cannot change what D computes: every operation of D must map each sample to
its output without looking at the other samples of the batch. BatchNorm in
training mode (batch statistics), minibatch features (`MinibatchStddev`,
`SquaredDeviationFromBatchMean`), packing inside D, Keras'
`SpectralNormalization` (it writes the kernel on every call) and any layer or
op not known here fail the test, and such a D judges the real and the fake
batch in two calls, as PyTorch's GAN loops do. `keras_gan.layers.SpectralNorm`
passes: one normalized kernel serves the whole batch.
"""

import keras

from keras_gan.components.spectral_norm import SpectralNorm

try:
    from keras.src.models.functional import Functional
except ImportError:  # pragma: no cover - a Keras that moved it: every D gets two calls
    Functional = None

L = keras.layers

# Exact types: a subclass may override `call` and mix samples.
_PER_SAMPLE_LAYERS = frozenset((
    L.InputLayer, L.Dense, L.EinsumDense, L.Embedding,
    L.Conv1D, L.Conv2D, L.Conv3D, L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose,
    L.DepthwiseConv1D, L.DepthwiseConv2D, L.SeparableConv1D, L.SeparableConv2D,
    L.Activation, L.LeakyReLU, L.ReLU, L.ELU, L.PReLU, L.Softmax,
    L.Flatten, L.Reshape, L.Permute, L.RepeatVector, L.Identity,
    # Per-element noise: one call draws other noise than two, from the same law.
    L.Dropout, L.SpatialDropout1D, L.SpatialDropout2D, L.SpatialDropout3D,
    L.GaussianNoise, L.GaussianDropout, L.AlphaDropout,
    L.LayerNormalization, L.GroupNormalization, L.UnitNormalization,
    L.Concatenate, L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum,
    L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D,
    L.Cropping1D, L.Cropping2D, L.Cropping3D,
    L.UpSampling1D, L.UpSampling2D, L.UpSampling3D,
    L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D,
    L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D,
    L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
    L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
    # One normalized kernel for the whole batch; one call on real and fake
    # runs one power iteration where two calls would run two.
    SpectralNorm,
))


def judges_each_sample_alone(model):
    """True when every output row of `model` depends on its own input row only.

    Only Functional and Sequential models are inspected (a subclassed model's
    `call` could do anything), operation by operation, nested models included;
    unknown layers and raw ops (e.g. `ops.mean` over the batch) count as
    mixing samples.

    Args:
        model: a `keras.Model`.

    Returns:
        bool.

    Example:

    ```python
    judges_each_sample_alone(keras_gan.networks.toy_discriminator(2))  # True
    ```
    """
    if type(model) is keras.Sequential:
        operations = model.layers
    elif Functional is not None and type(model) is Functional:
        operations = model.operations
    else:
        return False
    return all(
        judges_each_sample_alone(op) if isinstance(op, keras.Model) else type(op) in _PER_SAMPLE_LAYERS
        for op in operations
    )
