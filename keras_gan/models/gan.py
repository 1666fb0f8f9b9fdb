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
- `compile(reuse_fakes=True)`: the last D update and the first G update share
  one G forward pass on the same noise (D trains on its stop_gradient'd
  fakes, off G's tape), as PyTorch's `gen_imgs.detach()` loop does: one G
  forward fewer per batch, the phases still change only their own network.
- Stabilisers (see `GAN` and `GAN.compile`): gradient penalties in the D
  phase (`keras_gan.penalties`), an EMA copy of G updated after each G
  update (`ema_decay`), PacGAN packing (`pack`), differentiable augmentation
  of everything D sees (`augment`), and a warm-up schedule
  (`warmup_g_steps`, `warmup_d_steps`).
- Conditional GAN (`num_classes`): data is `(x, y)`; G takes `[z, label]`,
  D takes `[x, label]`, and each fake gets the label of its real slice.
- InfoGAN code (`code_classifier`): G starts from
  `keras_gan.codes.CategoricalCode`, and each G update also trains G and Q
  on Q's cross-entropy on the fakes' codes (`info_loss`).
- Feature matching (`compile(feature_matching_weight=w)`): each G update
  also descends `w * ||mean f(real) - mean f(fake)||^2`, `f` what D's last
  layer reads (`keras_gan.feature_matching`), with D frozen.
"""

import threading

import numpy as np
import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import adam as _adam
from keras_gan._internal.fit_loop import FewerHostOpsPerStep, after_the_batch, trains_under_a_strategy
from keras_gan._internal import random as _random
from keras_gan._internal.per_sample import judges_each_sample_alone
from keras_gan.components import augment as augment_module
from keras_gan.components import codes as codes_module
from keras_gan.components.feature_matching import feature_matching_loss, with_features
from keras_gan.components import losses as losses_module
from keras_gan.components import penalties as penalties_module
from keras_gan._internal.validation import (
    InvalidDataError, check_float, check_noise, check_non_negative_int, check_positive_int, check_seed, validate_training_data, validate_values,
)
from keras_gan.components.layers import PackSamples
from keras_gan.networks import stylegan2
from keras_gan.networks.stylegan2 import check_truncation

_PHASES = ("warmup_g", "warmup_d", "regular")


def _sample_shape(model, which, index=None):
    """The per-sample shape of a model's single input or output (or input `index`), or None."""
    try:
        shape = model.input_shape if which == "input" else model.output_shape
    except (AttributeError, ValueError):
        return None
    if isinstance(shape, list):
        if index is not None:
            shape = shape[index] if index < len(shape) else None
        else:
            shape = shape[0] if len(shape) == 1 else None
    return None if shape is None else tuple(shape[1:])


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


def layer_seed_generators(*models):
    """The `SeedGenerator`s of the layers of `models` (Dropout, ...), once each, in layer
    order, by the names their states are saved under (`layer_seed_0`, ...).

    Keras' `save_weights` leaves their state out, so a reloaded network
    would restart its dropout masks from the first; the GAN models save them
    beside their own seeds, so a resumed run draws the masks an
    uninterrupted one would.
    """
    seen, found = set(), []
    for model in models:
        for layer in model._flatten_layers():
            for generator in getattr(layer, "_seed_generators", ()):
                if id(generator) not in seen:
                    seen.add(id(generator))
                    found.append(generator)
    return {f"layer_seed_{i}": generator for i, generator in enumerate(found)}


class SavesSeedStates:
    """Mixin for a `keras.Model`: its weights files also hold its `SeedGenerator` states.

    Keras saves no SeedGenerator state. The model names its generators in
    `_seed_generators_by_name()` (its own noise seeds and its networks'
    `layer_seed_generators`), so that a loaded model continues the random
    sequences instead of restarting them. Files saved before a generator
    existed still load (its state is left as it is).
    """

    def _seed_generators_by_name(self):
        raise NotImplementedError

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for name, generator in self._seed_generators_by_name().items():
            store[name] = generator.state

    def load_own_variables(self, store):
        seeds = self._seed_generators_by_name()
        for name in seeds.keys() & set(store.keys()):
            seeds[name].state.assign(store[name])
        super().load_own_variables({k: store[k] for k in store.keys() if k not in seeds})


def _add_to_mean(tracker, value, count=1):
    """`tracker.update_state` for `count` scalars summing to `value`, as two in-place adds.

    `keras.metrics.Mean.update_state` reads, adds and assigns each of its two
    variables (about 8 graph ops); a small network's step pays for that ~5
    times per batch, so the GAN's own trackers use this.
    """
    tracker.total.value.assign_add(ops.cast(value, tracker.total.dtype))
    tracker.count.value.assign_add(ops.cast(count, tracker.count.dtype))


_STEP_LOGS = threading.local()  # id(GAN) -> the _StepLogs of the step being traced


class _StepLogs:
    """The scalars one train step adds to the GAN's Mean trackers, added at its end.

    With `d_steps=k` a step makes k D updates, each logging its loss and mean
    logits (and penalty): added as they come, that is two assign ops per
    value (30 at d_steps 5). Summed here, each tracker gets its two adds once
    per step (a toy network at d_steps 5: 0-3% faster, README "Speed"); the
    logged means are the same (tests/test_gan.py).
    """

    def __init__(self):
        self._values = {}

    def add(self, tracker, value):
        self._values.setdefault(id(tracker), (tracker, []))[1].append(ops.cast(value, tracker.total.dtype))

    def flush(self):
        for tracker, values in self._values.values():
            _add_to_mean(tracker, values[0] if len(values) == 1 else tf.add_n(values), count=len(values))


def _has_labels(x, y):
    """Whether `fit` data carries labels: `(x, y)` batches, or a `y` beside `x`."""
    if isinstance(x, tf.data.Dataset):
        spec = x.element_spec
        return isinstance(spec, tuple) and len(spec) >= 2
    return y is not None or isinstance(x, (tuple, list))


def _uses_float16(*models):
    policies = [keras.mixed_precision.global_policy()] + [m.dtype_policy for m in models]
    return any(p.compute_dtype == "float16" for p in policies)


_CONVOLUTIONS = (
    keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
    keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose,
    keras.layers.SeparableConv1D, keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
) + stylegan2.CONVOLUTIONS
# Below this many weights XLA gained nothing measurable on CPU (toy nets)
# while compiling for 2-3 s per fit.
_XLA_MIN_WEIGHTS = 100_000


def _auto_jit_compile(gan, run_eagerly):
    """What `GAN.compile(jit_compile="auto")` resolves to.

    Measured on 2 CPU cores (`benchmarks/throughput.py`), XLA speeds up the
    MLP GAN's step (about 1.1-1.4x) but not the convolutional DCGAN nor the
    toy nets, so on CPU it is on for float32 networks of dense layers with at
    least `_XLA_MIN_WEIGHTS` weights. Never under a distribution strategy
    (KERAS3_GAN_NOTES: "XLA"); on a GPU, Keras' own "auto" decides.
    """
    if run_eagerly or trains_under_a_strategy(gan):
        return False
    if any(d.device_type != "CPU" for d in tf.config.list_physical_devices()):
        return "auto"
    nets = gan._networks()  # G, D and (InfoGAN) Q: everything the step runs
    policies = [keras.mixed_precision.global_policy()] + [m.dtype_policy for m in nets]
    if any(p.compute_dtype != "float32" for p in policies):
        return False
    layers = [layer for net in nets for layer in net._flatten_layers()]
    if any(isinstance(layer, _CONVOLUTIONS) for layer in layers):
        return False
    return sum(net.count_params() for net in nets) >= _XLA_MIN_WEIGHTS


def _resolve_optimizers(d_optimizer, g_optimizer, *models):
    """D's and G's optimizers, distinct, loss-scaled when `models` compute in float16."""
    d_optimizer = keras.optimizers.get(d_optimizer)
    g_optimizer = keras.optimizers.get(g_optimizer)
    if d_optimizer is g_optimizer:
        raise ValueError(
            "Invalid value for argument `g_optimizer`: expected an optimizer "
            "distinct from `d_optimizer` (each keeps its own state). "
            "Received the same object for both."
        )
    if _uses_float16(*models):
        # compile(auto_scale_loss=True) would only wrap self.optimizer
        # (KERAS3_GAN_NOTES: "Mixed precision").
        d_optimizer, g_optimizer = (
            o if isinstance(o, keras.optimizers.LossScaleOptimizer)
            else keras.optimizers.LossScaleOptimizer(o)
            for o in (d_optimizer, g_optimizer)
        )
    return d_optimizer, g_optimizer


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(SavesSeedStates, FewerHostOpsPerStep, keras.Model):
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
            of G's weights (`w_ema = decay * w_ema + (1 - decay) * w` after
            every G update; BatchNorm statistics are copied), used by
            `generate()`, sample grids and export. E.g. 0.999; None for no
            EMA.
        ema_warmup: ramp the EMA's decay up as StyleGAN does: G update
            number `t` (0 for the first) uses `min(ema_decay, (1 + t) /
            (10 + t))`, so a short run's EMA copy is not stuck near the
            initial G (with 0.999, the plain decay still weighs the initial
            weights by 0.999**1000 = 37% after 1000 updates). Counted from
            `g_optimizer.iterations`, so a resumed run continues the ramp.
        pack: PacGAN packing: D judges `pack` samples at once, concatenated
            along the last axis (`keras_gan.layers.PackSamples`), so D must
            take `pack` times G's channels
            (`keras_gan.networks.packed_discriminator`). 1 for no packing.
        augment: differentiable augmentation of real and fake images before
            D, in both phases: a policy such as `"translation,cutout,color"`
            or a layer (`keras_gan.augment.DiffAugment`). None for none.
        code_classifier: InfoGAN's Q for a G that starts from
            `keras_gan.codes.CategoricalCode(categories)`: a built model
            from one of G's samples to `(batch, categories)` logits. Each G
            update then adds `info_weight` times Q's cross-entropy on the
            fakes' codes to G's loss, and trains Q on it too (Q's variables
            go with G's to `g_optimizer`); logged as `info_loss`. G learns
            to put each code somewhere Q can tell apart, so it can switch
            modes on the code instead of on a bridge of samples between them
            (`keras_gan.codes`). Unconditional GANs only. None for none.
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

    def __init__(self, generator, discriminator, latent_dim=None, seed=None,
                 num_classes=None, ema_decay=None, pack=1, augment=None, ema_warmup=True,
                 code_classifier=None, info_weight=1.0, **kwargs):
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
        self.num_classes = None if num_classes is None else check_positive_int("num_classes", num_classes)
        conditional = self.num_classes is not None
        for arg, net, first in (("generator", generator, "z"), ("discriminator", discriminator, "x")):
            count = len(getattr(net, "inputs", None) or ()) or None
            if count is not None and count != (2 if conditional else 1):
                expected = (
                    f"a model with inputs [{first}, label] for a conditional GAN "
                    f"(num_classes={self.num_classes})" if conditional
                    else "a model with one input (pass `num_classes` for a conditional GAN)"
                )
                raise ValueError(
                    f"Invalid value for argument `{arg}`: expected {expected}. "
                    f"Received: a model with {count} inputs"
                )
        self.pack = check_positive_int("pack", pack)
        if self.pack > 1 and conditional:
            raise ValueError(
                "Invalid value for argument `pack`: PacGAN packing is not supported by a "
                f"conditional GAN; expected 1. Received: pack={pack}"
            )
        index = 0 if conditional else None
        g_in = _sample_shape(generator, "input", index)
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
        g_out = _sample_shape(generator, "output")
        d_in = _sample_shape(discriminator, "input", index)
        packed = None if g_out is None else g_out[:-1] + (g_out[-1] * self.pack,)
        if packed is not None and d_in is not None and packed != d_in:
            raise ValueError(
                f"The generator's samples have shape {g_out} but the discriminator "
                f"expects inputs of shape {d_in}: they must match"
                + (f" once packed by pack={self.pack}, i.e. {packed}." if self.pack > 1 else ".")
            )
        # The shape of one sample of the training data.
        self._data_shape = g_out if g_out is not None else (d_in if self.pack == 1 else None)
        if ema_decay is not None:
            try:
                ema_decay = float(ema_decay)
            except (TypeError, ValueError):
                ema_decay = -1.0
            if not 0.0 <= ema_decay < 1.0:
                raise ValueError(
                    "Invalid value for argument `ema_decay`: expected a float in [0, 1) "
                    f"(e.g. 0.999) or None. Received: ema_decay={ema_decay!r}"
                )
        self.ema_decay = ema_decay
        if not isinstance(ema_warmup, (bool, np.bool_)):
            raise ValueError(
                "Invalid value for argument `ema_warmup`: expected True or False. "
                f"Received: ema_warmup={ema_warmup!r}"
            )
        self.ema_warmup = bool(ema_warmup)
        self.augment = augment_module.get(augment)
        self.code_categories = None
        if code_classifier is not None:
            if conditional:
                raise ValueError(
                    "Invalid value for argument `code_classifier`: InfoGAN codes are supported by "
                    f"unconditional GANs only; expected None with num_classes={self.num_classes}. "
                    f"Received: code_classifier={code_classifier.name!r}"
                )
            self.code_categories = codes_module.check_code_classifier(code_classifier, generator, g_out)
        self.code_classifier = code_classifier
        self.info_weight = check_float("info_weight", info_weight, non_negative=True)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self._eval_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1, name="eval_noise_seed"
        )
        self.packer = PackSamples(self.pack, name="pack") if self.pack > 1 else None
        # One D call on real and fake concatenated, when that changes nothing (`_judge`).
        self._judge_in_one_call = judges_each_sample_alone(discriminator)
        z = keras.Input((latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="label") if conditional else None
        g_inputs = z if label is None else [z, label]
        # G -> augment -> pack -> D: the G phase sees what D sees in its phase.
        self.combined = keras.Model(
            g_inputs, self._discriminate(self._d_input(generator(g_inputs), None), label),
            name="combined",
        )
        self.ema_generator = None
        if ema_decay is not None:
            # recursive=True: nested models (conditional networks) get their own
            # weights instead of sharing G's.
            try:
                self.ema_generator = keras.models.clone_model(generator, recursive=True)
                self.ema_generator.set_weights(generator.get_weights())
            except Exception as e:  # clone_model raises several types
                raise ValueError(
                    "Invalid value for argument `ema_decay`: the EMA copy needs a generator "
                    "that keras.models.clone_model can copy (Functional, Sequential, or a "
                    f"subclass with get_config/from_config). Cloning failed with: {e}"
                ) from e
            self.ema_generator.trainable = False
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.penalty_tracker = keras.metrics.Mean(name="d_penalty")
        self.info_tracker = keras.metrics.Mean(name="info_loss")
        self.feature_matching_tracker = keras.metrics.Mean(name="feature_matching")
        self.feature_matching_weight = 0.0
        self.d_steps = 1
        self.g_steps = 1
        self.gan_loss = None
        self.penalties = []
        self.warmup_g_steps = 0
        self.warmup_d_steps = 0
        self.reuse_fakes = False
        # The schedule's phase, read when train_step is traced (see `fit`).
        self._phase = "regular"
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
        penalties=None,
        warmup_g_steps=0,
        warmup_d_steps=0,
        reuse_fakes=False,
        feature_matching_weight=0.0,
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
            penalties: gradient penalties added to D's loss in the D phase: a
                list of `keras_gan.penalties.Penalty` (or names `"gp"`,
                `"r1"`), e.g. `[keras_gan.penalties.GradientPenalty(10.0)]`
                or `[keras_gan.penalties.R1(1.0, interval=16)]`.
            warmup_g_steps: the schedule from the user's notes: first this
                many batches of one G update each (no D update), ...
            warmup_d_steps: ... then this many batches of one D update each on
                the whole batch (no G update), then the regular `d_steps` /
                `g_steps` alternation. The phase comes from both optimizers'
                update counts, so it survives save/load; `fit` applies it
                (retracing `train_step` at each switch; with
                `steps_per_execution=N` a phase ends on a multiple of N).
            reuse_fakes: run G forward once per iteration and share it (as
                PyTorch's `gen_imgs.detach()` loop does): the last D update
                trains on the stop_gradient'd fakes of the same noise that
                the first G update then backpropagates through. One G
                forward fewer per batch (about 1.1x the images/s of the
                MLP GAN, `benchmarks/throughput.py`). With `d_steps=k`, D
                updates 1..k-1 still draw fresh fakes and the k-th shares
                (so the first G update pairs with the batch's last slice);
                with `g_steps > 1` the later G updates draw fresh noise.
                G's BatchNorm statistics move once per G update, as
                without it. False: every D and G update draws its own noise.
            feature_matching_weight: adds this weight times feature
                matching (Salimans et al. 2016) to G's loss: `||mean f(real)
                - mean f(fake)||^2`, with `f` what D's last layer reads (its
                input, flattened) and the means over the batch; the real
                side is a constant. It asks G to match the data's feature
                statistics, e.g. how often each kind of sample appears,
                which the adversarial loss on one batch barely sees (0.1 is
                a start; larger weights can let D win). Logged as
                `feature_matching`.
                Needs a functional or Sequential D whose last layer reads
                one tensor. 0.0 for none.
            **kwargs: passed to `keras.Model.compile`: `steps_per_execution`
                (several steps per call: faster for small networks; batch
                callbacks then fire once per call), `run_eagerly`, and
                `jit_compile` (XLA). Its default `"auto"` turns XLA on where
                it was measured faster: on CPU for float32 dense-only
                networks of 100k weights or more (the MLP GAN), not for
                convolutions nor toy nets; never under a distribution
                strategy; on a GPU Keras decides.

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
        if penalties is None:
            penalties = []
        elif isinstance(penalties, (str, dict, penalties_module.Penalty)):
            penalties = [penalties]
        self.penalties = [penalties_module.get(p) for p in penalties]
        self.warmup_g_steps = check_non_negative_int("warmup_g_steps", warmup_g_steps)
        self.warmup_d_steps = check_non_negative_int("warmup_d_steps", warmup_d_steps)
        if not isinstance(reuse_fakes, (bool, np.bool_)):
            raise ValueError(
                "Invalid value for argument `reuse_fakes`: expected True or False. "
                f"Received: reuse_fakes={reuse_fakes!r}"
            )
        self.reuse_fakes = bool(reuse_fakes)
        self.feature_matching_weight = check_float("feature_matching_weight", feature_matching_weight,
                                                   non_negative=True)
        if self.feature_matching_weight:
            # Named to sort after `combined`, which already holds D's layers:
            # the saved file's layout does not change (keras saves a shared layer once).
            self.discriminator_with_features = with_features(self.discriminator)
        self._phase = "regular"
        self.d_optimizer, self.g_optimizer = _resolve_optimizers(d_optimizer, g_optimizer, *self._networks())
        if kwargs.get("jit_compile", "auto") == "auto":
            kwargs["jit_compile"] = _auto_jit_compile(self, kwargs.get("run_eagerly", False))
        # optimizer=None: a bare compile would create an unused optimizer.
        super().compile(optimizer=None, **kwargs)
        # Build now, in the caller's strategy scope, on each network's own
        # variables (keras#19246; an optimizer accepts only what it was built with).
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self._g_side_variables())

    def get_compile_config(self):
        if self.gan_loss is None:
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": keras.saving.serialize_keras_object(self.gan_loss),
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "penalties": [keras.saving.serialize_keras_object(p) for p in self.penalties],
            "warmup_g_steps": self.warmup_g_steps,
            "warmup_d_steps": self.warmup_d_steps,
            "reuse_fakes": self.reuse_fakes,
            "feature_matching_weight": self.feature_matching_weight,
        }

    def compile_from_config(self, config):
        # Rebuilding both optimizers here is what lets load_model restore
        # their state; the default would warn and drop it.
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer", "loss"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        config["penalties"] = [
            keras.saving.deserialize_keras_object(p) for p in config.get("penalties", [])
        ]
        self.compile(**config)

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]
        trackers += [self.penalty_tracker] if self.penalties else []
        trackers += [self.info_tracker] if self.code_classifier is not None else []
        return trackers + [self.feature_matching_tracker] if self.feature_matching_weight else trackers

    def _g_side_variables(self):
        """What `g_optimizer` updates: G's trainable variables, then Q's (InfoGAN)."""
        q = [] if self.code_classifier is None else self.code_classifier.trainable_variables
        return list(self.generator.trainable_variables) + list(q)

    # -------------------------------------------------------------------- noise
    def sample_noise(self, n, seed_generator=None):
        """Draws `n` latent vectors from N(0, I) using the model's seed generator.

        Each replica under `tf.distribute` folds its replica id into the seed,
        so replicas draw different noise (a SeedGenerator alone gives every
        replica the same z: KERAS3_GAN_NOTES, keras#20611).
        """
        seed = self._replica_seed(seed_generator)
        # Not tf.random.stateless_normal: its numbers change under XLA.
        return _random.normal(tf.stack([n, self.latent_dim]), seed)

    def _replica_seed(self, seed_generator=None):
        """A stateless seed from the seed generator, with the replica id folded in (if several)."""
        seed = (seed_generator or self.seed_generator).next()
        if tf.distribute.get_strategy().num_replicas_in_sync == 1:
            return seed  # nothing to tell apart: no fold-in ops in the step
        replica_id = tf.distribute.get_replica_context()
        replica_id = 0 if replica_id is None else replica_id.replica_id_in_sync_group
        return _random.fold_in(seed, replica_id)

    # --------------------------------------------------------------- train step
    def _real_samples(self, data):
        """The real batch as float32 `x`, and int32 labels (None when unconditional)."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, "float32")
        x = tf.debugging.assert_all_finite(
            x, "Invalid data `x`: a batch contains NaN or Inf values."
        )
        if self.num_classes is None:
            return x, None
        if y is None:
            raise ValueError(self._missing_labels_message())
        return x, ops.reshape(ops.cast(y, "int32"), (-1,))

    def _missing_labels_message(self):
        return (
            f"Invalid data: a conditional GAN (num_classes={self.num_classes}) trains on "
            "(x, y) pairs with int labels y in [0, num_classes). Received: x without labels "
            "(pass `fit(x, y)` or a dataset of (x, y) batches)."
        )

    def _scale_for_gradient(self, loss, optimizer):
        # Gradients are summed over replicas; the loss is a local mean, so
        # divide by the replica count (KERAS3_GAN_NOTES: "tf.distribute").
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            loss = optimizer.scale_loss(loss)
        return loss

    def _apply_gradients(self, optimizer, grads, variables):
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            grads = _agree_on_overflow(grads)
        # A plain Adam takes fewer ops: one kernel per large variable (keras_gan._internal.adam).
        _adam.apply_gradients(optimizer, grads, variables)

    def _step_noise(self, reals):
        """One latent batch per real batch in `reals`, cut from a single draw.

        A train step's updates draw their noise together: one seed and one
        Box-Muller pass per step rather than per update (about 35 graph ops
        fewer per extra update, before Grappler; README "Speed"). Every
        update still gets its own latent vectors, from the same N(0, I).
        """
        if len(reals) == 1:
            return [self.sample_noise(ops.shape(reals[0])[0])]
        sizes = [r.shape[0] for r in reals]
        if any(size is None for size in sizes):
            sizes = tf.stack([tf.shape(r)[0] for r in reals])
            return tf.split(self.sample_noise(tf.reduce_sum(sizes)), sizes, num=len(reals))
        return tf.split(self.sample_noise(sum(sizes)), sizes)

    def _fakes_for_discriminator(self, n, labels=None, z=None):
        z = self.sample_noise(n) if z is None else z
        z = z if labels is None else [z, labels]
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

    def _d_input(self, x, training=True):
        """What D sees of a batch: augmented (DiffAugment), then packed (PacGAN)."""
        if self.augment is not None:
            x = self.augment(x, training=training)
        return x if self.packer is None else self.packer(x)

    def _discriminate(self, x, labels=None, features=False, **kwargs):
        """D's logits; with `features`, `(logits, f)`: `f` what D's last layer reads."""
        d = self.discriminator_with_features if features else self.discriminator
        return d(x if labels is None else [x, labels], **kwargs)

    def _d_step(self, real, labels=None, fake=None, z=None):
        """D phase (Dmain + Dreg): one D update on `real` and as many fresh fakes.

        Fakes get the labels of the real slice (conditional GAN), from the
        latent batch `z` (drawn here when None); `fake` given (stop_gradient'd,
        `reuse_fakes`) replaces them. Returns the adversarial D loss
        (penalties are logged as `d_penalty`).
        """
        if fake is None:
            fake = self._fakes_for_discriminator(ops.shape(real)[0], labels, z)
        real, fake = self._d_input(real), self._d_input(fake)
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits, fake_logits = self._judge(real, fake, labels)
            loss = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            penalty = self._penalty(real, fake, labels)
            scaled = self._scale_for_gradient(loss + penalty, self.d_optimizer)
        grads = tape.gradient(scaled, d_vars)
        self._apply_gradients(self.d_optimizer, grads, d_vars)
        if hasattr(self.augment, "update"):  # ADA reads sign(D(real)) (keras_gan.augment.Adaptive)
            self.augment.update(real_logits)
        self._log(self.d_loss_tracker, loss)
        self._log(self.d_real_tracker, ops.mean(ops.cast(real_logits, "float32")))
        self._log(self.d_fake_tracker, ops.mean(ops.cast(fake_logits, "float32")))
        return loss

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

    def _penalty(self, real, fake, labels):
        """Dreg: the weighted sum of the penalties on D's inputs (0.0 without any)."""
        if not self.penalties:
            return 0.0

        def discriminate(x):
            return self._discriminate(x, labels, training=True)

        total = 0.0
        for penalty in self.penalties:
            value = penalty.weight * penalty(discriminate, real, fake, self._replica_seed())
            if penalty.interval > 1:
                # Lazy: a 0/interval factor, not a tf.cond (KERAS3_GAN_NOTES: "Freezing D").
                due = ops.equal(self.d_optimizer.iterations % penalty.interval, 0)
                value = value * ops.cast(due, "float32") * float(penalty.interval)
            total = total + value
        self._log(self.penalty_tracker, total)
        return total

    def _g_step(self, real, labels=None, shared_d_step=False, z=None):
        """G phase (Gmain): one G update through `combined` with D frozen.

        G's fakes come from the latent batch `z` (drawn here when None), as
        many as `real`. With `shared_d_step` (`reuse_fakes`), G's one forward
        pass first feeds a D update on `real` and its stop_gradient'd fakes
        (off G's tape), then G trains on those same fakes through the
        updated, frozen D. Then the EMA copy of G, if any, moves towards G.
        Returns the G loss.
        """
        z = self.sample_noise(ops.shape(real)[0]) if z is None else z
        g_inputs = z if labels is None else [z, labels]
        g_vars = self._g_side_variables()
        with tf.GradientTape() as tape:
            fake = None
            if shared_d_step or self.code_classifier is not None or self.feature_matching_weight:
                fake = self.generator(g_inputs, training=True)
            if shared_d_step:
                with tape.stop_recording():
                    self._d_step(real, labels, fake=ops.stop_gradient(fake))
            was_trainable = self.discriminator.trainable
            self.discriminator.trainable = False
            try:
                loss, extra = self._g_losses(g_inputs, z, fake, real, labels)
                scaled = self._scale_for_gradient(loss + extra, self.g_optimizer)
            finally:
                self.discriminator.trainable = was_trainable
        grads = tape.gradient(scaled, g_vars)
        self._apply_gradients(self.g_optimizer, grads, g_vars)
        if self.ema_generator is not None:
            self._update_ema()
        self._log(self.g_loss_tracker, loss)
        return loss

    def _g_losses(self, g_inputs, z, fake, real, labels):
        """G's adversarial loss through the frozen D, and its other terms, weighted and summed.

        `fake` is None when nothing but the adversarial loss needs it
        (then `combined` runs G and D in one call).
        """
        matching = bool(self.feature_matching_weight)
        if fake is None:
            fake_logits = self.combined(g_inputs, training=True)
        else:
            fake_logits = self._discriminate(self._d_input(fake), labels, features=matching, training=True)
        real_logits = None
        if self.gan_loss.needs_real_logits_for_g or matching:
            real_logits = self._discriminate(self._d_input(real), labels, features=matching, training=True)
        extra = 0.0
        if matching:
            (fake_logits, fake_f), (real_logits, real_f) = fake_logits, real_logits
            term = feature_matching_loss(real_f, fake_f)
            self._log(self.feature_matching_tracker, term)
            extra = self.feature_matching_weight * term
        if self.code_classifier is not None:
            info = self._info_loss(z, fake)
            self._log(self.info_tracker, info)
            extra = extra + self.info_weight * info
        return self.gan_loss.generator_loss(fake_logits, real_logits), extra

    def _info_loss(self, z, fake, training=True):
        """InfoGAN's term: Q's cross-entropy on the code of each fake's `z`.

        Minimised by G and Q together (both take the gradient of
        `info_weight` times it), it is, up to a constant, minus the
        variational lower bound on the mutual information between code and
        sample (InfoGAN).
        """
        codes = codes_module.categorical_code(z, self.code_categories)
        logits = ops.cast(self.code_classifier(fake, training=training), "float32")
        return ops.mean(keras.losses.sparse_categorical_crossentropy(codes, logits, from_logits=True))

    def _update_ema(self):
        """`w_ema = decay * w_ema + (1 - decay) * w`; BatchNorm statistics are copied.

        With `ema_warmup`, `decay = min(ema_decay, (1 + t) / (10 + t))` for the
        `t`-th G update (0-based), `t = g_optimizer.iterations - 1` (read after
        this update's `apply_gradients`).
        """
        averaged = {id(v) for v in self.generator.trainable_weights}
        pairs = [
            (e.value, g.value, id(g) in averaged)
            for e, g in zip(self.ema_generator.weights, self.generator.weights)
        ]

        def average(ema, w):
            decay = ops.cast(self.ema_decay, ema.dtype)
            if self.ema_warmup:
                # Read inside the per-device update, next to the assignment it feeds.
                t = ops.cast(self.g_optimizer.iterations - 1, ema.dtype)
                decay = ops.minimum(decay, (1.0 + t) / (10.0 + t))
            ema.assign(decay * ema + (1.0 - decay) * w)

        def copy(ema, w):
            ema.assign(w)

        def update(strategy):
            # Cross-replica updates of mirrored variables, as Keras' optimizers
            # do them: a replica-context assign needs an aggregation.
            for ema, w, is_averaged in pairs:
                strategy.extended.update(ema, average if is_averaged else copy, args=(w,), group=False)

        tf.__internal__.distribute.interim.maybe_merge_call(update, tf.distribute.get_strategy())

    def _slices(self, real, labels, count):
        """Splits the batch (and its labels) into `count` consecutive disjoint slices.

        A batch smaller than `count` (the ragged last batch of an epoch)
        wraps around, so no slice is ever empty. With `pack=m` every slice
        holds a multiple of m samples (its size rounded down, at least m).
        """
        if count == 1 and self.pack == 1:
            return [(real, labels)]  # the whole batch: no gather (a copy) per step
        static_n = real.shape[0]
        if static_n is not None and static_n >= count * self.pack:
            # A batch size known when tracing: the same slices as below, cut
            # with constant bounds (no index arithmetic and gather per slice).
            bounds = [(i * static_n) // count for i in range(count + 1)]
            cuts = [(start, start + (stop - start) // self.pack * self.pack)
                    for start, stop in zip(bounds[:-1], bounds[1:])]
            return [(real[a:b], None if labels is None else labels[a:b]) for a, b in cuts]
        n = ops.shape(real)[0]
        bounds = [(i * n) // count for i in range(count + 1)]
        slices = []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            size = tf.maximum((stop - start) // self.pack * self.pack, self.pack)
            index = tf.range(start, start + size) % n
            slices.append((tf.gather(real, index), None if labels is None else tf.gather(labels, index)))
        return slices

    @after_the_batch
    def train_step(self, data):
        real, labels = self._real_samples(data)
        # Per thread: MirroredStrategy traces each replica's step in its own thread.
        _STEP_LOGS.__dict__[id(self)] = step_logs = _StepLogs()
        try:
            # `_phase` is a Python attribute read when this is traced: `fit`
            # retraces at each warm-up switch, so no tf.cond gates an update
            # (KERAS3_GAN_NOTES: "Freezing D").
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
            step_logs.flush()
        finally:
            del _STEP_LOGS.__dict__[id(self)]
        return self._logs()

    def _log(self, tracker, value):
        """Adds a scalar to one of the GAN's Mean trackers (at the end of a train step)."""
        step_logs = _STEP_LOGS.__dict__.get(id(self))
        if step_logs is None:
            _add_to_mean(tracker, value)
        else:
            step_logs.add(tracker, value)

    @after_the_batch
    def test_step(self, data):
        real, labels = self._slices(*self._real_samples(data), 1)[0]
        z = self.sample_noise(ops.shape(real)[0], self._eval_seed_generator)
        fake = self.generator(z if labels is None else [z, labels], training=False)
        matching = bool(self.feature_matching_weight)
        real_logits = self._discriminate(self._d_input(real, training=False), labels, matching, training=False)
        fake_logits = self._discriminate(self._d_input(fake, training=False), labels, matching, training=False)
        if matching:
            (real_logits, real_f), (fake_logits, fake_f) = real_logits, fake_logits
            self.feature_matching_tracker.update_state(feature_matching_loss(real_f, fake_f))
        self.d_loss_tracker.update_state(self.gan_loss.discriminator_loss(real_logits, fake_logits))
        self.g_loss_tracker.update_state(self.gan_loss.generator_loss(fake_logits, real_logits))
        self.d_real_tracker.update_state(ops.mean(ops.cast(real_logits, "float32")))
        self.d_fake_tracker.update_state(ops.mean(ops.cast(fake_logits, "float32")))
        if self.code_classifier is not None:
            self.info_tracker.update_state(self._info_loss(z, fake, training=False))
        return self._logs()

    def _logs(self):
        logs = {m.name: m.result() for m in self.metrics}
        if hasattr(self.augment, "p"):  # ADA's augmentation probability
            logs["augment_p"] = ops.convert_to_tensor(self.augment.p)
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras reduces multi-worker logs with reduce(MEAN, axis=0), which
            # crashes on scalars (KERAS3_GAN_NOTES: "tf.distribute", tensorflow#72388).
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    @property
    def inference_generator(self):
        """The generator used by `generate()`, sample grids and export.

        The EMA copy of G when the model keeps one (`ema_generator`), else G.
        """
        return getattr(self, "ema_generator", None) or self.generator

    def call(self, z, training=False):
        """Runs the generator: `gan(z)` is `gan.generator(z)` (`[z, labels]` if conditional)."""
        return self.generator(z, training=training)

    # ------------------------------------------------------------ the schedule
    def _scheduled_phase(self):
        """The warm-up phase, from both optimizers' update counts (saved state)."""
        g_updates = int(ops.convert_to_numpy(self.g_optimizer.iterations))
        d_updates = int(ops.convert_to_numpy(self.d_optimizer.iterations))
        if d_updates == 0 and g_updates < self.warmup_g_steps:
            return "warmup_g"
        if d_updates < self.warmup_d_steps:
            return "warmup_d"
        return "regular"

    def _enter_phase(self, phase):
        """Switches the schedule's phase; the next train_function is a new trace."""
        if phase != self._phase:
            self._phase = phase
            self.train_function = None

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
        if self.num_classes is not None and not _has_labels(x, y):
            raise ValueError(self._missing_labels_message())
        # The step's own NaN check (`_real_samples`) is dropped by XLA only.
        x = validate_values(x, y, self.num_classes, check_x_in_pipeline=bool(self.jit_compile))
        # A dataset brings its own shuffling; Keras warns if asked to shuffle it.
        kwargs.setdefault("shuffle", not isinstance(x, tf.data.Dataset))
        if self.warmup_g_steps or self.warmup_d_steps:
            self._enter_phase(self._scheduled_phase())
            if self._phase != "regular":
                kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [_UpdateSchedule()]
        elif self._phase != "regular":
            self._enter_phase("regular")
        try:
            return super().fit(x, y, batch_size=batch_size, **kwargs)
        except tf.errors.InvalidArgumentError as e:
            # A dataset's NaN batch trips the check in `_real_samples`: re-raise
            # it as the ValueError it is, not a graph-execution trace.
            if "Invalid data `" not in e.message:
                raise
            message = e.message[e.message.index("Invalid data `"):]
            raise InvalidDataError(message.split("]")[0].splitlines()[0].split(" : ")[0]) from None

    def _check_compiled(self):
        if self.gan_loss is None:
            raise RuntimeError(
                "The GAN must be compiled before training: call "
                "`gan.compile(d_optimizer=..., g_optimizer=...)`."
            )

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

    # -------------------------------------------------------------- serialising
    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "ema_decay": self.ema_decay,
            "ema_warmup": self.ema_warmup,
            "pack": self.pack,
            "augment": None if self.augment is None else keras.saving.serialize_keras_object(self.augment),
            "code_classifier": None if self.code_classifier is None
            else keras.saving.serialize_keras_object(self.code_classifier),
            "info_weight": self.info_weight,
        }

    def _seed_generators_by_name(self):
        return {"noise_seed": self.seed_generator, "eval_noise_seed": self._eval_seed_generator,
                **layer_seed_generators(*self._networks())}

    def _networks(self):
        """G, D and Q (when the GAN has an InfoGAN code): the networks a step runs and trains."""
        return [m for m in (self.generator, self.discriminator, self.code_classifier) if m is not None]

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        for key in ("augment", "code_classifier"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class _UpdateSchedule(keras.callbacks.Callback):
    """Moves a GAN through its warm-up phases during `fit`, one retrace per switch."""

    def on_train_batch_begin(self, batch, logs=None):
        gan = self.model
        if gan._phase != "regular":
            gan._enter_phase(gan._scheduled_phase())
            # The fit loop calls `self.train_function` afresh at every batch.
            gan.make_train_function()
