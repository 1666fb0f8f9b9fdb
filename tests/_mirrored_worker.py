"""Subprocess for tests/test_distribute.py: MirroredStrategy on 2 logical CPUs.

Splitting the CPU into 2 logical devices must happen before TensorFlow
initialises, hence a fresh process. Prints one JSON line of results:

- `<policy>_max_diff`: largest weight difference between one step on 2
  replicas and one step on 1 device, same global batch, same noise;
- `<policy>_update_norm`: size of that step (so a 0 diff is meaningful);
- `replica_noise_max_diff`: how much the 2 replicas' default noise differs;
- `overflow_*`: a float16 overflow on replica 1 only, under loss scaling;
- `fit_finite`: a few steps of plain `fit` with default noise stay finite;
- `info_*`: the same one-step comparison with an InfoGAN code and its Q;
- `feature_matching_*`: the same with feature matching (means over the global batch);
- `stylegan2_*`: the same with StyleGAN2's networks (w_avg's update, the
  modulated convolutions, lazy R1), constant per-pixel noise and no style
  mixing (both draw per replica), minibatch std groups of 1 (groups are
  formed within each replica's batch, as in the official multi-GPU code);
- `ada_p_*`: ADA's p after one update from the same global batch of D's
  logits, on one device and split over the 2 replicas with opposite signs.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import networks  # noqa: E402

LATENT_DIM = 4
GLOBAL_BATCH = 16
# Global noise batches, one per update, in update order.
NOISE = [np.random.default_rng(i).normal(size=(GLOBAL_BATCH, LATENT_DIM)).astype("float32") for i in range(8)]
REAL = np.random.default_rng(0).normal(4.0, 1.25, (GLOBAL_BATCH, 1)).astype("float32")
REAL_IMAGES = np.random.default_rng(0).uniform(-1, 1, (GLOBAL_BATCH, 8, 8, 1)).astype("float32")


def _stylegan2_networks():
    g = networks.stylegan2_generator(8, 1, latent_dim=LATENT_DIM, w_dim=8, mapping_layers=2, channel_base=64,
                                     channel_max=8, style_mixing_prob=0.0)
    synthesize = g.synthesize
    g.synthesize = lambda ws, training=False, noise_mode=None: synthesize(ws, training=training, noise_mode="const")
    return g, networks.stylegan2_discriminator(8, 1, channel_base=64, channel_max=8, mbstd_group_size=1)


def build(strategy, init=None, inject_noise=True, overflow_on_replica=None, reuse_fakes=False, info=False,
          feature_matching=0.0, stylegan2=False):
    """A BatchNorm-free toy GAN (EMA, R1) built and compiled in `strategy.scope()`.

    With `inject_noise`, replica r of R draws rows [r*n, (r+1)*n) of the
    next global noise batch, so R replicas together see exactly the noise
    one device sees.
    """
    with strategy.scope():
        keras.utils.set_random_seed(1)
        if stylegan2:
            generator, discriminator = _stylegan2_networks()
        else:
            generator = networks.toy_generator(LATENT_DIM, 1, units=(16, 16), categories=3 if info else None)
            discriminator = networks.toy_discriminator(1, units=(16, 16))
        q = networks.toy_code_classifier(1, 3, units=(16,)) if info else None
        if init is not None:
            generator.set_weights(init[0])
            discriminator.set_weights(init[1])
            if info:
                q.set_weights(init[2])
        # With an EMA copy of G and the R1 penalty: both must be replica-count invariant too.
        gan = keras_gan.GAN(generator, discriminator, seed=3, ema_decay=0.5, code_classifier=q)
        gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), loss="non_saturating",
                    penalties=[keras_gan.penalties.R1(1.0)], reuse_fakes=reuse_fakes,
                    feature_matching_weight=feature_matching)
    if inject_noise:
        used = {}

        def sample_noise(n, seed_generator=None):
            # Runs once per replica when the step is traced. A step draws the
            # noise of all its updates at once, one per-replica batch each:
            # replica r takes its rows of as many global batches.
            context = tf.distribute.get_replica_context()
            replica = int(tf.get_static_value(context.replica_id_in_sync_group))
            replicas = strategy.num_replicas_in_sync
            batches = int(tf.get_static_value(n)) * replicas // GLOBAL_BATCH
            first = used.get(replica, 0)
            used[replica] = first + batches
            z = tf.concat([tf.reshape(tf.constant(NOISE[i]), (replicas, -1, LATENT_DIM))[replica]
                           for i in range(first, first + batches)], 0)
            if replica == overflow_on_replica:
                z = z * 1e30  # inf in float16
            return z

        gan.sample_noise = sample_noise
    return gan


def flat_weights(gan):
    models = [m for m in (gan.generator, gan.discriminator, gan.ema_generator, gan.code_classifier) if m]
    return np.concatenate([w.ravel() for model in models for w in model.get_weights()])


def one_step(gan, real=REAL):
    gan.fit(real, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    return flat_weights(gan)


def compare_one_step(mirrored, results, key, real=REAL, **options):
    """One step on 1 device and on 2 replicas from the same weights: `<key>_update_norm`, `<key>_max_diff`.

    Returns the 1-device GAN and the initial weights of its networks.
    """
    single = build(tf.distribute.get_strategy(), **options)
    init = [m.get_weights() for m in single._networks()]
    start = flat_weights(single)
    one_device = one_step(single, real)
    two_replicas = one_step(build(mirrored, init, **options), real)
    results[f"{key}_update_norm"] = float(np.linalg.norm(one_device - start))
    results[f"{key}_max_diff"] = float(np.abs(one_device - two_replicas).max())
    return single, init


def ada_p(mirrored, results):
    """ADA's p after one update: all 16 logits on one device; replica 0 positive, replica 1 negative."""
    logits = np.concatenate([np.ones((8, 1)), -np.ones((8, 1))]).astype("float32")  # r_t = 0 < target

    def adaptive():
        ada = keras_gan.augment.Adaptive(target=0.6, interval=1, speed_kimg=1.0, initial_p=0.5)
        ada.build((None, 8, 8, 1))
        return ada

    single = adaptive()
    single.update(tf.constant(logits))
    results["ada_p_one_device"] = float(single.p.numpy())
    with mirrored.scope():
        split = adaptive()
    per_replica = mirrored.experimental_distribute_values_from_function(
        lambda context: tf.constant(logits[8 * context.replica_id_in_sync_group:][:8]))
    tf.function(lambda x: mirrored.run(split.update, args=(x,)))(per_replica)
    results["ada_p_two_replicas"] = float(split.p.numpy())


