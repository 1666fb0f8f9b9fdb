"""What `keras_gan.Pix2Pix` and `keras_gan.CycleGAN` share: one training-step design.

Both are `keras.Model`s trained by `fit`, whose `train_step` is the one of
`keras_gan.GAN`:

- D phase: fakes come from the generators in training mode *without*
  committing their BatchNorm statistics (`stateless_call`) and behind
  `stop_gradient` (PyTorch's `detach()`); gradients are taken over the
  discriminators' variables only, so the D phase changes no G variable.
- G phase: every discriminator gets `trainable = False` (restored after);
  gradients are taken over the generators' variables only. A frozen
  BatchNormalization layer runs in inference mode (KERAS3_GAN_NOTES:
  "Freezing D"), so a D with BatchNorm judges G's images with its moving
  statistics in this phase and does not update them. CycleGAN's networks
  use `norm="instance"` for that reason: with BatchNorm its digits demo
  stayed at the identity map (README, "Image-to-image").
- One `d_optimizer` for all discriminators and one `g_optimizer` for all
  generators (as the CycleGAN code does with chained parameters), both
  wrapped in a `LossScaleOptimizer` under `mixed_float16`, and the
  adversarial loss is a pluggable `keras_gan.losses.GANLoss`.

Loss scaling, the replica division of the loss and the 1-D-safe logs are
`keras_gan.GAN`'s own methods, shared here rather than copied.
"""


import numpy as np
import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal.fit_loop import FewerHostOpsPerStep
from keras_gan.data import images as images_module
from keras_gan.components import losses as losses_module
from keras_gan._internal.validation import validate_training_data
from keras_gan.models.gan import GAN, SavesSeedStates, _has_labels, _resolve_optimizers, layer_seed_generators


def check_model(name, model, inputs=1):
    """Raises a ValueError naming `name` unless `model` is a built keras.Model with `inputs` inputs."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"Invalid value for argument `{name}`: expected a keras.Model. Received: {name}={model!r}")
    if not model.built:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a built keras.Model (build it or give it "
            f"a keras.Input). Received: unbuilt model {model.name!r}"
        )
    count = len(getattr(model, "inputs", None) or ()) or None
    if count is not None and count != inputs:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a model with {inputs} input"
            f"{'s' if inputs > 1 else ''}. Received: a model with {count} inputs"
        )
    return model


def image_shape(model, which="input", index=0):
    """The `(H, W, C)` of a model's input `index` or output, or None when unknown."""
    try:
        shape = model.input_shape if which == "input" else model.output_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        shape = shape[index]
    return tuple(shape[1:])


def l1(a, b):
    """The mean absolute difference of two image batches, in float32."""
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


