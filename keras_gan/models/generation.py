"""Sampling from a trained generator: `GAN.generate`, `GAN.generate_from_noise`."""

import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan._internal.validation import check_noise, check_positive_int, check_seed
from keras_gan.networks.stylegan2 import check_truncation


class GeneratesSamples:
    """Mixin of `GAN`: samples from `inference_generator` (the EMA copy of G when kept).

    The model provides `generator`, `latent_dim`, `num_classes` and `ema_generator`.
    """

    @property
    def inference_generator(self):
        """The generator used by `generate()`, sample grids and export.

        The EMA copy of G when the model keeps one (`ema_generator`), else G.
        """
        return getattr(self, "ema_generator", None) or self.generator

    def generate(self, n, seed=None, batch_size=1024, labels=None, truncation=None):
        """Generates `n` samples with G (the EMA copy when kept) in inference mode.

        Args:
            n: number of samples.
            seed: an int for reproducible samples (the same seed always gives
                the same samples); None for fresh noise.
            batch_size: samples per G call.
            labels: conditional GAN only: one int class for all samples, or
                `n` ints in `[0, num_classes)`; None cycles through the
                classes (`i % num_classes`).
            truncation: psi of the truncation trick, `w = w_avg + psi * (w - w_avg)`
                (generators with a mapping network only, e.g. StyleGAN2); None
                for none.

        Returns:
            A numpy array of shape `(n, *sample_shape)`.

        Example:

        ```python
        images = gan.generate(16, seed=0)
        typical = stylegan2_gan.generate(16, seed=0, truncation=0.7)
        sevens = conditional_gan.generate(16, labels=7, seed=0)
        ```
        """
        n = check_positive_int("n", n)
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        seed = check_seed("seed", seed)
        z = tf.random.stateless_normal((n, self.latent_dim), seed=[seed, 0])
        return self.generate_from_noise(z, batch_size=batch_size, labels=labels, truncation=truncation)

    def _check_labels(self, labels, n):
        """Labels for `n` samples as an int32 array, or None when unconditional."""
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    "Invalid value for argument `labels`: this GAN is not conditional "
                    f"(num_classes=None); expected None. Received: labels={labels!r}"
                )
            return None
        if labels is None:
            return np.arange(n, dtype="int32") % self.num_classes
        array = np.asarray(labels)
        if array.ndim == 0:
            array = np.full((n,), array)
        if (array.shape != (n,) or not np.issubdtype(array.dtype, np.integer)
                or array.min() < 0 or array.max() >= self.num_classes):
            raise ValueError(
                f"Invalid value for argument `labels`: expected one int or {n} ints in "
                f"[0, {self.num_classes}). Received: labels with shape {array.shape}, "
                f"dtype {array.dtype}" + (f", values {array.min()}..{array.max()}" if array.size else "")
            )
        return array.astype("int32")

    def generate_from_noise(self, z, batch_size=1024, labels=None, truncation=None):
        """Runs G in inference mode on noise `z` of shape `(n, latent_dim)`.

        `labels` and `truncation` as in `generate`.
        """
        truncation = check_truncation(truncation, self.inference_generator)
        kwargs = {} if truncation is None else {"truncation": truncation}
        z = ops.convert_to_tensor(check_noise(z, self.latent_dim))
        batch_size = check_positive_int("batch_size", batch_size)
        labels = self._check_labels(labels, z.shape[0])
        out = []
        for i in range(0, z.shape[0], batch_size):
            inputs = z[i: i + batch_size]
            if labels is not None:
                inputs = [inputs, ops.convert_to_tensor(labels[i: i + batch_size])]
            out.append(ops.convert_to_numpy(self.inference_generator(inputs, training=False, **kwargs)))
        return np.concatenate(out).astype("float32")
