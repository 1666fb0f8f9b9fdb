"""`AdversarialModel`: the trainer base under `GAN`, `Pix2Pix` and `CycleGAN`.

A subclass names its networks (`generators`, `discriminators`), its logs
(`log_names`) and writes `train_step` from the primitives here:

- `d_update(loss_fn)` / `g_update(loss_fn)`: one optimizer step on a loss,
  under a tape over exactly that side's variables (`d_variables`,
  `g_variables`), loss-scaled for mixed precision and divided by the replica
  count under `tf.distribute`.
- `frozen_discriminators()`: every discriminator `trainable = False` for the
  G phase, restored on exit (also on error). A frozen BatchNormalization
  layer runs in inference mode (docs/design.md, "Freezing D").
- `detached(generator, inputs)`: G's output for the D phase, as PyTorch's
  `detach()`: training mode, its state updates (BatchNorm statistics)
  discarded, no gradient to G.
- `log(name, value)`: one logging path for every model; a train step's
  values reach the Mean trackers once, at the step's end.

The base also owns compile (its guards, optimizer resolution with
`LossScaleOptimizer` under `mixed_float16`, the compile config that lets
`load_model` restore both optimizers), and saves the models' and layers'
`SeedGenerator` states with the weights.
"""

import contextlib
import threading

import tensorflow as tf
import keras
from keras import ops

from keras_gan._internal import adam, keras_private
from keras_gan._internal import random as _random
from keras_gan._internal.validation import check_seed
from keras_gan._internal.fit_loop import FewerHostOpsPerStep
from keras_gan._internal.seed_states import SavesSeedStates
from keras_gan.components import losses as losses_module


def uses_float16(*models):
    """Whether the global policy or one of `models` computes in float16."""
    policies = [keras.mixed_precision.global_policy()] + [m.dtype_policy for m in models]
    return any(p.compute_dtype == "float16" for p in policies)


def resolve_optimizers(d_optimizer, g_optimizer, *models):
    """D's and G's optimizers, distinct, loss-scaled when `models` compute in float16."""
    d_optimizer = keras.optimizers.get(d_optimizer)
    g_optimizer = keras.optimizers.get(g_optimizer)
    if d_optimizer is g_optimizer:
        raise ValueError(
            "Invalid value for argument `g_optimizer`: expected an optimizer "
            "distinct from `d_optimizer` (each keeps its own state). "
            "Received the same object for both."
        )
    if uses_float16(*models):
        # compile(auto_scale_loss=True) wraps only `self.optimizer`, which a
        # two-optimizer model does not use (docs/design.md, "Loss scaling of both optimizers").
        d_optimizer, g_optimizer = (
            o if isinstance(o, keras.optimizers.LossScaleOptimizer)
            else keras.optimizers.LossScaleOptimizer(o)
            for o in (d_optimizer, g_optimizer)
        )
    return d_optimizer, g_optimizer


