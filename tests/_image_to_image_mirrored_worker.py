"""Subprocess for tests/test_distribute.py: Pix2Pix and CycleGAN on 2 logical CPUs.

Splitting the CPU into 2 logical devices must happen before TensorFlow
initialises, hence a fresh process. For each model, the same steps from the
same weights and seed on one device and under MirroredStrategy over the 2
devices, on the same global batches. Prints one JSON line:

- `<model>_update_norm`: how far the one-device steps moved the weights;
- `<model>_max_diff`: largest difference of any weight (networks,
  optimizers' moments, CycleGAN's pools) between the two runs;
- `cyclegan_pool_count`: images in pool A after the steps (the pool was
  used, and filled past its size).
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

SHAPE = (8, 8, 1)
GLOBAL_BATCH = 8
STEPS = 3
_rng = np.random.default_rng(0)
A = np.tanh(_rng.normal(size=(GLOBAL_BATCH * STEPS,) + SHAPE)).astype("float32")
B = np.tanh(_rng.normal(size=(GLOBAL_BATCH * STEPS,) + SHAPE)).astype("float32")


def unet(name):
    # No dropout: a Dropout layer's SeedGenerator gives every replica the same
    # masks (keras#20611), so its per-replica masks differ from one device's.
    return networks.unet_generator(SHAPE, 1, filters=4, depth=2, dropout=0.0, norm="instance", name=name)


def build(kind, strategy, init=None):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        if kind == "pix2pix":
            model = keras_gan.Pix2Pix(
                unet("g"), networks.pix2pix_discriminator(SHAPE, SHAPE, filters=4, n_layers=1, norm="instance"),
                seed=3)
        else:
            discriminators = [networks.patchgan_discriminator(SHAPE, filters=4, n_layers=1, norm="instance",
                                                              name=f"d_{n}") for n in "ab"]
            # A pool of 12 after 8 fakes a step: it fills in step 2, then swaps (random draws).
            model = keras_gan.CycleGAN(unet("g_ab"), unet("g_ba"), *discriminators, pool_size=12, seed=3)
        if init is not None:
            for network, weights in zip(model.generators + model.discriminators, init):
                network.set_weights(weights)
        model.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    return model


def state(model):
    """Every weight that training changes: networks, both optimizers, the pools."""
    variables = model.weights + model.d_optimizer.variables + model.g_optimizer.variables
    return np.concatenate([np.ravel(np.asarray(v.numpy(), "float64")) for v in variables])


def train(model):
    dataset = tf.data.Dataset.from_tensor_slices((A, B)).batch(GLOBAL_BATCH)
    model.fit(dataset, epochs=1, verbose=0)
    return state(model)


def main():
    results = {}
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results["replicas"] = mirrored.num_replicas_in_sync
    for kind in ("pix2pix", "cyclegan"):
        single = build(kind, tf.distribute.get_strategy())
        init = [n.get_weights() for n in single.generators + single.discriminators]
        start = state(single)
        one_device = train(single)
        two = build(kind, mirrored, init)
        two_replicas = train(two)
        results[f"{kind}_update_norm"] = float(np.linalg.norm(one_device - start))
        results[f"{kind}_max_diff"] = float(np.abs(one_device - two_replicas).max())
        if kind == "cyclegan":
            results["cyclegan_pool_count"] = [int(single.pool_a.count.numpy()), int(two.pool_a.count.numpy())]
    print(json.dumps(results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
