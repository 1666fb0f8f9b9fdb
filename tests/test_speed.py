"""Speed features of the GAN: bounded tracing, fake reuse, the XLA default, the input pipeline."""

import numpy as np
import pytest
import tensorflow as tf
import keras
from keras import layers

import keras_gan
from keras_gan import networks

from _nets import bn_discriminator, bn_generator


def make_gan(cls=keras_gan.GAN, d_steps=1, g_steps=1, **compile_kwargs):
    gan = cls(bn_generator(), bn_discriminator(), seed=0)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2),
                d_steps=d_steps, g_steps=g_steps, **compile_kwargs)
    return gan


def real_data(n=96, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")


def weights(model):
    return [v.numpy().copy() for v in model.weights]  # BatchNorm statistics included


def identical(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def count_generator_forwards(gan):
    """Counts forward passes through G by wrapping the call of its first Dense layer."""
    dense = next(l for l in gan.generator.layers if isinstance(l, layers.Dense))
    calls = []
    original = dense.call

    def counting_call(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    dense.call = counting_call
    return calls


# ------------------------------------------------------------------- tracing
class _TracingGAN(keras_gan.GAN):
    traces = 0

    def train_step(self, data):
        _TracingGAN.traces += 1  # Python runs only while tracing
        return super().train_step(data)


def test_train_step_is_traced_a_bounded_number_of_times_over_several_epochs():
    _TracingGAN.traces = 0
    gan = make_gan(_TracingGAN)
    gan.fit(real_data(96), batch_size=32, epochs=4, verbose=0)  # 12 steps
    assert _TracingGAN.traces == 1
    # A second fit reuses the trace; its ragged last batches (100 = 3 x 32 + 4)
    # cost at most one more, shape-relaxed, trace over all its epochs.
    gan.fit(real_data(100), batch_size=32, epochs=3, verbose=0)
    assert _TracingGAN.traces <= 2


# --------------------------------------------------------------- reuse_fakes
@pytest.mark.parametrize("d_steps,reuse_fakes,forwards_per_step", [
    (1, False, 2), (1, True, 1), (3, False, 4), (3, True, 3),
])
def test_reuse_fakes_runs_one_generator_forward_fewer_per_step(d_steps, reuse_fakes, forwards_per_step):
    gan = make_gan(d_steps=d_steps, reuse_fakes=reuse_fakes, run_eagerly=True)
    calls = count_generator_forwards(gan)
    gan.fit(real_data(96), batch_size=32, epochs=1, verbose=0)  # 3 steps, run eagerly
    assert len(calls) == 3 * forwards_per_step


class _PhaseRecordingGAN(keras_gan.GAN):
    """Records G and D at the start and end of every D update (run eagerly)."""

    records = []

    def _d_step(self, real, labels=None, fake=None, **kwargs):
        start = weights(self.generator), weights(self.discriminator)
        loss = super()._d_step(real, labels, fake, **kwargs)
        _PhaseRecordingGAN.records.append((start, (weights(self.generator), weights(self.discriminator)), fake))
        return loss


def test_reuse_fakes_keeps_the_phases_isolated_batchnorm_included():
    _PhaseRecordingGAN.records = []
    gan = make_gan(_PhaseRecordingGAN, reuse_fakes=True, run_eagerly=True)
    g_before = weights(gan.generator)
    gan.fit(real_data(32), batch_size=32, epochs=1, verbose=0)  # one step
    [((g_start, d_start), (g_end, d_end), fake)] = _PhaseRecordingGAN.records
    assert fake is not None  # D trained on the G phase's fakes, not on fresh ones
    assert identical(g_start, g_end)  # the D phase changed no G variable
    assert not identical(d_start, d_end)  # ... and did update D
    assert identical(d_end, weights(gan.discriminator))  # the G phase changed no D variable
    assert not identical(g_end, weights(gan.generator))  # ... and did update G
    # G's BatchNorm statistics moved in the G phase's forward pass, before the shared D update.
    stats = [i for i, v in enumerate(gan.generator.weights) if not v.trainable]
    assert stats and not identical([g_before[i] for i in stats], [g_start[i] for i in stats])
    assert gan.discriminator.trainable  # restored after the G phase


def test_reuse_fakes_keeps_the_update_counts():
    gan = make_gan(d_steps=3, g_steps=2, reuse_fakes=True)
    gan.fit(real_data(96), batch_size=32, epochs=1, verbose=0)  # 3 batches
    assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (9, 6)


def test_reuse_fakes_learns_the_1d_gaussian():
    gan = keras_gan.GAN(networks.toy_generator(4, 1), networks.toy_discriminator(1), seed=0)
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5),
                reuse_fakes=True, steps_per_execution=8)
    gan.fit(keras_gan.data.gaussian_1d(n=4096, batch_size=128), epochs=25, verbose=0)
    samples = gan.generate(2000, seed=0)
    # Target N(4, 1.25^2); the std lands at 1.4-1.75 over seeds 0-2 (GAN training overshoots
    # a little, never collapses to a point nor spreads to the untrained G's).
    assert abs(samples.mean() - 4.0) < 0.25, samples.mean()
    assert 1.0 < samples.std() < 1.9, samples.std()


def test_reuse_fakes_round_trips_through_the_compile_config():
    gan = make_gan(reuse_fakes=True)
    assert gan.get_compile_config()["reuse_fakes"] is True
    clone = keras_gan.GAN(bn_generator(), bn_discriminator())
    clone.compile_from_config(gan.get_compile_config())
    assert clone.reuse_fakes is True


def test_a_bad_reuse_fakes_is_named():
    with pytest.raises(ValueError, match=r"`reuse_fakes`: expected True or False. Received: reuse_fakes='yes'"):
        make_gan(reuse_fakes="yes")


# ------------------------------------------------------------ the XLA default
def _compiled(generator, discriminator, **kwargs):
    gan = keras_gan.GAN(generator, discriminator)
    gan.compile("adam", "adam", **kwargs)
    return gan.jit_compile


def test_auto_jit_compile_picks_xla_for_the_mlp_gan_only_on_cpu():
    assert _compiled(networks.mlp_generator(), networks.mlp_discriminator()) is True
    assert _compiled(networks.toy_generator(), networks.toy_discriminator()) is False
    assert _compiled(networks.dcgan_generator(8, (8, 8, 1), filters=4),
                     networks.dcgan_discriminator((8, 8, 1), filters=4)) is False
    # An explicit choice and run_eagerly win.
    assert _compiled(networks.mlp_generator(), networks.mlp_discriminator(), jit_compile=False) is False
    assert _compiled(networks.mlp_generator(), networks.mlp_discriminator(), run_eagerly=True) is False


def test_auto_jit_compile_is_off_under_a_distribution_strategy():
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        assert _compiled(networks.mlp_generator(), networks.mlp_discriminator()) is False


def test_auto_jit_compile_is_off_under_a_mixed_precision_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    assert _compiled(networks.mlp_generator(), networks.mlp_discriminator()) is False


# ----------------------------------------------------------- input pipeline
def _epoch(ds):
    return np.concatenate([b.numpy() for b in ds])


def test_pipeline_shuffles_reproducibly_from_its_seed_and_reshuffles_each_epoch():
    x = np.arange(64, dtype="float32")[:, None]
    a = keras_gan.data.pipeline(x, 16, seed=3)
    b = keras_gan.data.pipeline(x, 16, seed=3)
    first, second = _epoch(a), _epoch(a)
    np.testing.assert_array_equal(first, _epoch(b))  # same seed, same order
    assert not np.array_equal(first, second)  # a new order every epoch
    np.testing.assert_array_equal(np.sort(first, axis=0), x)  # every sample once
    assert not np.array_equal(first, _epoch(keras_gan.data.pipeline(x, 16, seed=4)))


def _stages(ds):
    names = []  # the chain of datasets, walked through tf.data's private `_inputs()`
    node = ds
    while node is not None:
        names.append(type(node).__name__)
        inputs = node._inputs()
        node = inputs[0] if inputs else None
    return names


def test_pipeline_prefetches_and_does_no_per_sample_work_on_arrays():
    ds = keras_gan.data.pipeline(np.zeros((10, 2), "float32"), 4, drop_remainder=True)
    assert [b.shape[0] for b in ds] == [4, 4]
    names = _stages(ds)
    assert "Prefetch" in names[0]  # the last stage: the next batch is made during a step
    # Batches are gathered by index (benchmarks/pipeline.py): no per-sample shuffle buffer or batching.
    assert not any(stage in name for name in names for stage in ("Batch", "Shuffle", "Cache", "TensorSlice")), names
    # A dataset (decoded images) is cached, shuffled, batched and prefetched.
    names = _stages(keras_gan.data.pipeline(tf.data.Dataset.range(10), 4))
    assert "Prefetch" in names[0] and all(any(s in n for n in names) for s in ("Batch", "Shuffle", "Cache")), names


def test_the_train_step_draws_its_noise_with_the_fused_philox_kernels():
    gan = make_gan()
    x = tf.constant(real_data(32))
    ops = {op.type for op in tf.function(gan.train_step).get_concrete_function(x).graph.get_operations()}
    # The fused kernel scrambles the seed itself: none of the ~16 scrambling ops
    # (StatelessRandomUniformFullIntV2, shifts, ors) of tf.random.stateless_uniform(alg="philox").
    assert "StatelessRandomUniformFullInt" in ops
    assert not ops & {"StatelessRandomUniformFullIntV2", "LeftShift", "BitwiseOr"}