def agree_on_overflow(grads):
    """Makes every replica's gradients non-finite when any replica's are.

    LossScaleOptimizer decides whether to skip a step from the first replica's
    local gradients only (Keras 3 `_tf_apply`, merge_call path: CPUs, and
    GPUs without XLA): an overflow on another replica would then reach the
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


class _StepLogs:
    """The values one train step logs, added to the Mean trackers at its end.

    With `d_steps=k` a step logs each D value k times: summed here, each
    tracker is updated once per step (`keras_private.add_to_mean`); the
    logged means are the same.
    """

    def __init__(self):
        self._values = {}

    def add(self, tracker, value):
        self._values.setdefault(id(tracker), (tracker, []))[1].append(ops.cast(value, tracker.total.dtype))

    def flush(self):
        for tracker, values in self._values.values():
            keras_private.add_to_mean(tracker, values[0] if len(values) == 1 else tf.add_n(values), count=len(values))


# Per thread: MirroredStrategy traces each replica's step in its own thread.
_STEP_LOGS = threading.local()


class AdversarialModel(SavesSeedStates, FewerHostOpsPerStep, keras.Model):
    """Base class of the adversarial trainers: compile, the update primitives, logs, seeds.

    Subclasses set `default_loss` and `log_names`, implement `train_step`,
    set `generator` and `discriminator` (or override `generators` and
    `discriminators`), and may extend `g_variables`,
    `compile`'s arguments (through `_extra_compile_config`) and the saved seeds
    (`_own_seed_generators`).

    Args:
        seed: seed of the model's `keras.random.SeedGenerator` (`noise_seed`),
            the source of its training noise; its state is saved with the model.
    """

    #: The adversarial loss `compile` uses when given none.
    default_loss = "non_saturating"
    #: Every value the model can log, in the order `fit` shows them.
    log_names = ()

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else check_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="noise_seed")
        self.gan_loss = None
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.log_names}

    # ---------------------------------------------------------------- networks
    @property
    def generators(self):
        """The generators, in a fixed order (their variables form G's optimizer's list)."""
        return [self.generator]

    @property
    def discriminators(self):
        """The discriminators, in a fixed order (their variables form D's optimizer's list)."""
        return [self.discriminator]

    def d_variables(self):
        """What `d_optimizer` updates: every discriminator's trainable variables."""
        return [v for d in self.discriminators for v in d.trainable_variables]

    def g_variables(self):
        """What `g_optimizer` updates: every generator's trainable variables."""
        return [v for g in self.generators for v in g.trainable_variables]

    # ----------------------------------------------------------------- compile
    def compile(self, d_optimizer, g_optimizer, loss=None, **kwargs):
        """Configures both optimizers and the adversarial loss.

        Args:
            d_optimizer: the discriminators' optimizer (instance, name or config).
            g_optimizer: the generators' optimizer; a different object.
            loss: a loss name (`keras_gan.losses.names()`) or a
                `keras_gan.losses.GANLoss`; None for the model's default.
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`,
                `steps_per_execution`, `run_eagerly`).

        Under a `mixed_float16` policy both optimizers are wrapped in
        `keras.optimizers.LossScaleOptimizer` unless already wrapped.
        """
        for bad in ("optimizer", "metrics", "loss_weights"):
            if bad in kwargs:
                raise ValueError(
                    f"Invalid argument `{bad}` for {type(self).__name__}.compile: use "
                    "`d_optimizer`, `g_optimizer` and `loss`."
                )
        self.gan_loss = losses_module.get(self.default_loss if loss is None else loss)
        self.d_optimizer, self.g_optimizer = resolve_optimizers(
            d_optimizer, g_optimizer, *self._networks())
        # optimizer=None: a bare compile would create an unused optimizer.
        super().compile(optimizer=None, **kwargs)
        # Built now, in the caller's strategy scope, on each side's own variables:
        # an optimizer built lazily inside a replica's step fails (keras#19246),
        # and an optimizer accepts only the variables it was built with.
        self.d_optimizer.build(self.d_variables())
        self.g_optimizer.build(self.g_variables())

    def _extra_compile_config(self):
        """The subclass's own `compile` arguments, for `get_compile_config`."""
        return {}

    def get_compile_config(self):
        if self.gan_loss is None:
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": keras.saving.serialize_keras_object(self.gan_loss),
            **self._extra_compile_config(),
        }

    def compile_from_config(self, config):
        # Rebuilding both optimizers here is what lets load_model restore
        # their state; Keras' default would warn and drop it.
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer", "loss"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        for key, value in config.items():
            if isinstance(value, (list, tuple)):  # penalties, terms
                config[key] = [keras.saving.deserialize_keras_object(v) for v in value]
        self.compile(**config)

    def _check_compiled(self):
        if self.gan_loss is None:
            kind = type(self).__name__
            raise RuntimeError(
                f"The {kind} must be compiled before training: call "
                f"`{'gan' if kind == 'GAN' else 'model'}.compile(d_optimizer=..., g_optimizer=...)`."
            )

    # ------------------------------------------------------------- primitives
    def d_update(self, loss_fn):
        """One `d_optimizer` step on `loss_fn(tape)` over `d_variables()`. Returns the loss.

        `loss_fn` gets the tape (for `tape.stop_recording()`) and returns a
        scalar loss; its gradient is taken over the discriminators' variables only.
        """
        return self._update(self.d_optimizer, self.d_variables(), loss_fn)

    def g_update(self, loss_fn):
        """One `g_optimizer` step on `loss_fn(tape)` over `g_variables()`. Returns the loss.

        Run the discriminators inside `loss_fn` under `frozen_discriminators()`.
        """
        return self._update(self.g_optimizer, self.g_variables(), loss_fn)

    def _update(self, optimizer, variables, loss_fn):
        with tf.GradientTape() as tape:
            loss = loss_fn(tape)
            scaled = self.scale_for_gradient(loss, optimizer)
        self.apply_gradients(optimizer, tape.gradient(scaled, variables), variables)
        return loss

    @contextlib.contextmanager
    def frozen_discriminators(self):
        """Every discriminator `trainable = False` inside the block, restored on exit.

        The flag is read when the step is traced, so toggling it inside
        `train_step` freezes D in the G phase only (docs/design.md, "Freezing D").
        """
        was_trainable = [d.trainable for d in self.discriminators]
        for d in self.discriminators:
            d.trainable = False
        try:
            yield
        finally:
            for d, trainable in zip(self.discriminators, was_trainable):
                d.trainable = trainable

    @staticmethod
    def detached(generator, inputs):
        """G's output for the D phase: training mode, state updates discarded, no gradient.

        `stateless_call` returns G's BatchNorm statistics instead of assigning
        them, so the D phase changes no G variable; `stop_gradient` is
        PyTorch's `detach()`.
        """
        fake, _ = generator.stateless_call(
            [v.value for v in generator.trainable_variables],
            [v.value for v in generator.non_trainable_variables],
            inputs,
            training=True,
        )
        return ops.stop_gradient(fake)

    def scale_for_gradient(self, loss, optimizer):
        """The loss whose gradient the optimizer applies: per replica, loss-scaled.

        Gradients are summed over replicas and the loss is a local mean, so it
        is divided by the replica count (docs/design.md, "Loss scaling across replicas");
        under a `LossScaleOptimizer` it is multiplied by the loss scale.
        """
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            loss = optimizer.scale_loss(loss)
        return loss

    def apply_gradients(self, optimizer, grads, variables):
        """`optimizer.apply_gradients`, with overflows agreed across replicas and fused Adam."""
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            grads = agree_on_overflow(grads)
        # A plain Adam takes fewer ops: one kernel per large variable (keras_gan._internal.adam).
        adam.apply_gradients(optimizer, grads, variables)

    def replica_seed(self, seed_generator=None):
        """A stateless seed from the seed generator, with the replica id folded in (if several).

        A SeedGenerator alone gives every replica the same numbers
        (keras#20611), so each replica folds in its id.
        """
        return _random.replica_seed(seed_generator or self.seed_generator)

    # -------------------------------------------------------------------- logs
    @contextlib.contextmanager
    def collecting_logs(self):
        """Inside a train step: `log` collects its values and adds them to the trackers at the end."""
        _STEP_LOGS.__dict__[id(self)] = step_logs = _StepLogs()
        try:
            yield
            step_logs.flush()
        finally:
            del _STEP_LOGS.__dict__[id(self)]

    def log(self, name, value):
        """Adds a scalar to the Mean tracker `name` (at the step's end inside `collecting_logs`)."""
        tracker = self.trackers[name]
        step_logs = _STEP_LOGS.__dict__.get(id(self))
        if step_logs is None:
            keras_private.add_to_mean(tracker, value)
        else:
            step_logs.add(tracker, value)

    def active_log_names(self):
        """The names this configuration logs (all of `log_names` unless overridden)."""
        return self.log_names

    @property
    def metrics(self):
        return [self.trackers[name] for name in self.active_log_names()]

    def logs(self):
        """The trackers' results, as `train_step` and `test_step` return them."""
        logs = {m.name: m.result() for m in self.metrics}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras reduces multi-worker logs with reduce(MEAN, axis=0), which
            # crashes on scalars (tensorflow#72388, keras#20585).
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    # ------------------------------------------------------------------ seeds
    def _own_seed_generators(self):
        """The model's own seed generators by saved name (the networks' are added)."""
        return {"noise_seed": self.seed_generator}

    def _seed_generators_by_name(self):
        return {**self._own_seed_generators(),
                **keras_private.layer_seed_generators(*self._networks())}

    def _other_networks(self):
        """Networks besides the generators and discriminators that a step runs and trains."""
        return []

    def _networks(self):
        """Every network a step runs and trains: the generators, the discriminators, the others."""
        return [*self.generators, *self.discriminators, *self._other_networks()]
