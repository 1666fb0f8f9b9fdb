"""One worker of the 2-process MultiWorkerMirroredStrategy test (tests/test_distribute.py).

Usage: python tests/_multiworker_worker.py OUT_DIR RESULTS_DIR
with TF_CONFIG set by the test. Trains a toy GAN for a few steps as a user
would (build and compile in `strategy.scope()`, plain `fit`, a checkpoint
callback, then an export guarded by `is_chief()`), writing its files under
OUT_DIR. For the test only, it also saves its final weights to
RESULTS_DIR/weights_<task index>.npz.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import keras_gan  # noqa: E402
from keras_gan import callbacks, networks  # noqa: E402
from keras_gan.distribute import is_chief, strategy_from_name  # noqa: E402


def main(out_dir, results_dir):
    task_index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    strategy = strategy_from_name("multiworker")
    with strategy.scope():
        keras.utils.set_random_seed(1)
        gan = keras_gan.GAN(networks.toy_generator(4, 1, units=(16, 16)),
                            networks.toy_discriminator(1, units=(16, 16)), seed=3)
        gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="non_saturating")
    real = keras_gan.data.gaussian_1d_samples(64, seed=0)
    dataset = tf.data.Dataset.from_tensor_slices(real).batch(16)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    history = gan.fit(dataset, epochs=2, verbose=0,
                      callbacks=[callbacks.AtomicCheckpoint(os.path.join(out_dir, "model.keras"))])
    if is_chief():
        keras_gan.export_generator(gan, os.path.join(out_dir, "export"))
    weights = gan.generator.get_weights() + gan.discriminator.get_weights()
    np.savez(os.path.join(results_dir, f"weights_{task_index}.npz"), *weights)
    print(json.dumps({
        "task_index": task_index,
        "replicas": strategy.num_replicas_in_sync,
        "is_chief": is_chief(),
        "d_loss": [float(v) for v in history.history["d_loss"]],
        "d_updates": int(gan.d_optimizer.iterations.numpy()),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
