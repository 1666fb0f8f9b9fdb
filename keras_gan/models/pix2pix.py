"""`keras_gan.Pix2Pix`: paired image-to-image translation (Isola et al. 2017).

G maps an input image to an output image (`keras_gan.networks.unet_generator`);
D is a conditional PatchGAN that judges `(input, output)` pairs
(`keras_gan.networks.pix2pix_discriminator`). One `train_step`:

- D phase: `(loss(D(x, y), real) + loss(D(x, G(x)), fake)) * 0.5` with
  `G(x)` detached: pix2pix's `backward_D`, i.e. the default loss
  `keras_gan.losses.NonSaturating(halve_d_loss=True)`.
- G phase, D frozen: `adversarial(D(x, G(x))) + l1_weight * mean|y - G(x)|`.

The L1 term alone gives blurry, averaged outputs where the target is
uncertain; the adversarial term penalises them (`benchmarks/image_to_image.py`
measures this).
"""

import keras

from keras_gan.components import losses as losses_module
from keras_gan._internal.fit_loop import after_the_batch
from keras_gan._internal.validation import check_float
from keras_gan.models.image_to_image import ImageToImageGAN, l1
from keras_gan.models.network_checks import check_model, image_shape


@keras.saving.register_keras_serializable(package="keras_gan")
class Pix2Pix(ImageToImageGAN):
    """pix2pix: a conditional GAN with an L1 term, trained by `fit` on (input, target) pairs.

    Args:
        generator: a built `keras.Model` from `(batch, H, W, C_in)` input
            images to `(batch, H, W, C_out)` images.
        discriminator: a built `keras.Model` with inputs `[input images,
            output images]` and logits out (a PatchGAN map or one per pair).
        l1_weight: weight of `mean|target - G(input)|` in G's loss (100 in
            pix2pix; 0 for a plain conditional GAN).
        seed: seed of the model's noise generator (saved with the model).

    Example:

    ```python
    import keras, keras_gan
    nets = keras_gan.networks
    model = keras_gan.Pix2Pix(nets.unet_generator((32, 32, 1), 1, filters=16),
                              nets.pix2pix_discriminator((32, 32, 1), (32, 32, 1), filters=16))
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    model.fit(keras_gan.data.paired_digits("edges", batch_size=32), epochs=2)
    digits, _ = keras_gan.data.digits_translation_samples("edges", 32)
    edges = model.translate(digits[:8])
    ```
    """

    default_loss = losses_module.NonSaturating(halve_d_loss=True)
    log_names = ("d_loss", "g_loss", "g_adversarial", "g_l1", "d_real", "d_fake")

    def __init__(self, generator, discriminator, l1_weight=100.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_model("generator", generator, inputs=1)
        check_model("discriminator", discriminator, inputs=2)
        g_in, g_out = image_shape(generator), image_shape(generator, "output")
        d_in = (image_shape(discriminator, index=0), image_shape(discriminator, index=1))
        if None not in (g_in, g_out) + d_in and (g_in, g_out) != d_in:
            raise ValueError(
                "Invalid value for argument `discriminator`: expected inputs [input images, output "
                f"images] of shapes {[g_in, g_out]} (the generator's input and output). "
                f"Received: a discriminator with inputs of shapes {list(d_in)}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = check_float("l1_weight", l1_weight, non_negative=True)
        # Every variable exists already (keras#20164).
        self.built = True

    @property
    def inference_generator(self):
        return self.generator

    def _d_step(self, inputs, targets):
        """D phase: real pairs `(x, y)` against detached fake pairs `(x, G(x))`."""
        fake = self.detached(self.generator, inputs)

        def loss(tape):
            real_logits = self.discriminator([inputs, targets], training=True)
            fake_logits = self.discriminator([inputs, fake], training=True)
            self.log("d_real", keras.ops.mean(keras.ops.cast(real_logits, "float32")))
            self.log("d_fake", keras.ops.mean(keras.ops.cast(fake_logits, "float32")))
            return self.gan_loss.discriminator_loss(real_logits, fake_logits)

        self.log("d_loss", self.d_update(loss))

    def generator_losses(self, inputs, targets, training=True):
        """G's two terms on a batch: `(adversarial, l1)`; G's loss is `adversarial + l1_weight * l1`.

        Args:
            inputs: input images `(batch, H, W, C_in)`.
            targets: target images `(batch, H, W, C_out)`.
            training: run G and D in training mode.

        Returns:
            Two float32 scalars.
        """
        fake = self.generator(inputs, training=training)
        adversarial = self._generator_adversarial_loss(self.discriminator, fake, targets, condition=inputs,
                                                       training=training)
        return adversarial, l1(targets, fake)

    def _g_step(self, inputs, targets):
        """G phase, D frozen: adversarial + `l1_weight` x L1 to the target."""
        def loss(tape):
            with self.frozen_discriminators():
                adversarial, l1_term = self.generator_losses(inputs, targets)
            self.log("g_adversarial", adversarial)
            self.log("g_l1", l1_term)
            return adversarial + self.l1_weight * l1_term

        self.log("g_loss", self.g_update(loss))

    @after_the_batch
    def test_step(self, data):
        inputs, targets = self._pairs(data)
        fake = self.generator(inputs, training=False)
        real_logits = self.discriminator([inputs, targets], training=False)
        fake_logits = self.discriminator([inputs, fake], training=False)
        adversarial = self.gan_loss.generator_loss(fake_logits, real_logits)
        self.log("d_loss", self.gan_loss.discriminator_loss(real_logits, fake_logits))
        self.log("g_loss", adversarial + self.l1_weight * l1(targets, fake))
        self.log("g_adversarial", adversarial)
        self.log("g_l1", l1(targets, fake))
        return self.logs()

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "l1_weight": self.l1_weight,
            "seed": self.seed,
        }
