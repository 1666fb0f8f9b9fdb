"""`keras_gan.CycleGAN`: unpaired image-to-image translation (Zhu et al. 2017).

Two generators, `generator_ab` (A to B) and `generator_ba` (B to A), and two
PatchGAN discriminators, `discriminator_a` (real A images against
`generator_ba`'s) and `discriminator_b` (real B against `generator_ab`'s).
One `train_step` on a batch `(a, b)` of unpaired images:

- D phase: each D on its real images against detached fakes drawn through
  its `ImagePool` (history of 50), LSGAN with CycleGAN's 0.5 factor by
  default (`keras_gan.losses.LeastSquares(halve_d_loss=True)`).
- G phase, both Ds frozen: adversarial terms of both generators
  + `cycle_weight` x (`|G_BA(G_AB(a)) - a|` + `|G_AB(G_BA(b)) - b|`)
  + `identity_weight` x (`|G_AB(b) - b|` + `|G_BA(a) - a|`), L1 means.
"""

import keras

from keras_gan.components import losses as losses_module
from keras_gan._internal.validation import check_float, check_non_negative_int, check_positive_int
from keras_gan.models.image_to_image import ImageToImageGAN, l1
from keras_gan.models.network_checks import check_model, image_shape
from keras_gan.components.pool import ImagePool