def main():
    results = {}
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results["replicas"] = mirrored.num_replicas_in_sync
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        single, init = compare_one_step(mirrored, results, policy)
        results[f"{policy}_loss_scaled"] = isinstance(single.d_optimizer, keras.optimizers.LossScaleOptimizer)

    keras.mixed_precision.set_global_policy("float32")
    # reuse_fakes (one G forward shared by the phases).
    compare_one_step(mirrored, results, "reuse", reuse_fakes=True)
    # An InfoGAN code: Q trains in the G phase, on each replica's fakes.
    compare_one_step(mirrored, results, "info", info=True)
    # Feature matching: the batch means are over the global batch (all-reduced).
    compare_one_step(mirrored, results, "feature_matching", feature_matching=1.0)
    # StyleGAN2: w_avg (a mean-aggregated variable) moves by the global batch's mean w.
    stylegan2, _ = compare_one_step(mirrored, results, "stylegan2", real=REAL_IMAGES, stylegan2=True)
    results["stylegan2_w_avg_norm"] = float(np.linalg.norm(stylegan2.generator.w_avg.numpy()))
    ada_p(mirrored, results)
    keras.mixed_precision.set_global_policy("mixed_float16")

    # keras_gan's own noise (no injection), still under mixed_float16.
    plain = build(mirrored, init, inject_noise=False)
    per_replica = tf.function(lambda: mirrored.run(lambda: plain.sample_noise(8)))()
    z0, z1 = (np.array(z) for z in mirrored.experimental_local_results(per_replica))
    results["replica_noise_max_diff"] = float(np.abs(z0 - z1).max())
    plain.fit(REAL, batch_size=GLOBAL_BATCH, epochs=3, verbose=0)
    results["fit_finite"] = bool(np.isfinite(flat_weights(plain)).all())

    # An overflow on replica 1 only: every replica must skip the step.
    overflow = build(mirrored, init, overflow_on_replica=1)
    start = flat_weights(overflow)
    after = one_step(overflow)
    results["overflow_weights_finite"] = bool(np.isfinite(after).all())
    results["overflow_max_change"] = float(np.nan_to_num(np.abs(after - start), nan=np.inf).max())
    results["overflow_scales"] = [float(overflow.d_optimizer.dynamic_scale.numpy()),
                                  float(overflow.g_optimizer.dynamic_scale.numpy())]
    results["initial_scale"] = float(overflow.d_optimizer.initial_scale)
    print(json.dumps(results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
