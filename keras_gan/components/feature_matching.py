"""Feature matching (Salimans et al. 2016, "Improved techniques for training GANs").

G's extra objective: `||mean f(real) - mean f(fake)||^2`, where `f` is what
D's last layer reads (the features D's logits are a linear function of, for
the networks here) and the means are over the batch. The adversarial loss
judges samples one batch at a time; feature matching asks G to match the
data's feature averages, such as how often each kind of sample appears,
which D's verdict on one batch barely carries. `keras_gan.GAN` adds it to
G's loss with `compile(feature_matching_weight=w)`; the real side is a
constant (only G moves towards it), and D is frozen, as for the adversarial
term.
"""

import tensorflow as tf
import keras
from keras import ops

from keras_gan.components.terms import Term


def with_features(discriminator):
    """A model sharing D's layers that returns `(logits, features)`.

    `features` is the input of D's last layer; when that layer is itself a
    functional model (a conditional D's body), the input of *its* last
    layer, and so on down. Nothing is copied: it is D.

    Args:
        discriminator: a functional or Sequential `keras.Model` with one
            output, made by a last layer that reads one tensor (every D in
            `keras_gan.networks`).

    Returns:
        A `keras.Model` on D's inputs with outputs `[D's output, features]`.

    Example:

    ```python
    d = keras_gan.networks.toy_discriminator(2)
    logits, features = keras_gan.feature_matching.with_features(d)(x)
    ```
    """
    name = getattr(discriminator, "name", type(discriminator).__name__)
    last, inputs = _last_call(discriminator, name)
    if _is_graph_model(last):
        logits, features = with_features(last)(inputs[0] if len(inputs) == 1 else inputs)
    elif len(inputs) == 1:
        logits, features = discriminator.outputs[0], inputs[0]
    else:
        raise ValueError(
            "Invalid value for argument `feature_matching_weight`: feature matching reads what D's "
            f"last layer reads, one tensor. Received: discriminator {name!r} whose last layer "
            f"{last.name!r} reads {len(inputs)} tensors"
        )
    return keras.Model(discriminator.input, [logits, features], name=f"{name}_with_features")


def _is_graph_model(layer):
    return isinstance(layer, keras.Model) and getattr(layer, "outputs", None) is not None


def _last_call(model, name):
    """D's last layer and the tensors it reads in D's graph (it must make D's one output)."""
    if not _is_graph_model(model) or not model.layers or len(model.outputs) != 1:
        raise ValueError(
            "Invalid value for argument `feature_matching_weight`: feature matching reads the "
            "input of D's last layer, so it needs a functional or Sequential discriminator with "
            f"one output. Received: discriminator {name!r} ({type(model).__name__})"
        )
    last, output = model.layers[-1], model.outputs[0]
    # A layer's `input` is that of its first call, and a nested model's is its
    # own Input: the call that made D's output names the tensors in D's graph.
    for node in getattr(last, "_inbound_nodes", []):
        if any(t is output for t in node.output_tensors):
            return last, list(node.input_tensors)
    raise ValueError(
        "Invalid value for argument `feature_matching_weight`: feature matching reads what D's "
        f"last layer reads, so D's output must come from its last layer. Received: discriminator "
        f"{name!r} whose output {output.name!r} is not made by its last layer {last.name!r}"
    )


def feature_matching_loss(real_features, fake_features):
    """`||mean(real_features) - mean(fake_features)||^2`, means over the batch axis.

    Each sample's features are flattened; the squared distance is summed
    over them (Salimans et al. 2016), in float32. The real side is held
    constant (`stop_gradient`): the gradient moves the fakes only. Under a
    `tf.distribute` strategy the means are over the global batch (all
    replicas), as on one device.

    Args:
        real_features: `(batch, ...)` features of real samples.
        fake_features: `(batch, ...)` features of fakes, the same shape per sample.

    Returns:
        A float32 scalar.

    Example:

    ```python
    loss = keras_gan.feature_matching.feature_matching_loss(f_real, f_fake)
    ```
    """
    real = _global_mean(ops.stop_gradient(ops.cast(real_features, "float32")))
    fake = _global_mean(ops.cast(fake_features, "float32"))
    return ops.sum(ops.square(fake - real))


def _global_mean(features):
    """The batch mean; under a tf.distribute strategy, the mean over every replica's batch.

    `all_reduce` is differentiable (its gradient is the all-reduce of the
    gradients), so a step on R replicas matches one step on one device with
    the whole batch (equal per-replica batches).
    """
    mean = ops.mean(features, axis=0)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return mean
    return context.all_reduce(tf.distribute.ReduceOp.MEAN, mean)


class FeatureMatchingTerm(Term):
    """The G-side term of `GAN.compile(feature_matching_weight=w)`: `w * feature_matching_loss`.

    Logged as `feature_matching`, unweighted.
    """

    phase, log_name, needs_features = "g", "feature_matching", True

    def __init__(self, weight):
        self.weight = weight

    def loss(self, step):
        value = feature_matching_loss(step.real_features, step.fake_features)
        step.gan.log(self.log_name, value)
        return self.weight * value