@keras.saving.register_keras_serializable(package="keras_gan")
class CycleGAN(ImageToImageGAN):
    """CycleGAN, trained by `fit` on `(a, b)` batches of two zipped unpaired datasets.

    Args:
        generator_ab: a built `keras.Model` from A images to B images.
        generator_ba: a built `keras.Model` from B images to A images.
        discriminator_a: a built `keras.Model` from A images to logits
            (e.g. `keras_gan.networks.patchgan_discriminator`). Use
            `norm="instance"` networks, as the paper: a frozen BatchNorm D
            judges G in inference mode in the G phase (docs/design.md,
            "Freezing D"), and the digits demo then does not learn.
        discriminator_b: the same for B images.
        cycle_weight: weight of the cycle-consistency L1 terms (10).
        identity_weight: weight of the identity L1 terms; None for
            `0.5 * cycle_weight`. Needs A and B images of the same shape;
            pass 0 otherwise.
        pool_size: images in each D's history pool (50); 0 for none. Under
            a `tf.distribute` strategy the pool holds the global batch's
            fakes, as on one device (`keras_gan.pool.ImagePool`).
        seed: seed of the model's noise generator (the pool's draws).

    Example:

    ```python
    import keras, keras_gan
    nets = keras_gan.networks
    shape = (32, 32, 1)
    g = lambda: nets.unet_generator(shape, 1, filters=16, depth=4, norm="instance")
    d = lambda: nets.patchgan_discriminator(shape, filters=16, norm="instance")
    model = keras_gan.CycleGAN(g(), g(), d(), d())
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    model.fit(keras_gan.data.unpaired_digits("edges", batch_size=16), epochs=2)
    ```
    """

    default_loss = losses_module.LeastSquares(halve_d_loss=True)
    log_names = ("d_loss", "g_loss", "d_a_loss", "d_b_loss", "g_adversarial", "g_cycle", "g_identity")

    def __init__(self, generator_ab, generator_ba, discriminator_a, discriminator_b, cycle_weight=10.0,
                 identity_weight=None, pool_size=50, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        for name, model in (("generator_ab", generator_ab), ("generator_ba", generator_ba),
                            ("discriminator_a", discriminator_a), ("discriminator_b", discriminator_b)):
            check_model(name, model, inputs=1)
        shape_a, shape_b = image_shape(generator_ab), image_shape(generator_ba)
        for name, model, which, expected in (
            ("generator_ab", generator_ab, "output", shape_b),
            ("generator_ba", generator_ba, "output", shape_a),
            ("discriminator_a", discriminator_a, "input", shape_a),
            ("discriminator_b", discriminator_b, "input", shape_b),
        ):
            received = image_shape(model, which)
            if None not in (received, expected) and received != expected:
                raise ValueError(
                    f"Invalid value for argument `{name}`: expected {which} images of shape "
                    f"{expected}. Received: a model with {which} shape {received}"
                )
        self.cycle_weight = check_float("cycle_weight", cycle_weight, non_negative=True)
        explicit_identity = identity_weight is not None
        self.identity_weight = check_float(
            "identity_weight", 0.5 * self.cycle_weight if identity_weight is None else identity_weight,
            non_negative=True,
        )
        if self.identity_weight and None not in (shape_a, shape_b) and shape_a != shape_b:
            raise ValueError(
                "Invalid value for argument `identity_weight`: the identity terms G_AB(b) ~ b need "
                f"A and B images of the same shape, here {shape_a} and {shape_b}; expected 0. "
                f"Received: identity_weight={identity_weight if explicit_identity else 'None (0.5 x cycle_weight)'}"
            )
        self.pool_size = check_non_negative_int("pool_size", pool_size)
        self.generator_ab, self.generator_ba = generator_ab, generator_ba
        self.discriminator_a, self.discriminator_b = discriminator_a, discriminator_b
        self.pool_a = self.pool_b = None
        if pool_size:
            self.pool_a = ImagePool(check_positive_int("pool_size", pool_size), shape_a, name="pool_a")
            self.pool_b = ImagePool(pool_size, shape_b, name="pool_b")
        self.built = True

    @property
    def generators(self):
        return [self.generator_ab, self.generator_ba]

    @property
    def discriminators(self):
        return [self.discriminator_a, self.discriminator_b]

    @property
    def inference_generator(self):
        return self.generator_ab

    def _history(self, pool, fake):
        # The same seed on every replica: the pool runs on the gathered global batch.
        return fake if pool is None else pool(fake, self.seed_generator.next())

    def _d_step(self, real_a, real_b):
        """D phase: each D on real images against pooled, detached fakes."""
        fake_b = self._history(self.pool_b, self.detached(self.generator_ab, real_a))
        fake_a = self._history(self.pool_a, self.detached(self.generator_ba, real_b))

        def loss(tape):
            d_a, d_b = self.discriminator_a, self.discriminator_b
            loss_a = self.gan_loss.discriminator_loss(d_a(real_a, training=True), d_a(fake_a, training=True))
            loss_b = self.gan_loss.discriminator_loss(d_b(real_b, training=True), d_b(fake_b, training=True))
            self.log("d_a_loss", loss_a)
            self.log("d_b_loss", loss_b)
            return loss_a + loss_b

        self.log("d_loss", self.d_update(loss))

    def generator_losses(self, real_a, real_b, training=True):
        """The generators' terms on a batch: `(adversarial, cycle, identity)`.

        G's loss is `adversarial + cycle_weight * cycle + identity_weight *
        identity`; each term sums the A and B directions (identity is 0.0
        when `identity_weight` is 0).

        Returns:
            Three float32 scalars.
        """
        g_ab, g_ba = self.generator_ab, self.generator_ba
        fake_b, fake_a = g_ab(real_a, training=training), g_ba(real_b, training=training)
        adversarial = (self._generator_adversarial_loss(self.discriminator_b, fake_b, real_b, training=training)
                       + self._generator_adversarial_loss(self.discriminator_a, fake_a, real_a, training=training))
        cycle = l1(g_ba(fake_b, training=training), real_a) + l1(g_ab(fake_a, training=training), real_b)
        identity = 0.0
        if self.identity_weight:
            identity = l1(g_ab(real_b, training=training), real_b) + l1(g_ba(real_a, training=training), real_a)
        return adversarial, cycle, identity

    def _g_step(self, real_a, real_b):
        """G phase, both Ds frozen: adversarial + cycle + identity terms."""
        def loss(tape):
            with self.frozen_discriminators():
                adversarial, cycle, identity = self.generator_losses(real_a, real_b)
            for name, value in (("g_adversarial", adversarial), ("g_cycle", cycle), ("g_identity", identity)):
                self.log(name, value)
            return adversarial + self.cycle_weight * cycle + self.identity_weight * identity

        self.log("g_loss", self.g_update(loss))

    def translate_ba(self, images, batch_size=64):
        """Runs `generator_ba` (B to A) in inference mode: see `translate` (A to B)."""
        return self._run(self.generator_ba, images, batch_size)

    def get_config(self):
        return {
            "name": self.name,
            "generator_ab": keras.saving.serialize_keras_object(self.generator_ab),
            "generator_ba": keras.saving.serialize_keras_object(self.generator_ba),
            "discriminator_a": keras.saving.serialize_keras_object(self.discriminator_a),
            "discriminator_b": keras.saving.serialize_keras_object(self.discriminator_b),
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_size,
            "seed": self.seed,
        }

