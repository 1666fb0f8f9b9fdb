"""Training throughput: keras_gan.GAN (default and fast settings) vs a hand-written Keras loop and PyTorch.

In one process, on the same networks, batch and device, it measures the real
images per second that `fit` consumes for:

- `baseline`: the keras.io DCGAN pattern written out by hand in this file
  (`keras.Model` subclass, two tapes, real and fake concatenated into one D
  forward, G run once for D's fakes and once more inside G's tape, two Mean
  trackers, no extras). With `d_steps=k` it does what `keras_gan.GAN` does:
  k D updates on the k slices of the batch, then one G update on a slice.
- `default`: `keras_gan.GAN` compiled with nothing but its optimizers,
  the loss and `d_steps` (whatever `GAN.compile` picks by default: XLA for
  the MLP GAN on CPU, not for the DCGAN nor the toy nets), a plain Adam
  updating each variable in one kernel.
- `keras_adam`: `default` with Adam through Keras' own per-op update (an
  Adam subclass, which keras_gan does not fuse), as the baseline updates:
  its ratio to `default` is what the fused update buys.
- `keras_loop`: `default` on Keras' own train function (a tf.function
  over the iterator returning an Optional, read by two more eager ops per
  step) instead of keras_gan's (`next(iterator)`, then the compiled step;
  keras_gan/_internal/fit_loop.py), as the baseline runs: its ratio to `default` is
  what the leaner loop buys.
- `noxla`: `default` with `jit_compile=False` forced.
- `reuse`: `compile(reuse_fakes=True)`: one G forward per iteration, whose
  stop_gradient'd fakes D also trains on.
- `fast`: `reuse` plus `steps_per_execution` (several steps per call of the
  train function), XLA left to the default.
- `fast_xla`: `fast` with `jit_compile=True` forced.
- `fast_noxla`: `fast` with `jit_compile=False` forced.
- `bf16`: `default` under the `mixed_bfloat16` policy (bfloat16 compute,
  float32 weights; no loss scaling needed), the only change a user makes.
- `fast_bf16`: `fast` under `mixed_bfloat16`. bfloat16 pays on CPUs with
  bfloat16 matrix units (Intel AMX, AVX512-BF16), GPUs and TPUs; its numbers
  round to 8 significant bits, so the float32 variants are reported apart.
- `pipeline`: `default` fed by a `keras_gan.data` pipeline (cache, seeded
  shuffle, batch, prefetch) over a dataset of distinct samples instead of
  one in-memory batch: its ratio to `default` shows whether the input
  pipeline costs anything.
- `pytorch` (needs `pip install torch`): the same networks trained by a
  PyTorch loop, eager, on all cores, on the same in-memory batch.
  For `mlp28` (d_steps 1 only) it is the user's MLP GAN loop (PyTorch-GAN's
  gan.py: the same layers, sigmoid + BCELoss, G's update on its fakes, then
  D's on the real batch and those fakes detached). For `dcgan28` and
  `dcgan64` it is the baseline's order written in PyTorch (see
  `TorchDCGAN`): the same layer shapes in NCHW, k D updates on real and
  fakes made under `torch.no_grad()`, then a G update through a frozen D.
- `pytorch_cl` (dcgan28, dcgan64): `pytorch` with the networks and the batch
  in PyTorch's channels_last memory format (NHWC in memory, as TensorFlow
  lays images out), which PyTorch recommends for convolutions on a CPU.

Networks (`--networks`): `toy2d` (the 2D toy MLPs), `mlp28` (the MLP GAN on
28x28), `dcgan28` and `dcgan64` (the DCGAN builders on 28x28x1 and 64x64x3)
and `stylegan2_32` (StyleGAN2 on 32x32x3, `--width` channels per block).

    python benchmarks/throughput.py                      # the full grid (long)
    python benchmarks/throughput.py --networks mlp28 --batch-sizes 64 256 --d-steps 1
    python benchmarks/throughput.py --networks dcgan28 --d-steps 1 --batch-sizes 64 \
        --variants baseline default fast pytorch pytorch_cl
    python benchmarks/throughput.py --smoke              # CI: toy nets, a few steps

Timing: every variant of one grid cell is built and traced first (warm-up:
tracing and XLA compilation are excluded), then the variants run in turn,
A B C ... A B C ..., `--repeats` times, each run `--steps` steps; a run's
speed is measured from the start of its second train-function call to the
end of the run (the first call, which also creates the data iterator, is
not timed). The table gives the median and the slowest-fastest spread of
the runs, the ratio of medians to the baseline, the paired ratio (the
median over repeats of a run's speed over the baseline run of the same
round: the two ran seconds apart, so a slow drift of the machine cancels),
and images per CPU-second of this process (less distorted than wall time
when other processes share the cores).

Memory: "peak MB" is the rise of this process's peak resident set (Linux
VmHWM, reset through /proc/self/clear_refs before each run) over its
resident set at the start of that run, i.e. the working memory of the
training steps themselves (weights and traced graphs already exist; memory
malloc keeps from an earlier run is not counted again). "n/a" elsewhere.
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Runnable from a checkout: import this repository's keras_gan, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import ops  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import networks  # noqa: E402

VARIANTS = ("baseline", "default", "keras_adam", "keras_loop", "noxla", "reuse", "fast", "fast_xla", "fast_noxla", "bf16",
            "fast_bf16", "pipeline", "pytorch", "pytorch_cl")
TORCH = ("pytorch", "pytorch_cl")
FAST = ("reuse", "fast", "fast_xla", "fast_noxla", "fast_bf16")
BF16 = ("bf16", "fast_bf16")


# ---------------------------------------------------------------- the baseline
class BaselineGAN(keras.Model):
    """The keras.io DCGAN `train_step` (examples/generative/dcgan_overriding_train_step.py).

    Minus its label noise (an extra); `training=True` is passed explicitly, and
    `d_steps` splits the batch as `keras_gan.GAN` does (D update i on slice i,
    every image in one slice; G on as many fakes as slice 0 holds), so both
    do the same work per batch.
    """

    def __init__(self, discriminator, generator, latent_dim, d_steps=1):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_steps = d_steps
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        n = ops.shape(real_images)[0]
        for i in range(self.d_steps):
            # Slice i of k is [i*n//k, (i+1)*n//k), as in keras_gan.GAN: the k
            # slices hold every image of the batch. (Slices of n // k images
            # would drop n % k of them, which the table credits it with.)
            real = real_images[i * n // self.d_steps:(i + 1) * n // self.d_steps]
            size = ops.shape(real)[0]
            z = keras.random.normal((size, self.latent_dim), seed=self.seed_generator)
            generated_images = self.generator(z, training=True)
            combined_images = ops.concatenate([generated_images, real], axis=0)
            labels = ops.concatenate([ops.ones((size, 1)), ops.zeros((size, 1))], axis=0)
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images, training=True)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        # G's update on as many fakes as the first slice holds, as keras_gan.GAN's.
        size = n // self.d_steps
        z = keras.random.normal((size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


# ------------------------------------------------------------ the PyTorch loop
class TorchMLPGAN:
    """The user's PyTorch MLP GAN, eager (the `pytorch` variant), behind a `fit` like Keras'.

    PyTorch-GAN's gan.py: G Linear 128 (no BatchNorm), 256, 512, 1024
    (BatchNorm), LeakyReLU(0.2), tanh; D 512-256-1, LeakyReLU(0.2), sigmoid;
    BCELoss; Adam(2e-4, betas=(0.5, 0.999)). An iteration runs G forward
    once: G's update on its fakes labelled real, then D's on the real batch
    and those fakes detached, `(real_loss + fake_loss) / 2`. The layer sizes
    are `_mlp_units`', so both frameworks train the same networks.
    """

    jit_compile = False

    def __init__(self, shape, latent_dim, width):
        try:
            import torch
        except ImportError as e:
            raise ImportError("The `pytorch` variant needs PyTorch: pip install torch") from e
        from torch import nn

        torch.manual_seed(0)
        torch.set_num_threads(os.cpu_count())
        self.torch, self.latent_dim, self.features = torch, latent_dim, math.prod(shape)
        g_units, d_units = _mlp_units(width)
        layers, fan_in = [], latent_dim
        for i, units in enumerate(g_units):
            norm = [nn.BatchNorm1d(units, momentum=0.2)] if i else []  # Keras' momentum 0.8
            layers += [nn.Linear(fan_in, units), *norm, nn.LeakyReLU(0.2)]
            fan_in = units
        self.generator = nn.Sequential(*layers, nn.Linear(fan_in, self.features), nn.Tanh())
        layers, fan_in = [], self.features
        for units in d_units:
            layers += [nn.Linear(fan_in, units), nn.LeakyReLU(0.2)]
            fan_in = units
        self.discriminator = nn.Sequential(*layers, nn.Linear(fan_in, 1), nn.Sigmoid())
        self.loss = nn.BCELoss()
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def train_step(self, real):
        torch = self.torch
        valid, fake = torch.ones(real.shape[0], 1), torch.zeros(real.shape[0], 1)
        self.g_optimizer.zero_grad()
        gen_imgs = self.generator(torch.randn(real.shape[0], self.latent_dim))
        g_loss = self.loss(self.discriminator(gen_imgs), valid)
        g_loss.backward()
        self.g_optimizer.step()
        self.d_optimizer.zero_grad()
        real_loss = self.loss(self.discriminator(real), valid)
        fake_loss = self.loss(self.discriminator(gen_imgs.detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        self.d_optimizer.step()

    def _batch(self, data):
        """The dataset's first batch, flattened."""
        return self.torch.from_numpy(next(iter(data)).numpy().reshape(-1, self.features))

    def fit(self, data, epochs=1, steps_per_epoch=1, callbacks=(), **kwargs):
        """Trains on the dataset's first batch, `steps_per_epoch` times, calling Keras' callback hooks."""
        real = self._batch(data)
        for callback in callbacks:
            callback.on_train_begin()
        for step in range(steps_per_epoch):
            for callback in callbacks:
                callback.on_train_batch_begin(step)
            self.train_step(real)
            for callback in callbacks:
                callback.on_train_batch_end(step)
        for callback in callbacks:
            callback.on_epoch_end(0)
            callback.on_train_end()


