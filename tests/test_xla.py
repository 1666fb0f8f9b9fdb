"""XLA: `jit_compile=True` gives the same training step as no XLA, for every
loss and option, from the same weights and seed."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import networks

REAL_1D = np.random.default_rng(0).normal(4.0, 1.25, (32, 1)).astype("float32")
IMAGES = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
LABELS = np.arange(16, dtype="int32") % 3


def toy_nets():
    return networks.toy_generator(4, 1, units=(16, 16)), networks.toy_discriminator(1, units=(16, 16))


def packed_toy_nets():
    return (networks.toy_generator(4, 1, units=(16, 16)),
            networks.packed_discriminator("toy", (1,), pack=2, units=(16, 16)))


def info_toy_nets():
    # An InfoGAN code of 3 categories and its Q.
    return (networks.toy_generator(4, 1, units=(16, 16), categories=3),
            networks.packed_discriminator("toy", (1,), pack=2, units=(16, 16)),
            networks.toy_code_classifier(1, 3, units=(16,)))


def conditional_dcgan_nets():
    # Embeddings, transposed convolutions, convolutions and BatchNorm.
    return (networks.conditional_generator("dcgan", 8, (8, 8, 1), num_classes=3, filters=8),
            networks.conditional_discriminator("dcgan", (8, 8, 1), num_classes=3, filters=8))


def step_weights(jit_compile, nets, data, gan_kwargs=None, policy="float32", **compile_kwargs):
    """Weights of G, D (and G's EMA, Q) after one `fit` step from seed-fixed weights.

    Returns `(before, after)`: per network, the list of its weights before and after the step.

    Without XLA the step runs eagerly (no tracing: keeps the test fast). SGD
    keeps each update proportional to its gradient; Adam's g / (|g| + eps)
    would blow float rounding on near-zero gradients up to a full step.
    """
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(1)
        generator, discriminator, *q = nets()
        gan = keras_gan.GAN(generator, discriminator, seed=3, code_classifier=(q or [None])[0],
                            **(gan_kwargs or {}))
        gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1),
                    jit_compile=jit_compile, run_eagerly=not jit_compile, **compile_kwargs)
        assert gan.jit_compile is jit_compile
        x, y = data if isinstance(data, tuple) else (data, None)
        models = [generator, discriminator] + [m for m in (gan.ema_generator, gan.code_classifier) if m]
        before = [[np.array(w) for w in m.get_weights()] for m in models]
        gan.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        return before, [[np.array(w) for w in m.get_weights()] for m in models]
    finally:
        keras.mixed_precision.set_global_policy("float32")


# Every loss, and every option of GAN and GAN.compile, in a few cases.
CASES = {
    "minimax": (toy_nets, REAL_1D, {}, dict(loss="minimax")),
    "least_squares": (toy_nets, REAL_1D, {}, dict(loss="least_squares")),
    "reuse_fakes,d_steps=2": (toy_nets, REAL_1D, {}, dict(loss="non_saturating", reuse_fakes=True, d_steps=2)),
    "relativistic_average": (toy_nets, REAL_1D, {}, dict(loss="relativistic_average")),
    "non_saturating,label_smoothing,halve_d_loss,d_steps=2,g_steps=2,ema,pack=2": (
        packed_toy_nets, REAL_1D, dict(ema_decay=0.9, pack=2),
        dict(loss=keras_gan.losses.NonSaturating(label_smoothing=0.1, halve_d_loss=True),
             d_steps=2, g_steps=2)),
    "infogan_code,pack=2,ema": (info_toy_nets, REAL_1D, dict(ema_decay=0.9, pack=2), {}),
    "feature_matching,reuse_fakes,ema,pack=2": (
        packed_toy_nets, REAL_1D, dict(ema_decay=0.9, pack=2), dict(feature_matching_weight=0.5, reuse_fakes=True)),
    "feature_matching,relativistic_average,conditional,dcgan": (
        conditional_dcgan_nets, (IMAGES, LABELS), dict(num_classes=3),
        dict(loss="relativistic_average", feature_matching_weight=0.5)),
    "wasserstein,gradient_penalty,d_steps=2": (
        toy_nets, REAL_1D, {}, dict(loss="wasserstein", d_steps=2, penalties=["gp"])),
    "hinge,lazy_r1,conditional,diff_augment,dcgan": (
        conditional_dcgan_nets, (IMAGES, LABELS),
        dict(num_classes=3, augment="color,translation,cutout"),
        dict(loss="hinge", penalties=[keras_gan.penalties.R1(1.0, interval=2)])),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_one_step_with_and_without_xla_gives_the_same_weights(case):
    nets, data, gan_kwargs, compile_kwargs = CASES[case]
    before, plain = step_weights(False, nets, data, gan_kwargs, **compile_kwargs)
    _, xla = step_weights(True, nets, data, gan_kwargs, **compile_kwargs)
    _assert_every_network_moved(before, plain)
    _assert_every_network_moved(before, xla)
    # float32 kernels fused differently by XLA: agreement to 1e-5 on updates of ~1e-2.
    for a, b in zip(sum(plain, []), sum(xla, [])):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def _assert_every_network_moved(before, after):
    """The step trains G, D (and moves G's EMA, Q): two paths agreeing is not two steps doing nothing."""
    for i, (old, new) in enumerate(zip(before, after)):
        moved = max(float(np.max(np.abs(a - b))) for a, b in zip(old, new))
        assert moved > 1e-4, f"network {i} (G, D, EMA, Q) did not move: {moved}"


def test_one_mixed_float16_step_with_loss_scaling_is_the_same_with_xla():
    before, plain = step_weights(False, toy_nets, REAL_1D, policy="mixed_float16", loss="non_saturating")
    _, xla = step_weights(True, toy_nets, REAL_1D, policy="mixed_float16", loss="non_saturating")
    _assert_every_network_moved(before, plain)  # a skipped (overflowed) loss-scaled step moves nothing
    _assert_every_network_moved(before, xla)
    # float16 rounds at ~1e-3 relative and XLA may fuse (round) in other places.
    for a, b in zip(sum(plain, []), sum(xla, [])):
        np.testing.assert_allclose(a, b, atol=2e-4, rtol=1e-3)


def test_training_noise_is_the_same_with_and_without_xla():
    gan = keras_gan.GAN(*toy_nets(), seed=7)
    state = keras.ops.convert_to_numpy(gan.seed_generator.state).copy()  # not a view of the variable
    eager = gan.sample_noise(256)
    gan.seed_generator.state.assign(state)
    compiled = tf.function(lambda: gan.sample_noise(256), jit_compile=True)()
    # Box-Muller's log and cos may differ by an ulp under XLA.
    np.testing.assert_allclose(np.array(eager), np.array(compiled), atol=1e-5)


def test_training_noise_is_standard_normal():
    gan = keras_gan.GAN(*toy_nets(), seed=0)
    z = np.array(gan.sample_noise(50000)).ravel()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert abs(np.mean(z**3)) < 0.03 and abs(np.mean(z**4) - 3.0) < 0.1  # symmetric, normal tails
    stats = pytest.importorskip("scipy.stats")
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # Successive draws differ (the seed generator advances).
    assert not np.allclose(np.array(gan.sample_noise(4)), np.array(gan.sample_noise(4)))
