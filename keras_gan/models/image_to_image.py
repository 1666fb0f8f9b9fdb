"""What `keras_gan.Pix2Pix` and `keras_gan.CycleGAN` share on top of the adversarial base.

Both train by `fit` on pairs of image batches, `(input, target)` or `(A, B)`,
with the step of `keras_gan.models.adversarial`: fakes for the D phase
detached, the G phase with every discriminator frozen, one `d_optimizer` for
all discriminators and one `g_optimizer` for all generators (as the CycleGAN
code does with chained parameters), and a pluggable adversarial loss. A
frozen BatchNormalization layer runs in inference mode (docs/design.md,
"Freezing D"), so a D with BatchNorm judges G's images with its moving
statistics in the G phase: CycleGAN's networks use `norm="instance"`.
"""


import numpy as np
import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal.fit_loop import after_the_batch
from keras_gan._internal.validation import validate_training_data
from keras_gan.data import images as images_module
from keras_gan.models.adversarial import AdversarialModel
from keras_gan.models.batches import has_labels
from keras_gan.models.network_checks import image_shape


def l1(a, b):
    """The mean absolute difference of two image batches, in float32."""
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


class ImageToImageGAN(AdversarialModel):
    """Base class of `Pix2Pix` and `CycleGAN`: paired batches, `translate`, saving.

    Subclasses set `default_loss` and `log_names`, their networks
    (`generators`, `discriminators`, `inference_generator`) and the two
    phases, `_d_step(a, b)` and `_g_step(a, b)`, on a batch of pairs.

    Args:
        seed: seed of the model's `keras.random.SeedGenerator` (its state is
            saved with the model).
    """

    @property
    def inference_generator(self):
        """The generator that `translate` runs and export ships (A to B)."""
        raise NotImplementedError

    @after_the_batch
    def train_step(self, data):
        a, b = self._pairs(data)
        with self.collecting_logs():
            self._d_step(a, b)
            self._g_step(a, b)
        return self.logs()

    def _generator_adversarial_loss(self, discriminator, fake, real, condition=None, training=True):
        """G's adversarial loss on D's view of `fake` (D's view of `real` if the loss needs it)."""
        judge = (lambda x: discriminator(x, training=training)) if condition is None else (
            lambda x: discriminator([condition, x], training=training))
        real_logits = judge(real) if self.gan_loss.needs_real_logits_for_g else None
        return self.gan_loss.generator_loss(judge(fake), real_logits)

    @staticmethod
    def _pairs(data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError(
                "Invalid data: expected (input, target) pairs, or two zipped datasets (A, B). "
                "Received: batches without a second element"
            )
        return tuple(
            tf.debugging.assert_all_finite(ops.cast(t, "float32"), f"Invalid data `{name}`: it contains NaN or Inf values.")
            for name, t in (("x", x), ("y", y))
        )

    # ---------------------------------------------------------------- fit & co
    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.fit` on `(input, target)` or `(A, B)` batches, after checks."""
        self._check_compiled()
        # `(x, y)` batches or a `y` beside `x`: what GAN checks for labels.
        if x is None or not has_labels(x, y):
            raise ValueError(
                "Invalid data `x`: expected a tf.data.Dataset of (input, target) or (A, B) "
                "batches, or `fit(x=inputs, y=targets)`. Received: "
                f"x of type {type(x).__name__} and y={'None' if y is None else type(y).__name__}"
            )
        # x holds G's inputs (A images), the shape of D's (first) input too.
        validate_training_data(x, image_shape(self.inference_generator), 1, batch_size)
        kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        return super().fit(x, y, batch_size=batch_size, **kwargs)

    def translate(self, images, batch_size=64):
        """Runs `inference_generator` in inference mode on a batch of images.

        Args:
            images: float array `(n, H, W, C)` in [-1, 1].
            batch_size: images per call.

        Returns:
            A float32 numpy array of the translated images.

        Example:

        ```python
        outputs = model.translate(inputs[:16])
        ```
        """
        return self._run(self.inference_generator, images, batch_size)

    @staticmethod
    def _run(generator, images, batch_size):
        images = np.asarray(images, "float32")
        expected = image_shape(generator)
        if images.ndim != 4 or (expected and images.shape[1:] != expected):
            raise ValueError(
                f"Invalid value for argument `images`: expected shape (n, {', '.join(map(str, expected or ('H', 'W', 'C')))}). "
                f"Received: images with shape {images.shape}"
            )
        out = [
            ops.convert_to_numpy(generator(images[i: i + batch_size], training=False))
            for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(out).astype("float32")

    def call(self, images, training=False):
        """`model(images)` is `model.inference_generator(images)`."""
        return self.inference_generator(images, training=training)

    # -------------------------------------------------------------- serialising
    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key, value in config.items():
            if isinstance(value, dict) and "class_name" in value:
                config[key] = keras.saving.deserialize_keras_object(value)
        return cls(**config)


def save_translation_grid(inputs, outputs, targets, path):
    """Writes a PNG grid with one row per example: input | output | target.

    Single-channel images are shown in grey beside colour ones. Images are in
    [-1, 1]; `targets` may be None (unpaired data): the row is then input |
    output.

    Args:
        inputs: `(n, H, W, C_in)` input images.
        outputs: `(n, H, W, C_out)` generated images.
        targets: `(n, H, W, C_out)` target images, or None.
        path: the PNG file to write (atomically).

    Returns:
        `path`.

    Example:

    ```python
    keras_gan.image_to_image.save_translation_grid(x[:8], model.translate(x[:8]), y[:8], "grid.png")
    ```
    """
    columns = [np.asarray(a, "float32") for a in (inputs, outputs, targets) if a is not None]
    channels = max(c.shape[-1] for c in columns)
    columns = [np.repeat(c, channels, axis=-1) if c.shape[-1] == 1 else c for c in columns]
    rows = np.stack(columns, axis=1).reshape((-1,) + columns[0].shape[1:])
    return images_module.save_grid(rows, path, cols=len(columns))
