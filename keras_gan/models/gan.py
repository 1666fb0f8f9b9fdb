"""`keras_gan.GAN`: a `keras.Model` whose `train_step` alternates D and G updates.

One call of `train_step` (one batch of `fit`) runs `d_steps` D updates and
then `g_steps` G updates:

- The batch of real samples is split into `d_steps` consecutive, disjoint
  slices (sizes differ by at most one); D update `i` sees slice `i`. With
  `batch_size=64` and `d_steps=4`, D sees 16 real and 16 fake samples per
  update. G update `j` generates as many samples as slice `j % d_steps` holds.
- D phase (`_d_step`): fakes from fresh noise, detached (`detached`: training
  mode, G's BatchNorm statistics not committed, PyTorch's `detach()`), D's
  adversarial loss plus the D-side terms (gradient penalties), gradients over
  D's variables only.
- G phase (`_g_step`): with D frozen (`frozen_discriminators`), G trains
  through `gan.combined` (a `keras.Model`, G then D) on the adversarial loss
  plus the G-side terms (feature matching, InfoGAN), gradients over G's
  variables (and Q's) only; then the EMA copy of G moves. A frozen
  BatchNormalization layer runs in inference mode (docs/design.md,
  "Freezing D").
- What D sees, in both phases: samples augmented (`augment`), then packed
  (`pack`, PacGAN); the G phase sees what D sees in its phase.
- `compile(reuse_fakes=True)`: the last D update and the first G update share
  one G forward pass on the same noise (PyTorch's `gen_imgs.detach()` loop).
- Conditional GAN (`num_classes`): data is `(x, y)`; G takes `[z, label]`,
  D takes `[x, label]`, and each fake gets the label of its real slice.
- Warm-up (`warmup_g_steps`, `warmup_d_steps`): `keras_gan.models.warmup`.
"""

