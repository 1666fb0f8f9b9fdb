"""`keras_gan.GAN`: a `keras.Model` whose `train_step` alternates D and G updates.

One call of `train_step` (one batch of `fit`) runs `d_steps` D updates and
then `g_steps` G updates:

- The batch of real samples is split into `d_steps` consecutive, disjoint
  slices (sizes differ by at most one); D update `i` sees slice `i`, so each
  of the k D updates sees different real samples. With `batch_size=64` and
  `d_steps=4`, D sees 16 real and 16 fake samples per update. G update `j`
  generates as many samples as slice `j % d_steps` holds.
- D phase: fakes come from fresh noise, outside D's gradient tape and behind
  `stop_gradient` (PyTorch's `detach()`), from G in training mode *without*
  committing G's BatchNorm statistics (`stateless_call`), so the D phase
  changes no G variable. Gradients are taken over D's variables only.
- G phase: `discriminator.trainable = False` (restored after), and G is
  trained through `gan.combined` (a `keras.Model`, G then D). Gradients are
  taken over G's variables only. A frozen BatchNormalization layer runs in
  inference mode (KERAS3_GAN_NOTES: "Freezing D"), so in the G phase a D with
  BatchNorm normalises with its moving statistics and does not update them.
"""

import numpy as np
import tensorflow as tf
import keras
from keras import ops

from keras_gan import losses as losses_module
from keras_gan._validation import check_positive_int, validate_training_data


def _sample_shape(model, which):
    """The per-sample shape of a model's single input or output, or None."""
    try:
        shape = model.input_shape if which == "input" else model.output_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        shape = shape[0] if len(shape) == 1 else None
    return None if shape is None else tuple(shape[1:])


def _stateless_normal(shape, seed):
    """N(0, 1) samples that are the same with and without XLA, on any device.

    `tf.random.stateless_normal` gives other numbers under `jit_compile=True`
    (XLA turns the random bits into floats its own way); the Philox bits agree
    everywhere, so this maps them to normals itself (Box-Muller).
    """
    bits = tf.random.stateless_uniform(
        tf.concat([[2], shape], 0), seed, minval=None, maxval=None, dtype=tf.uint32, alg="philox"
    )
    # 24 random bits per float, centred in their bin: u is in (0, 1), never 0.
    u = (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) * 2.0**-24
    return tf.sqrt(-2.0 * tf.math.log(u[0])) * tf.cos(2.0 * np.pi * u[1])


