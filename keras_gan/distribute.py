"""tf.distribute helpers: pick a strategy by name, and tell the chief worker.

Keras 3 callbacks have no chief logic (KERAS3_GAN_NOTES: "tf.distribute"):
anything that writes files (checkpoints, exports, sample grids) asks
`is_chief()` first.
"""

import json
import os

import tensorflow as tf


def is_chief(strategy=None):
    """True unless this process is a non-chief worker of a multi-worker strategy.

    Args:
        strategy: a `tf.distribute.Strategy`; defaults to the current one.

    Returns:
        bool: whether this process may write checkpoints and exports.
    """
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return task_type == "worker" and task_id == 0 and not has_chief