class TorchDCGAN(TorchMLPGAN):
    """The DCGAN builders' networks in PyTorch, trained in the baseline's order (the `pytorch` variant).

    G: Linear (no bias) to (2*filters, H/4, W/4), BatchNorm, LeakyReLU(0.2),
    ConvTranspose 4x4 stride 2 (no bias), BatchNorm, LeakyReLU(0.2),
    ConvTranspose 4x4 stride 2 to C channels, tanh. D: Conv 4x4 stride 2
    (filters, then 2*filters), LeakyReLU(0.2) after each, Linear to one logit.
    Padding 1 gives the shapes of Keras' `padding="same"` for even H and W,
    BatchNorm has Keras' momentum and epsilon, the layout is PyTorch's own
    NCHW. An iteration is `BaselineGAN.train_step` written the way a PyTorch
    user writes it at its fastest: for each of the k slices, fakes made under
    `torch.no_grad()` (the `detach()` without the graph) and one D forward
    on fakes and real concatenated, BCE with logits (fakes 1, real 0), Adam
    (2e-4, betas (0.5, 0.999)); then G's update on fresh noise through D
    with `requires_grad_(False)` on D's parameters, so no gradient is
    computed for D's weights in G's phase (what a tape over G's variables
    computes in TensorFlow).
    """

    def __init__(self, shape, latent_dim, width, d_steps=1, channels_last=False):
        try:
            import torch
        except ImportError as e:
            raise ImportError("The `pytorch` variant needs PyTorch: pip install torch") from e
        from torch import nn

        torch.manual_seed(0)
        torch.set_num_threads(os.cpu_count())
        h, w, c = shape
        self.torch, self.latent_dim, self.shape, self.d_steps = torch, latent_dim, shape, d_steps
        f = width

        def norm(n, dims):
            # Keras' BatchNormalization: momentum 0.99 (PyTorch counts 1 - that), epsilon 1e-3.
            return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(n, momentum=0.01, eps=1e-3)

        self.generator = nn.Sequential(
            nn.Linear(latent_dim, (h // 4) * (w // 4) * 2 * f, bias=False), norm((h // 4) * (w // 4) * 2 * f, 1),
            nn.LeakyReLU(0.2),
            # Keras reshapes to (H/4, W/4, 2f); the order of the Linear's units does not matter here.
            nn.Unflatten(1, (2 * f, h // 4, w // 4)),
            nn.ConvTranspose2d(2 * f, f, 4, stride=2, padding=1, bias=False), norm(f, 2), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(f, c, 4, stride=2, padding=1), nn.Tanh())
        self.discriminator = nn.Sequential(
            nn.Conv2d(c, f, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(f, 2 * f, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * f * (h // 4) * (w // 4), 1))
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator.to(memory_format=self.memory_format)
        self.discriminator.to(memory_format=self.memory_format)
        self.loss = nn.BCEWithLogitsLoss()
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def train_step(self, real_images):
        torch, n, k = self.torch, real_images.shape[0], self.d_steps
        for i in range(k):
            real = real_images[i * n // k:(i + 1) * n // k]
            size = real.shape[0]
            with torch.no_grad():
                fakes = self.generator(torch.randn(size, self.latent_dim))
            labels = torch.cat([torch.ones(size, 1), torch.zeros(size, 1)])
            self.d_optimizer.zero_grad(set_to_none=True)
            self.loss(self.discriminator(torch.cat([fakes, real])), labels).backward()
            self.d_optimizer.step()
        size = n // k
        self.discriminator.requires_grad_(False)
        self.g_optimizer.zero_grad(set_to_none=True)
        fakes = self.generator(torch.randn(size, self.latent_dim))
        self.loss(self.discriminator(fakes), torch.zeros(size, 1)).backward()
        self.g_optimizer.step()
        self.discriminator.requires_grad_(True)

    def _batch(self, data):
        """The dataset's first batch as an NCHW tensor, in the networks' memory format."""
        batch = self.torch.from_numpy(np.ascontiguousarray(next(iter(data)).numpy().transpose(0, 3, 1, 2)))
        return batch.contiguous(memory_format=self.memory_format)


# -------------------------------------------------------------------- networks
def _mlp_units(width):
    """The MLP GAN's hidden sizes (G, D) at `width` (64: the user's 128-256-512-1024 and 512-256)."""
    return (tuple(u * width // 64 for u in (128, 256, 512, 1024)), tuple(u * width // 64 for u in (512, 256)))


def _mlp(shape, latent_dim, width):
    g_units, d_units = _mlp_units(width)
    return (networks.mlp_generator(latent_dim, shape, units=g_units),
            networks.mlp_discriminator(shape, units=d_units))


def _dcgan(shape, latent_dim, width):
    return (networks.dcgan_generator(latent_dim, shape, filters=width),
            networks.dcgan_discriminator(shape, filters=width))


def _stylegan2(shape, latent_dim, width):
    # `width` channels in every block, as `channel_max`; w as wide as z.
    side, channels = shape[0], shape[2]
    return (networks.stylegan2_generator(side, channels, latent_dim=latent_dim, w_dim=latent_dim,
                                         channel_base=width * side, channel_max=width),
            networks.stylegan2_discriminator(side, channels, channel_base=width * side, channel_max=width))


def _toy(shape, latent_dim, width):
    units = (width, width)
    return networks.toy_generator(latent_dim, shape[0], units=units), networks.toy_discriminator(shape[0], units=units)


# name: (builder, sample shape, latent_dim)
NETWORKS = {
    "mlp28": (_mlp, (28, 28, 1), 100),
    "dcgan28": (_dcgan, (28, 28, 1), 100),
    "dcgan64": (_dcgan, (64, 64, 3), 100),
    "stylegan2_32": (_stylegan2, (32, 32, 3), 64),
    "toy2d": (_toy, (2,), 8),
}


class KerasAdam(keras.optimizers.Adam):
    """Adam through Keras' own per-op update: keras_gan fuses only the exact class."""


class KerasLoopGAN(keras_gan.GAN):
    """keras_gan.GAN on Keras' own train function (the `keras_loop` variant)."""

    def _one_call_per_step(self, step_function, keras_function):
        return keras_function


def _optimizer(cls=keras.optimizers.Adam):
    return cls(2e-4, beta_1=0.5)


def build(variant, network, d_steps, width, steps_per_execution):
    """A compiled model of one variant, on fresh networks with seed-fixed weights."""
    previous = keras.mixed_precision.global_policy()
    # Layers take the policy when they are built.
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if variant in BF16 else "float32")
    try:
        return _build(variant, network, d_steps, width, steps_per_execution)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _build(variant, network, d_steps, width, steps_per_execution):
    builder, shape, latent_dim = NETWORKS[network]
    if variant in TORCH:
        if network == "mlp28":
            return TorchMLPGAN(shape, latent_dim, width)
        return TorchDCGAN(shape, latent_dim, width, d_steps, channels_last=variant == "pytorch_cl")
    keras.utils.set_random_seed(0)
    generator, discriminator = builder(shape, latent_dim, width)
    if variant == "baseline":
        model = BaselineGAN(discriminator, generator, latent_dim, d_steps)
        model.compile(_optimizer(), _optimizer(), keras.losses.BinaryCrossentropy(from_logits=True))
        return model
    model = (KerasLoopGAN if variant == "keras_loop" else keras_gan.GAN)(generator, discriminator, seed=0)
    kwargs = {}
    if variant in FAST:
        kwargs["reuse_fakes"] = True
    if variant.startswith("fast"):
        kwargs["steps_per_execution"] = steps_per_execution
    if variant in ("fast_xla", "fast_noxla", "noxla"):
        kwargs["jit_compile"] = variant == "fast_xla"
    adam = KerasAdam if variant == "keras_adam" else keras.optimizers.Adam
    model.compile(_optimizer(adam), _optimizer(adam), loss="non_saturating", d_steps=d_steps, **kwargs)
    return model


def in_memory_data(network, batch_size):
    """One fixed batch, repeated: no input pipeline work at all."""
    shape = NETWORKS[network][1]
    batch = np.random.default_rng(0).uniform(-1, 1, (batch_size,) + shape).astype("float32")
    return tf.data.Dataset.from_tensors(batch).repeat()


def pipeline_data(network, batch_size, n):
    """`n` distinct samples through keras_gan.data's pipeline (cache, shuffle, batch, prefetch)."""
    shape = NETWORKS[network][1]
    x = np.random.default_rng(1).uniform(-1, 1, (n,) + shape).astype("float32")
    return keras_gan.data.pipeline(x, batch_size, seed=0, drop_remainder=True).repeat()


# ---------------------------------------------------------------------- timing
class _Timer(keras.callbacks.Callback):
    """Marks (steps done, wall, CPU time) before each train-function call and at the epoch's end.

    Marks are taken at a batch's *begin* on purpose: a callback with a
    batch-*end* hook turns off Keras' asynchronous log dispatch, and fit then
    converts every logged metric to a Python float after every step, in
    the training thread (keras/src/callbacks/callback_list.py): the timer
    would change what it times, which `fit(verbose=0)` without such
    callbacks does not do.
    """

    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def on_train_begin(self, logs=None):
        self.marks = []

    def on_train_batch_begin(self, batch, logs=None):
        self.marks.append((batch, time.perf_counter(), time.process_time()))

    def on_epoch_end(self, epoch, logs=None):
        self.marks.append((self.steps, time.perf_counter(), time.process_time()))


def _peak_reset():
    """Resets the peak RSS; returns the current RSS in kB (None when unsupported)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kb("VmRSS")
    except OSError:
        return None


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def timed_run(model, data, steps, batch_size):
    """One run of `steps` steps: (images/s, images per CPU-second, peak MB or None)."""
    timer = _Timer(steps)
    start_rss = _peak_reset()
    model.fit(data, epochs=1, steps_per_epoch=steps, callbacks=[timer], shuffle=False, verbose=0)
    peak = None if start_rss is None else max(0, _status_kb("VmHWM") - start_rss) / 1024
    # From the second call (the first also creates the data iterator) to the end.
    (b0, w0, c0), (b1, w1, c1) = timer.marks[1], timer.marks[-1]
    images = (b1 - b0) * batch_size
    return images / (w1 - w0), images / max(c1 - c0, 1e-9), peak


def measure_cell(network, d_steps, batch_size, variants, args, trained=None):
    """{variant: (median img/s, low, high, paired ratio, median img/CPU-s, peak MB, XLA)} for one grid cell.

    `trained`, a dict, receives each variant's model after its runs.
    """
    models, datasets = {}, {}
    spe = args.steps_per_execution
    steps = max(args.steps // spe * spe, 2 * spe) if any(v.startswith("fast") for v in variants) else args.steps
    for variant in variants:
        models[variant] = build(variant, network, d_steps, args.width, spe)
        datasets[variant] = (pipeline_data(network, batch_size, args.pipeline_samples)
                             if variant == "pipeline" else in_memory_data(network, batch_size))
        # Warm-up: traces (and XLA-compiles) the train function; not timed.
        models[variant].fit(datasets[variant], epochs=1, steps_per_epoch=2 * spe if variant.startswith("fast") else 2,
                            shuffle=False, verbose=0)
    runs = {v: [] for v in variants}
    for _ in range(args.repeats):
        for variant in variants:
            runs[variant].append(timed_run(models[variant], datasets[variant], steps, batch_size))
    if trained is not None:
        trained.update(models)
    results = {}
    for variant, rs in runs.items():
        speeds = [r[0] for r in rs]
        peaks = [r[2] for r in rs if r[2] is not None]
        paired = statistics.median(r[0] / b[0] for r, b in zip(rs, runs["baseline"]))
        results[variant] = (statistics.median(speeds), min(speeds), max(speeds), paired,
                            statistics.median(r[1] for r in rs), max(peaks) if peaks else None,
                            bool(models[variant].jit_compile))
    return results


def device_name():
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def main(argv=None, trained=None):
    """Runs the benchmark; `trained`, a dict, receives each variant's model of the last grid cell."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--d-steps", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v not in TORCH], choices=VARIANTS,
                        help="what to time (all but the PyTorch loops by default)")
    parser.add_argument("--steps", type=int, default=32, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=7, help="runs per variant, interleaved")
    parser.add_argument("--steps-per-execution", type=int, default=8,
                        help="steps per train-function call of the fast variants")
    parser.add_argument("--width", type=int, default=64,
                        help="network width: DCGAN filters; MLP units scale by width/64; StyleGAN2 channels "
                             "per block; toy units")
    parser.add_argument("--pipeline-samples", type=int, default=4096,
                        help="distinct samples in the pipeline variant's dataset")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check: toy nets, one cell (d_steps 2, batch 16), the variants baseline "
                             "default keras_adam keras_loop fast fast_bf16 pipeline, a few steps, 1 repeat")
    args = parser.parse_args(argv)
    if args.smoke:
        args.networks, args.d_steps, args.batch_sizes = ["toy2d"], [2], [16]
        args.variants = ["baseline", "default", "keras_adam", "keras_loop", "fast", "fast_bf16", "pipeline"]
        args.steps, args.repeats, args.steps_per_execution, args.width = 4, 1, 2, 8
        args.pipeline_samples = 64
    if "baseline" not in args.variants:
        args.variants = ["baseline"] + list(args.variants)
    if "pytorch" in args.variants and ({"toy2d", "stylegan2_32"} & set(args.networks)
                                       or ("mlp28" in args.networks and set(args.d_steps) != {1})):
        parser.error("--variants pytorch: the PyTorch loops are the user's MLP GAN with one D update per G "
                     "update (--networks mlp28 --d-steps 1) and the DCGANs (--networks dcgan28 dcgan64, any "
                     f"--d-steps); received --networks {' '.join(args.networks)} "
                     f"--d-steps {' '.join(map(str, args.d_steps))}")
    if "pytorch_cl" in args.variants and not set(args.networks) <= {"dcgan28", "dcgan64"}:
        parser.error("--variants pytorch_cl: channels_last is a layout of images, for --networks dcgan28 dcgan64; "
                     f"received --networks {' '.join(args.networks)}")

    print(f"Training throughput on {device_name()}; TF {tf.__version__}, Keras {keras.__version__}, "
          f"{tf.config.threading.get_inter_op_parallelism_threads() or 'default'} inter-op threads")
    print(f"{args.repeats} interleaved runs of {args.steps} steps per variant after a warm-up; "
          f"steps_per_execution {args.steps_per_execution} for fast*; width {args.width}")
    print("img/s: real images consumed per second (median, and spread of the runs); "
          "x base: ratio of medians to the baseline; paired: median of each run's ratio to the baseline "
          "run of the same round; img/CPU-s: per CPU-second of this process")
    print()
    print("| network | d_steps | batch | variant | XLA | img/s | spread img/s | x base | paired "
          "| img/CPU-s | x base CPU | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = []
    for network in args.networks:
        for d_steps in args.d_steps:
            for batch_size in args.batch_sizes:
                results = measure_cell(network, d_steps, batch_size, args.variants, args, trained)
                base, base_cpu = results["baseline"][0], results["baseline"][4]
                for variant in args.variants:
                    median, low, high, paired, cpu, peak, xla = results[variant]
                    peak = "n/a" if peak is None else f"{peak:.0f}"
                    print(f"| {network} | {d_steps} | {batch_size} | {variant} | {'on' if xla else 'off'} | "
                          f"{median:.0f} | {low:.0f}-{high:.0f} | {median / base:.2f} | {paired:.2f} | {cpu:.0f} | "
                          f"{cpu / base_cpu:.2f} | {peak} |", flush=True)
                if "default" in results:
                    row = [network, d_steps, batch_size, f"{results['default'][0] / base:.2f}"]
                    for group in ([v for v in FAST if v not in BF16], BF16):
                        measured = [v for v in args.variants if v in group]
                        best = max(measured, key=lambda v: results[v][0]) if measured else None
                        row += [best or "-", f"{results[best][0] / base:.2f}" if best else "-"]
                    summary.append(row)
                keras.backend.clear_session()
    if summary:
        print()
        print("| network | d_steps | batch | default x base | fastest float32 variant | x base "
              "| fastest bfloat16 variant | x base |")
        print("|---|---|---|---|---|---|---|---|")
        for row in summary:
            print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
