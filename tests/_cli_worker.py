"""Runs the `keras-gan` command for tests, with two test-only options.

Usage: python tests/_cli_worker.py [--logical-cpus N] [--dump-weights PATH] -- train ...

Everything after `--` goes to `keras_gan.cli.main`, as `keras-gan` passes
its arguments. The options are this script's, not the command's:

- `--logical-cpus N`: the strategy that `keras-gan train` creates first
  splits the CPU into N logical devices (`--strategy mirrored` then mirrors
  over them). TensorFlow refuses that split once it has run an op, as it
  refuses to configure MultiWorkerMirroredStrategy's collective ops: the run
  fails unless the command creates its strategy before any other op.
- `--dump-weights PATH`: after the command, saves to PATH (.npz) the trained
  model's weights (`model_<i>`, every variable of the model in order), its
  optimizers' (`optimizer_<i>`, D's then G's) and its inference generator's
  (`generator_<i>`), for comparisons across processes.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_gan import cli  # noqa: E402
from keras_gan.training import distribute, resume  # noqa: E402


def main():
    own, rest = sys.argv[1:], []
    if "--" in own:
        index = own.index("--")
        own, rest = own[:index], own[index + 1:]
    parser = argparse.ArgumentParser(prog="_cli_worker.py")
    parser.add_argument("--logical-cpus", type=int, default=None)
    parser.add_argument("--dump-weights", default=None)
    options = parser.parse_args(own)

    strategy_from_name = distribute.strategy_from_name

    def split_then_create(name):
        import tensorflow as tf

        if options.logical_cpus:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * options.logical_cpus)
            if name == "mirrored":
                return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(options.logical_cpus)])
        return strategy_from_name(name)

    trained = []
    resume_fit = resume.fit

    def fit_and_keep(model, *args, **kwargs):
        trained.append(model)
        return resume_fit(model, *args, **kwargs)

    distribute.strategy_from_name = split_then_create
    resume.fit = fit_and_keep
    code = cli.main(rest)
    if options.dump_weights and trained:
        model = trained[-1]
        arrays = {f"model_{i}": v.numpy() for i, v in enumerate(model.weights)}
        optimizers = model.d_optimizer.variables + model.g_optimizer.variables
        arrays.update({f"optimizer_{i}": v.numpy() for i, v in enumerate(optimizers)})
        arrays.update({f"generator_{i}": w for i, w in enumerate(model.inference_generator.get_weights())})
        np.savez(options.dump_weights, **arrays)
    return code


if __name__ == "__main__":
    sys.exit(main())
