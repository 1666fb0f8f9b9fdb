"""tf.distribute helpers: pick a strategy by name, and tell the chief worker.

Build and compile the GAN inside `strategy.scope()`, then call plain `fit`:
`GAN.compile` builds both optimizers there, `GAN.sample_noise` gives every
replica its own noise and the losses are divided by the replica count.

Keras 3 callbacks have no chief logic, so every worker would write (docs/design.md, "Only the chief writes"):
anything that writes files (checkpoints, exports, sample grids) asks
`is_chief()` first.
"""

import json
import os

import tensorflow as tf


def is_chief(strategy=None):
    """True unless this process is a non-chief worker of a multi-worker cluster.

    The chief is the `"chief"` task, or worker 0 when the cluster has no
    chief task. Without a multi-worker strategy in scope (Keras callbacks and
    code after `fit` run outside `strategy.scope()`), the role is read from
    the `TF_CONFIG` environment variable; without TF_CONFIG, the process is
    alone and is the chief.

    Args:
        strategy: a `tf.distribute.Strategy`; defaults to the current one.

    Returns:
        bool: whether this process may write checkpoints and exports.

    Example:

    ```python
    gan.fit(dataset, epochs=10)
    if keras_gan.distribute.is_chief():
        keras_gan.export_generator(gan, "saved_models/digits")
    ```
    """
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    config = _tf_config()
    if resolver is not None and resolver.task_type is not None:
        task_type, task_id = resolver.task_type, resolver.task_id
    else:
        task = config.get("task") or {}
        task_type, task_id = task.get("type"), task.get("index", 0)
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in (config.get("cluster") or {})
    return task_type == "worker" and int(task_id) == 0 and not has_chief


def _tf_config():
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError:
        return {}
    return config if isinstance(config, dict) else {}


STRATEGY_NAMES = ("default", "mirrored", "multiworker")


def strategy_from_name(name):
    """Returns a `tf.distribute.Strategy` from its name.

    Args:
        name: `"default"` (no distribution: the current default strategy),
            `"mirrored"` (`MirroredStrategy` over all local GPUs, or the CPU
            when there is none) or `"multiworker"`
            (`MultiWorkerMirroredStrategy`; the cluster and this process's
            task are read from the `TF_CONFIG` environment variable).

    Returns:
        A `tf.distribute.Strategy`. Build and compile the GAN inside its
        `scope()`.

    Example:

    ```python
    strategy = keras_gan.distribute.strategy_from_name("mirrored")
    with strategy.scope():
        gan = keras_gan.GAN(generator, discriminator)
        gan.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(2e-4))
    gan.fit(dataset, epochs=10)
    ```
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(
        f"Invalid value for argument `strategy`: expected one of {list(STRATEGY_NAMES)}. "
        f"Received: strategy={name!r}"
    )


def _check_tf_config():
    """Fails early and clearly when TF_CONFIG cannot describe this worker."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(
            "Invalid value for argument `strategy`: 'multiworker' reads the cluster "
            "from the TF_CONFIG environment variable, expected a JSON object like "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}. Received: TF_CONFIG is not set'
        )
    try:
        config = json.loads(raw)
    except json.JSONDecodeError:
        config = None
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("cluster"), dict)
        or not isinstance(config.get("task"), dict)
        or "type" not in config["task"]
        or "index" not in config["task"]
    ):
        raise ValueError(
            "Invalid value for environment variable `TF_CONFIG`: expected a JSON "
            'object with "cluster" ({"worker": ["host:port", ...]}) and "task" '
            f'({{"type": "worker", "index": 0}}). Received: TF_CONFIG={raw!r}'
        )