class ImageToImageGAN(SavesSeedStates, FewerHostOpsPerStep, keras.Model):
    """Base class of `Pix2Pix` and `CycleGAN`: compile, the two phases, saving.

    Subclasses set `default_loss`, build their trackers, and implement
    `train_step`, `generators`, `discriminators` and `inference_generator`.

    Args:
        seed: seed of the model's `keras.random.SeedGenerator` (its state is
            saved with the model).
    """

    #: The adversarial loss `compile` uses when given none.
    default_loss = None

    # keras_gan.GAN's own implementations: loss scaling with the replica
    # division, overflow agreement across replicas, 1-D-safe logs, seeds.
    _scale_for_gradient = GAN._scale_for_gradient
    _apply_gradients = GAN._apply_gradients
    _logs = GAN._logs
    _replica_seed = GAN._replica_seed

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.gan_loss = None

    @property
    def generators(self):
        """The generators, in a fixed order (their variables form G's optimizer's list)."""
        raise NotImplementedError

    @property
    def discriminators(self):
        """The discriminators, in a fixed order (their variables form D's optimizer's list)."""
        raise NotImplementedError

    @property
    def inference_generator(self):
        """The generator that `translate` runs and export ships (A to B)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ compile
    def compile(self, d_optimizer, g_optimizer, loss=None, **kwargs):
        """Configures both optimizers and the adversarial loss.

        Args:
            d_optimizer: the optimizer of every discriminator (instance, name
                or config).
            g_optimizer: the optimizer of every generator; a different object.
            loss: a loss name (`keras_gan.losses.names()`) or a
                `keras_gan.losses.GANLoss`; None for the model's default.
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`).
        """
        for bad in ("optimizer", "metrics", "loss_weights"):
            if bad in kwargs:
                raise ValueError(
                    f"Invalid argument `{bad}` for {type(self).__name__}.compile: use "
                    "`d_optimizer`, `g_optimizer` and `loss`."
                )
        self.gan_loss = losses_module.get(self.default_loss if loss is None else loss)
        self.d_optimizer, self.g_optimizer = _resolve_optimizers(
            d_optimizer, g_optimizer, *self.generators, *self.discriminators)
        # optimizer=None: a bare compile would create an unused optimizer.
        super().compile(optimizer=None, **kwargs)
        # Built now, in the caller's scope, on each side's own variables (keras#19246).
        self.d_optimizer.build(self._variables_of(self.discriminators))
        self.g_optimizer.build(self._variables_of(self.generators))

    def get_compile_config(self):
        if self.gan_loss is None:
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": keras.saving.serialize_keras_object(self.gan_loss),
        }

    def compile_from_config(self, config):
        # Rebuilding both optimizers here is what lets load_model restore
        # their state; the default would warn and drop it.
        self.compile(**{k: keras.saving.deserialize_keras_object(v) for k, v in config.items()})

    # ------------------------------------------------------------- the phases
    @staticmethod
    def _variables_of(models):
        return [v for m in models for v in m.trainable_variables]

    @staticmethod
    def _detached(generator, images):
        """G's images for the D phase: training mode, state updates discarded, no gradient."""
        fake, _ = generator.stateless_call(
            [v.value for v in generator.trainable_variables],
            [v.value for v in generator.non_trainable_variables],
            images,
            training=True,
        )
        return ops.stop_gradient(fake)

    def _d_update(self, loss_fn):
        """One update of every discriminator on `loss_fn()` (a scalar). Returns the loss."""
        variables = self._variables_of(self.discriminators)
        with tf.GradientTape() as tape:
            loss = loss_fn()
            scaled = self._scale_for_gradient(loss, self.d_optimizer)
        self._apply_gradients(self.d_optimizer, tape.gradient(scaled, variables), variables)
        return loss

    def _g_update(self, loss_fn):
        """One update of every generator on `loss_fn()` with every discriminator frozen."""
        variables = self._variables_of(self.generators)
        was_trainable = [d.trainable for d in self.discriminators]
        for d in self.discriminators:
            d.trainable = False
        try:
            with tf.GradientTape() as tape:
                loss = loss_fn()
                scaled = self._scale_for_gradient(loss, self.g_optimizer)
            grads = tape.gradient(scaled, variables)
        finally:
            for d, trainable in zip(self.discriminators, was_trainable):
                d.trainable = trainable
        self._apply_gradients(self.g_optimizer, grads, variables)
        return loss

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
        if self.gan_loss is None:
            raise RuntimeError(
                f"The {type(self).__name__} must be compiled before training: call "
                "`model.compile(d_optimizer=..., g_optimizer=...)`."
            )
        # `(x, y)` batches or a `y` beside `x`: what GAN checks for labels.
        if x is None or not _has_labels(x, y):
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
    def _seed_generators_by_name(self):
        # Saved with the weights (SavesSeedStates): the noise seed (the pool's
        # draws) and the networks' own, e.g. the U-Net's dropout.
        return {"noise_seed": self.seed_generator,
                **layer_seed_generators(*self.generators, *self.discriminators)}

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