import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import keras_private
from keras_gan._internal import random as _random
from keras_gan._internal.fit_loop import after_the_batch
from keras_gan._internal.per_sample import judges_each_sample_alone
from keras_gan._internal.validation import (
    InvalidDataError, check_bool, check_float, check_non_negative_int, check_positive_int, validate_training_data,
    validate_values,
)
from keras_gan.components import ada
from keras_gan.components import augment as augment_module
from keras_gan.components import codes as codes_module
from keras_gan.components import penalties as penalties_module
from keras_gan.components import terms as terms_module
from keras_gan.components.ema import EMATerm, check_ema_decay, ema_copy
from keras_gan.components.feature_matching import FeatureMatchingTerm, with_features
from keras_gan.components.layers import PackSamples
from keras_gan.models import batches
from keras_gan.models.adversarial import AdversarialModel
from keras_gan.models.generation import GeneratesSamples
from keras_gan.models.network_checks import check_gan_networks
from keras_gan.models.warmup import UpdateSchedule, scheduled_phase
from keras_gan.models.xla import auto_jit_compile


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(GeneratesSamples, AdversarialModel):
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
        num_classes: makes a class-conditional GAN: G takes `[z, label]`
            and D takes `[x, label]` (labels int32 of shape `(batch,)`, see
            `keras_gan.networks.conditional_generator`), and `fit` needs
            `(x, y)` data. None for an unconditional GAN.
        ema_decay: keep `gan.ema_generator`, an exponential moving average
            of G's weights (`keras_gan.ema`) used by `generate()`, sample
            grids and export. E.g. 0.999; None for no EMA.
        ema_warmup: ramp the EMA's decay up as StyleGAN does,
            `min(ema_decay, (1 + t) / (10 + t))` for G update `t`, so a short
            run's EMA copy is not stuck near the initial G.
        pack: PacGAN packing: D judges `pack` samples at once, concatenated
            along the last axis, so D takes `pack` times G's channels
            (`keras_gan.networks.packed_discriminator`). 1 for no packing.
        augment: differentiable augmentation of everything D sees, in both
            phases: a policy such as `"translation,cutout,color"` or a layer
            (`keras_gan.augment.DiffAugment`). None for none.
        code_classifier: InfoGAN's Q for a G that starts from
            `keras_gan.codes.CategoricalCode(categories)`: a built model from
            one of G's samples to `(batch, categories)` logits. Each G update
            adds `info_weight` times Q's cross-entropy on the fakes' codes to
            G's loss and trains Q on it too (`keras_gan.codes`); logged as
            `info_loss`. Unconditional GANs only. None for none.
        info_weight: the weight of that term (>= 0; InfoGAN uses 1.0).

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

    Conditional, with stabilisers:

    ```python
    nets = keras_gan.networks
    gan = keras_gan.GAN(nets.conditional_generator("dcgan", 64, (8, 8, 1), 10),
                        nets.conditional_discriminator("dcgan", (8, 8, 1), 10),
                        num_classes=10, ema_decay=0.999, augment="translation,color")
    gan.compile("adam", "adam", penalties=[keras_gan.penalties.R1(1.0)])
    gan.fit(keras_gan.data.digits(), epochs=5)
    sevens = gan.generate(16, labels=7, seed=0)
    ```
    """

    # `compile(loss=None)` is refused (the signature's default names the loss).
    default_loss = None
    log_names = ("d_loss", "g_loss", "d_real", "d_fake", "d_penalty", "info_loss", "feature_matching", "augment_p")

    def __init__(self, generator, discriminator, latent_dim=None, seed=None,
                 num_classes=None, ema_decay=None, pack=1, augment=None, ema_warmup=True,
                 code_classifier=None, info_weight=1.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.num_classes = None if num_classes is None else check_positive_int("num_classes", num_classes)
        self.pack = check_positive_int("pack", pack)
        self.latent_dim, self._data_shape = check_gan_networks(
            generator, discriminator, self.num_classes, self.pack, latent_dim)
        self.ema_decay = check_ema_decay(ema_decay)
        self.ema_warmup = check_bool("ema_warmup", ema_warmup)
        self.augment = augment_module.get(augment)
        self.code_categories = None
        if code_classifier is not None:
            if self.num_classes is not None:
                raise ValueError(
                    "Invalid value for argument `code_classifier`: InfoGAN codes are supported by "
                    f"unconditional GANs only; expected None with num_classes={self.num_classes}. "
                    f"Received: code_classifier={code_classifier.name!r}"
                )
            self.code_categories = codes_module.check_code_classifier(
                code_classifier, generator, self._data_shape)
        self.code_classifier = code_classifier
        self.info_weight = check_float("info_weight", info_weight, non_negative=True)
        self.generator = generator
        self.discriminator = discriminator
        self._eval_seed_generator = keras.random.SeedGenerator(
            None if self.seed is None else self.seed + 1, name="eval_noise_seed"
        )
        self.packer = PackSamples(self.pack, name="pack") if self.pack > 1 else None
        # One D call on real and fake concatenated, when that changes nothing (`_judge`).
        self._judge_in_one_call = judges_each_sample_alone(discriminator)
        z = keras.Input((self.latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="label") if self.num_classes is not None else None
        g_inputs = z if label is None else [z, label]
        # G -> augment -> pack -> D: the G phase sees what D sees in its phase.
        self.combined = keras.Model(
            g_inputs, self._discriminate(self._d_view(generator(g_inputs), None), label), name="combined")
        self.ema_generator = ema_copy(generator) if self.ema_decay is not None else None
        self.feature_matching_weight = 0.0
        self.d_steps = self.g_steps = 1
        self.penalties, self.terms = [], []
        self.warmup_g_steps = self.warmup_d_steps = 0
        self.reuse_fakes = False
        # The schedule's phase, read when train_step is traced (see `fit`).
        self._phase = "regular"
        # Every variable exists already: a strategy's symbolic build has
        # nothing to do (keras#20164).
        self.built = True

    def _other_networks(self):
        return [] if self.code_classifier is None else [self.code_classifier]  # InfoGAN's Q

    def _own_seed_generators(self):
        return {"noise_seed": self.seed_generator, "eval_noise_seed": self._eval_seed_generator}

    # ------------------------------------------------------------------- terms
    @property
    def d_terms(self):
        """The D phase's terms: the penalties, ADA's p update, then `compile(terms=...)`'s D-side ones."""
        built_in = [penalties_module.PenaltyTerm(self.penalties)] if self.penalties else []
        if isinstance(self.augment, ada.Adaptive):
            built_in.append(ada.AdaptiveTerm(self.augment))
        return built_in + [t for t in self.terms if t.phase == "d"]

    @property
    def g_terms(self):
        """The G phase's terms: feature matching, InfoGAN, the EMA, then `compile(terms=...)`'s."""
        built_in = []
        if self.feature_matching_weight:
            built_in.append(FeatureMatchingTerm(self.feature_matching_weight))
        if self.code_classifier is not None:
            built_in.append(codes_module.InfoTerm(self.code_classifier, self.code_categories, self.info_weight))
        if self.ema_generator is not None:
            built_in.append(EMATerm(self.ema_decay, self.ema_warmup))
        return built_in + [t for t in self.terms if t.phase == "g"]

    def g_variables(self):
        """What `g_optimizer` updates: G's trainable variables, then the G-side terms' (Q's)."""
        return list(self.generator.trainable_variables) + [v for t in self.g_terms for v in t.extra_variables()]

    def active_log_names(self):
        """The four adversarial logs, then the configured terms' (built-in ones in `log_names` order)."""
        logged = [t.log_name for t in self.d_terms + self.g_terms if t.log_name]
        always = ("d_loss", "g_loss", "d_real", "d_fake")
        return [n for n in self.log_names if n in always or n in logged] + [
            n for n in logged if n not in self.log_names]

    # ----------------------------------------------------------------- compile
    def compile(self, d_optimizer, g_optimizer, loss="non_saturating", d_steps=1, g_steps=1,
                penalties=None, warmup_g_steps=0, warmup_d_steps=0, reuse_fakes=False,
                feature_matching_weight=0.0, terms=None, **kwargs):
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
            penalties: gradient penalties added to D's loss in the D phase: a
                list of `keras_gan.penalties.Penalty` (or names `"gp"`,
                `"r1"`), e.g. `[keras_gan.penalties.GradientPenalty(10.0)]`
                or `[keras_gan.penalties.R1(1.0, interval=16)]`.
            warmup_g_steps: first this many batches of one G update each
                (no D update), ...
            warmup_d_steps: ... then this many batches of one D update each on
                the whole batch, then the `d_steps`/`g_steps` alternation. The
                phase comes from both optimizers' update counts, so it
                survives save/load (`keras_gan.models.warmup`).
            reuse_fakes: the last D update trains on the detached fakes of
                the noise that the first G update then backpropagates
                through (PyTorch's `gen_imgs.detach()` loop): one G forward
                fewer per batch. Later G updates draw fresh noise.
            feature_matching_weight: adds this weight times `||mean f(real)
                - mean f(fake)||^2` to G's loss (Salimans et al. 2016), `f`
                what D's last layer reads (`keras_gan.feature_matching`);
                logged as `feature_matching`. 0.0 for none.
            terms: more D-side or G-side terms (`keras_gan.terms.Term`),
                after the built-in ones; saved with the model.
            **kwargs: passed to `keras.Model.compile`: `steps_per_execution`,
                `run_eagerly`, `jit_compile` (XLA; its default `"auto"` turns
                XLA on where it measures faster: on CPU for float32
                dense-only networks of 100k weights or more, never under a
                distribution strategy; on a GPU Keras decides).

        Under a `mixed_float16` policy both optimizers are wrapped in
        `keras.optimizers.LossScaleOptimizer` unless already wrapped.

        Example:

        ```python
        gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5),
                    keras.optimizers.Adam(2e-4, beta_1=0.5),
                    loss="non_saturating", d_steps=1)
        ```
        """
        self.d_steps = check_positive_int("d_steps", d_steps)
        self.g_steps = check_positive_int("g_steps", g_steps)
        if penalties is None:
            penalties = []
        elif isinstance(penalties, (str, dict, penalties_module.Penalty)):
            penalties = [penalties]
        self.penalties = [penalties_module.get(p) for p in penalties]
        self.terms = terms_module.check_terms(terms)
        for term in self.terms:
            if term.log_name and term.log_name not in self.trackers:
                self.trackers[term.log_name] = keras.metrics.Mean(name=term.log_name)
        self.warmup_g_steps = check_non_negative_int("warmup_g_steps", warmup_g_steps)
        self.warmup_d_steps = check_non_negative_int("warmup_d_steps", warmup_d_steps)
        self.reuse_fakes = check_bool("reuse_fakes", reuse_fakes)
        self.feature_matching_weight = check_float("feature_matching_weight", feature_matching_weight,
                                                   non_negative=True)
        if self.feature_matching_weight:
            # Named to sort after `combined`, which already holds D's layers:
            # the saved file's layout does not change (keras saves a shared layer once).
            self.discriminator_with_features = with_features(self.discriminator)
        self._phase = "regular"
        if kwargs.get("jit_compile", "auto") == "auto":
            kwargs["jit_compile"] = auto_jit_compile(self, self._networks(), kwargs.get("run_eagerly", False))
        super().compile(d_optimizer, g_optimizer, loss=loss, **kwargs)

    def _extra_compile_config(self):
        return {
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "penalties": [keras.saving.serialize_keras_object(p) for p in self.penalties],
            "warmup_g_steps": self.warmup_g_steps,
            "warmup_d_steps": self.warmup_d_steps,
            "reuse_fakes": self.reuse_fakes,
            "feature_matching_weight": self.feature_matching_weight,
            **({"terms": [keras.saving.serialize_keras_object(t) for t in self.terms]} if self.terms else {}),
        }

    # -------------------------------------------------------------------- noise
    def sample_noise(self, n, seed_generator=None):
        """Draws `n` latent vectors from N(0, I) using the model's seed generator.

        Each replica under `tf.distribute` folds its replica id into the seed,
        so replicas draw different noise (`replica_seed`).
        """
        # Not tf.random.stateless_normal: its numbers change under XLA.
        return _random.normal(tf.stack([n, self.latent_dim]), self.replica_seed(seed_generator))

    def _step_noise(self, reals):
        """One latent batch per real batch in `reals`, cut from one draw (`batches.split_noise`)."""
        return batches.split_noise(self.sample_noise, reals)

    # --------------------------------------------------------------- the step
    @after_the_batch
    def train_step(self, data):
        real, labels = self._real_samples(data)
        with self.collecting_logs():
            # `_phase` is a Python attribute read when this is traced: `fit`
            # retraces at each warm-up switch (keras_gan.models.warmup).
            if self._phase == "warmup_g":
                self._g_step(*self._slices(real, labels, 1)[0])
            elif self._phase == "warmup_d":
                self._d_step(*self._slices(real, labels, 1)[0])
            else:
                slices = self._slices(real, labels, self.d_steps)
                # reuse_fakes: the last D update shares the first G update's forward pass.
                d_slices = slices[:-1] if self.reuse_fakes else slices
                g_slices = [slices[-1] if self.reuse_fakes and j == 0 else slices[j % self.d_steps]
                            for j in range(self.g_steps)]
                noise = self._step_noise([r for r, _ in d_slices + g_slices])
                for real_slice, z in zip(d_slices, noise):
                    self._d_step(*real_slice, z=z)
                for j, (real_slice, z) in enumerate(zip(g_slices, noise[len(d_slices):])):
                    self._g_step(*real_slice, shared_d_step=self.reuse_fakes and j == 0, z=z)
        return self.logs()

    def _d_step(self, real, labels=None, fake=None, z=None):
        """D phase (Dmain + Dreg): one D update on `real` and as many fakes.

        Fakes get the labels of the real slice (conditional GAN), from the
        latent batch `z` (drawn here when None); `fake` given (detached,
        `reuse_fakes`) replaces them. Returns the adversarial D loss.
        """
        if fake is None:
            z = self.sample_noise(ops.shape(real)[0]) if z is None else z
            fake = self.detached(self.generator, z if labels is None else [z, labels])
        real, fake = self._d_view(real), self._d_view(fake)
        adversarial = {}

        def loss(tape):
            real_logits, fake_logits = self._judge(real, fake, labels)
            adversarial["d"] = loss = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            self.log("d_loss", loss)
            self.log("d_real", ops.mean(ops.cast(real_logits, "float32")))
            self.log("d_fake", ops.mean(ops.cast(fake_logits, "float32")))
            step = terms_module.DStep(self, real, fake, labels, real_logits, fake_logits)
            extra = terms_module.total(self.d_terms, step)
            return loss if extra is None else loss + extra

        self.d_update(loss)
        return adversarial["d"]

    def _g_step(self, real, labels=None, shared_d_step=False, z=None):
        """G phase (Gmain + Greg): one G update through `combined` with D frozen.

        G's fakes come from the latent batch `z` (drawn here when None), as
        many as `real`. With `shared_d_step` (`reuse_fakes`), G's one forward
        pass first feeds a D update on `real` and its detached fakes (off G's
        tape), then G trains on those same fakes through the updated, frozen
        D. Then the G-side terms act (the EMA copy of G moves). Returns the G loss.
        """
        z = self.sample_noise(ops.shape(real)[0]) if z is None else z
        g_inputs = z if labels is None else [z, labels]
        terms = self.g_terms
        adversarial = {}

        def loss(tape):
            fake = None
            if shared_d_step or any(t.needs_fake or t.needs_features for t in terms):
                fake = self.generator(g_inputs, training=True)
            if shared_d_step:
                with tape.stop_recording():
                    self._d_step(real, labels, fake=ops.stop_gradient(fake))
            with self.frozen_discriminators():
                adversarial["g"], extra = self._g_losses(g_inputs, z, fake, real, labels, terms)
            self.log("g_loss", adversarial["g"])
            return adversarial["g"] if extra is None else adversarial["g"] + extra

        self.g_update(loss)
        for term in terms:
            term.after_update(self)
        return adversarial["g"]

    def _g_losses(self, g_inputs, z, fake, real, labels, terms, training=True):
        """G's adversarial loss through the frozen D, and the G-side terms' sum (or None).

        `fake` is None when no term needs it (then `combined` runs G and D in one call).
        """
        features = any(t.needs_features for t in terms)
        if fake is None:
            fake_logits = self.combined(g_inputs, training=training)
        else:
            fake_logits = self._discriminate(self._d_view(fake, training), labels, features, training=training)
        real_logits = real_f = fake_f = None
        if self.gan_loss.needs_real_logits_for_g or features:
            real_logits = self._discriminate(self._d_view(real, training), labels, features, training=training)
        if features:
            (fake_logits, fake_f), (real_logits, real_f) = fake_logits, real_logits
        extra = terms_module.total(terms, terms_module.GStep(self, z, fake, real_f, fake_f, training))
        return self.gan_loss.generator_loss(fake_logits, real_logits), extra

    @after_the_batch
    def test_step(self, data):
        real, labels = self._slices(*self._real_samples(data), 1)[0]
        z = self.sample_noise(ops.shape(real)[0], self._eval_seed_generator)
        g_inputs = z if labels is None else [z, labels]
        fake = self.generator(g_inputs, training=False)
        terms = [t for t in self.g_terms if t.log_name]
        real_logits = self._discriminate(self._d_view(real, training=False), labels, training=False)
        fake_logits = self._discriminate(self._d_view(fake, training=False), labels, training=False)
        self.log("d_loss", self.gan_loss.discriminator_loss(real_logits, fake_logits))
        self.log("d_real", ops.mean(ops.cast(real_logits, "float32")))
        self.log("d_fake", ops.mean(ops.cast(fake_logits, "float32")))
        self.log("g_loss", self._g_losses(g_inputs, z, fake, real, labels, terms, training=False)[0])
        return self.logs()

    # ----------------------------------------------------------- the step's parts
    def _real_samples(self, data):
        """The real batch as float32 `x`, and int32 labels (None when unconditional)."""
        return batches.real_samples(data, self.num_classes)

    def _slices(self, real, labels, count):
        """`count` consecutive disjoint slices of the batch (`keras_gan.models.batches.slices`)."""
        return batches.slices(real, labels, count, self.pack)

    def _d_view(self, x, training=True):
        """What D sees of a batch: augmented (DiffAugment), then packed (PacGAN)."""
        if self.augment is not None:
            x = self.augment(x, training=training)
        return x if self.packer is None else self.packer(x)

    def _discriminate(self, x, labels=None, features=False, **kwargs):
        """D's logits; with `features`, `(logits, f)`: `f` what D's last layer reads."""
        d = self.discriminator_with_features if features else self.discriminator
        return d(x if labels is None else [x, labels], **kwargs)

    def _judge(self, real, fake, labels):
        """D's logits (training mode) on the real batch and on the fake batch.

        A D that judges each sample alone (`keras_gan._internal.per_sample`) sees both
        batches in one call, as in the keras.io loop: the same logits, one
        forward and one backward pass fewer. Any other D (BatchNorm, minibatch
        features) gets two calls, so real and fake never share batch statistics.
        """
        if not self._judge_in_one_call:
            return (self._discriminate(real, labels, training=True),
                    self._discriminate(fake, labels, training=True))
        both = ops.concatenate([real, ops.cast(fake, real.dtype)], axis=0)
        both_labels = None if labels is None else ops.concatenate([labels, labels], axis=0)
        return tuple(ops.split(self._discriminate(both, both_labels, training=True), 2))

    # ---------------------------------------------------------------- fit & co
    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.fit` after checking the data against D's input.

        Accepts numpy arrays (`batch_size` defaults to 32) and `tf.data`
        datasets of `x` or `(x, y)`; `y` is ignored by the unconditional GAN
        and required by a conditional one (int labels in `[0, num_classes)`).
        With `warmup_g_steps`/`warmup_d_steps` set, `fit` runs the warm-up
        phases first (see `compile`).
        """
        self._check_compiled()
        validate_training_data(x, self._data_shape, self.d_steps, batch_size)
        if self.num_classes is not None and not batches.has_labels(x, y):
            raise ValueError(batches.missing_labels_message(self.num_classes))
        # The step's own NaN check (`_real_samples`) is dropped by XLA only.
        x = validate_values(x, y, self.num_classes, check_x_in_pipeline=bool(self.jit_compile))
        # A dataset brings its own shuffling; Keras warns if asked to shuffle it.
        kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        if self.warmup_g_steps or self.warmup_d_steps:
            self._enter_phase(scheduled_phase(self))
            if self._phase != "regular":
                kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [UpdateSchedule()]
        elif self._phase != "regular":
            self._enter_phase("regular")
        try:
            return super().fit(x, y, batch_size=batch_size, **kwargs)
        except tf.errors.InvalidArgumentError as e:
            # A dataset's NaN batch trips the check in `_real_samples`: re-raise
            # it as the ValueError it is, not a graph-execution trace.
            message = keras_private.invalid_data_message(e)
            if message is None:
                raise
            raise InvalidDataError(message) from None

    def _enter_phase(self, phase):
        """Switches the warm-up phase; the next train_function is a new trace."""
        if phase != self._phase:
            self._phase = phase
            self.train_function = None

    def call(self, z, training=False):
        """Runs the generator: `gan(z)` is `gan.generator(z)` (`[z, labels]` if conditional)."""
        return self.generator(z, training=training)

    # -------------------------------------------------------------- serialising
    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            "name": self.name,
            "generator": serialize(self.generator),
            "discriminator": serialize(self.discriminator),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "ema_decay": self.ema_decay,
            "ema_warmup": self.ema_warmup,
            "pack": self.pack,
            "augment": None if self.augment is None else serialize(self.augment),
            "code_classifier": None if self.code_classifier is None else serialize(self.code_classifier),
            "info_weight": self.info_weight,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator", "augment", "code_classifier"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