def _agree_on_overflow(grads):
    """Makes every replica's gradients non-finite when any replica's are.

    LossScaleOptimizer decides whether to skip a step from the first replica's
    local gradients only (keras 3.15 `_tf_apply`, merge_call path: CPUs, and
    GPUs without XLA): an overflow on another replica then reaches the
    weights as NaN through the gradient all-reduce.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return grads
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None])
    overflows = context.all_reduce(
        tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.float32)
    )
    poison = tf.where(overflows > 0, float("nan"), 0.0)
    return [None if g is None else g + tf.cast(poison, g.dtype) for g in grads]


def _uses_float16(*models):
    policies = [keras.mixed_precision.global_policy()] + [m.dtype_policy for m in models]
    return any(p.compute_dtype == "float16" for p in policies)


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(keras.Model):
    """A GAN trained by `fit()`: k D updates, then G updates through D.

    Args:
        generator: a built `keras.Model` from `(batch, latent_dim)` noise to
            samples.
        discriminator: a built `keras.Model` from samples to logits of shape
            `(batch, 1)` or a map of logits `(batch, ..., 1)` (PatchGAN).
        latent_dim: size of z. Read from the generator's input when None; if
            given, it must match it.
        seed: seed of the model's `keras.random.SeedGenerator`, the source of
            all training noise (its state is saved with the model).

    Example:

    ```python
    import keras, keras_gan
    gan = keras_gan.GAN(keras_gan.networks.toy_generator(4, 1),
                        keras_gan.networks.toy_discriminator(1))
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3),
                g_optimizer=keras.optimizers.Adam(1e-3),
                loss="non_saturating", d_steps=2)
    gan.fit(keras_gan.data.gaussian_1d(batch_size=128), epochs=5)
    samples = gan.generate(1000, seed=0)
    ```
    """

    def __init__(self, generator, discriminator, latent_dim=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        for arg, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, keras.Model):
                raise ValueError(
                    f"Invalid value for argument `{arg}`: expected a keras.Model. "
                    f"Received: {arg}={net!r}"
                )
            if not net.built:
                raise ValueError(
                    f"Invalid value for argument `{arg}`: expected a built keras.Model "
                    "(build it or give it a keras.Input). "
                    f"Received: unbuilt model {net.name!r}"
                )
        g_in = _sample_shape(generator, "input")
        if latent_dim is None:
            if not g_in or len(g_in) != 1 or g_in[0] is None:
                raise ValueError(
                    "Could not read `latent_dim` from the generator's input shape "
                    f"{g_in}: pass `latent_dim` explicitly."
                )
            latent_dim = g_in[0]
        latent_dim = check_positive_int("latent_dim", latent_dim)
        if g_in and len(g_in) == 1 and g_in[0] not in (None, latent_dim):
            raise ValueError(
                f"Invalid value for argument `latent_dim`: expected the generator's "
                f"input size {g_in[0]}. Received: latent_dim={latent_dim}"
            )
        g_out, d_in = _sample_shape(generator, "output"), _sample_shape(discriminator, "input")
        if g_out is not None and d_in is not None and g_out != d_in:
            raise ValueError(
                f"The generator's samples have shape {g_out} but the discriminator "
                f"expects inputs of shape {d_in}: they must match."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self._eval_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1, name="eval_noise_seed"
        )
        z = keras.Input((latent_dim,), name="z")
        self.combined = keras.Model(z, discriminator(generator(z)), name="combined")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.d_steps = 1
        self.g_steps = 1
        self.gan_loss = None
        # Every variable exists already: a strategy's symbolic build has
        # nothing to do (KERAS3_GAN_NOTES: "tf.distribute", keras#20164).
        self.built = True

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        d_optimizer,
        g_optimizer,
        loss="non_saturating",
        d_steps=1,
        g_steps=1,
        **kwargs,
    ):
        """Configures both optimizers, the adversarial loss and the update ratio.

        Args:
            d_optimizer: D's optimizer (instance, name or config).
            g_optimizer: G's optimizer; must be a different object.
            loss: a loss name (`keras_gan.losses.names()`) or a
                `keras_gan.losses.GANLoss`, e.g.
                `keras_gan.losses.NonSaturating(halve_d_loss=True)` for
                pix2pix's `(loss_real + loss_fake) * 0.5`.
            d_steps: D updates per batch (k); each sees its own slice of the
                batch.
            g_steps: G updates per batch, after the D updates.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`,
                `steps_per_execution`, `run_eagerly`).

        Under a `mixed_float16` policy both optimizers are wrapped in
        `keras.optimizers.LossScaleOptimizer` unless already wrapped.

        Example:

        ```python
        gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5),
                    keras.optimizers.Adam(2e-4, beta_1=0.5),
                    loss="non_saturating", d_steps=1)
        ```
        """
        for bad in ("optimizer", "metrics", "loss_weights"):
            if bad in kwargs:
                raise ValueError(
                    f"Invalid argument `{bad}` for GAN.compile: use `d_optimizer`, "
                    "`g_optimizer` and `loss`."
                )
        self.d_steps = check_positive_int("d_steps", d_steps)
        self.g_steps = check_positive_int("g_steps", g_steps)
        self.gan_loss = losses_module.get(loss)
        d_optimizer = keras.optimizers.get(d_optimizer)
        g_optimizer = keras.optimizers.get(g_optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError(
                "Invalid value for argument `g_optimizer`: expected an optimizer "
                "distinct from `d_optimizer` (each keeps its own state). "
                "Received the same object for both."
            )
        if _uses_float16(self.generator, self.discriminator):
            # compile(auto_scale_loss=True) would only wrap self.optimizer
            # (KERAS3_GAN_NOTES: "Mixed precision").
            d_optimizer, g_optimizer = (
                o if isinstance(o, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(o)
                for o in (d_optimizer, g_optimizer)
            )
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # optimizer=None: a bare compile would create an unused optimizer.
        super().compile(optimizer=None, **kwargs)
        # Build now, in the caller's strategy scope, on each network's own
        # variables (keras#19246; an optimizer accepts only what it was built with).
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        if self.gan_loss is None:
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": keras.saving.serialize_keras_object(self.gan_loss),
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
        }

    def compile_from_config(self, config):
        # Rebuilding both optimizers here is what lets load_model restore
        # their state; the default would warn and drop it.
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer", "loss"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    # -------------------------------------------------------------------- noise
    def sample_noise(self, n, seed_generator=None):
        """Draws `n` latent vectors from N(0, I) using the model's seed generator.

        Each replica under `tf.distribute` folds its replica id into the seed,
        so replicas draw different noise (a SeedGenerator alone gives every
        replica the same z: KERAS3_GAN_NOTES, keras#20611).
        """
        seed = (seed_generator or self.seed_generator).next()
        replica_id = tf.distribute.get_replica_context()
        replica_id = 0 if replica_id is None else replica_id.replica_id_in_sync_group
        seed = tf.random.experimental.stateless_fold_in(seed, replica_id)
        return _stateless_normal(tf.stack([n, self.latent_dim]), seed)

    # --------------------------------------------------------------- train step
    def _real_samples(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, "float32")
        return tf.debugging.assert_all_finite(
            x, "Invalid data `x`: it contains NaN or Inf values."
        )

    def _scale_for_gradient(self, loss, optimizer):
        # Gradients are summed over replicas; the loss is a local mean, so
        # divide by the replica count (KERAS3_GAN_NOTES: "tf.distribute").
        loss = loss / tf.distribute.get_strategy().num_replicas_in_sync
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            loss = optimizer.scale_loss(loss)
        return loss

    def _apply_gradients(self, optimizer, grads, variables):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            grads = _agree_on_overflow(grads)
        optimizer.apply_gradients(zip(grads, variables))

    def _fakes_for_discriminator(self, n):
        z = self.sample_noise(n)
        g = self.generator
        # Training-mode G whose state updates (BatchNorm statistics) are
        # discarded, and stop_gradient as PyTorch's detach().
        fake, _ = g.stateless_call(
            [v.value for v in g.trainable_variables],
            [v.value for v in g.non_trainable_variables],
            z,
            training=True,
        )
        return ops.stop_gradient(fake)

    def _d_step(self, real):
        """One D update on `real` and as many fresh fakes; returns the D loss."""
        fake = self._fakes_for_discriminator(ops.shape(real)[0])
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            loss = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            scaled = self._scale_for_gradient(loss, self.d_optimizer)
        grads = tape.gradient(scaled, d_vars)
        self._apply_gradients(self.d_optimizer, grads, d_vars)
        self.d_loss_tracker.update_state(loss)
        self.d_real_tracker.update_state(ops.mean(ops.cast(real_logits, "float32")))
        self.d_fake_tracker.update_state(ops.mean(ops.cast(fake_logits, "float32")))
        return loss

    def _g_step(self, real):
        """One G update through `combined` with D frozen; returns the G loss."""
        z = self.sample_noise(ops.shape(real)[0])
        g_vars = self.generator.trainable_variables
        was_trainable = self.discriminator.trainable
        self.discriminator.trainable = False
        try:
            with tf.GradientTape() as tape:
                fake_logits = self.combined(z, training=True)
                real_logits = None
                if self.gan_loss.needs_real_logits_for_g:
                    real_logits = self.discriminator(real, training=True)
                loss = self.gan_loss.generator_loss(fake_logits, real_logits)
                scaled = self._scale_for_gradient(loss, self.g_optimizer)
            grads = tape.gradient(scaled, g_vars)
        finally:
            self.discriminator.trainable = was_trainable
        self._apply_gradients(self.g_optimizer, grads, g_vars)
        self.g_loss_tracker.update_state(loss)
        return loss

    def _slices(self, real):
        """Splits the batch into `d_steps` consecutive disjoint slices.

        A batch smaller than `d_steps` (the ragged last batch of an epoch)
        wraps around, so no slice is ever empty.
        """
        n = ops.shape(real)[0]
        bounds = [(i * n) // self.d_steps for i in range(self.d_steps + 1)]
        slices = []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            index = tf.range(start, start + tf.maximum(stop - start, 1)) % n
            slices.append(tf.gather(real, index))
        return slices

    def train_step(self, data):
        slices = self._slices(self._real_samples(data))
        for real in slices:
            self._d_step(real)
        for j in range(self.g_steps):
            self._g_step(slices[j % self.d_steps])
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        real = self._real_samples(data)
        z = self.sample_noise(ops.shape(real)[0], self._eval_seed_generator)
        fake = self.generator(z, training=False)
        real_logits = self.discriminator(real, training=False)
        fake_logits = self.discriminator(fake, training=False)
        self.d_loss_tracker.update_state(self.gan_loss.discriminator_loss(real_logits, fake_logits))
        self.g_loss_tracker.update_state(self.gan_loss.generator_loss(fake_logits, real_logits))
        self.d_real_tracker.update_state(ops.mean(ops.cast(real_logits, "float32")))
        self.d_fake_tracker.update_state(ops.mean(ops.cast(fake_logits, "float32")))
        return {m.name: m.result() for m in self.metrics}

    @property
    def inference_generator(self):
        """The generator used by `generate()`, sample grids and export.

        The EMA copy of G when the model keeps one (`ema_generator`), else G.
        """
        return getattr(self, "ema_generator", None) or self.generator

    def call(self, z, training=False):
        """Runs the generator: `gan(z)` is `gan.generator(z)`."""
        return self.generator(z, training=training)

    # ---------------------------------------------------------------- fit & co
    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.fit` after checking the data against D's input.

        Accepts numpy arrays (`batch_size` defaults to 32) and `tf.data`
        datasets of `x` or `(x, y)`; `y` is ignored by the unconditional GAN.
        """
        self._check_compiled()
        validate_training_data(
            x, _sample_shape(self.discriminator, "input"), self.d_steps, batch_size
        )
        # A dataset brings its own shuffling; Keras warns if asked to shuffle it.
        kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        return super().fit(x, y, batch_size=batch_size, **kwargs)

    def _check_compiled(self):
        if self.gan_loss is None:
            raise RuntimeError(
                "The GAN must be compiled before training: call "
                "`gan.compile(d_optimizer=..., g_optimizer=...)`."
            )

    def generate(self, n, seed=None, batch_size=1024):
        """Generates `n` samples with G in inference mode.

        Args:
            n: number of samples.
            seed: an int for reproducible samples (the same seed always gives
                the same samples); None for fresh noise.
            batch_size: samples per G call.

        Returns:
            A numpy array of shape `(n, *sample_shape)`.

        Example:

        ```python
        images = gan.generate(16, seed=0)
        ```
        """
        n = check_positive_int("n", n)
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        z = tf.random.stateless_normal((n, self.latent_dim), seed=[int(seed), 0])
        return self.generate_from_noise(z, batch_size=batch_size)

    def generate_from_noise(self, z, batch_size=1024):
        """Runs G in inference mode on noise `z` of shape `(n, latent_dim)`."""
        z = ops.convert_to_tensor(z, "float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(
                f"Invalid value for argument `z`: expected shape (n, {self.latent_dim}). "
                f"Received: z with shape {tuple(z.shape)}"
            )
        out = [
            ops.convert_to_numpy(self.inference_generator(z[i: i + batch_size], training=False))
            for i in range(0, z.shape[0], batch_size)
        ]
        return np.concatenate(out).astype("float32")

    # -------------------------------------------------------------- serialising
    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
