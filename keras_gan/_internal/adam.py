"""A plain `keras.optimizers.Adam` update in fewer ops: one kernel per large variable.

Keras 3's Adam (`keras/src/optimizers/adam.py`, `update_step`) runs about a
dozen separate elementwise ops per variable, each a pass over the weights,
and Grappler does not fuse them on a CPU. TensorFlow's `ResourceApplyAdam`
kernel computes the same update in one pass:

    m <- m + (g - m)(1 - beta_1)
    v <- v + (g^2 - v)(1 - beta_2)
    w <- w - alpha m / (sqrt(v) + epsilon),
    alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t),  t = iterations + 1

on the optimizer's own `m` and `v` slots, so its state, checkpoints and
`iterations` are those Keras' path would leave (equal to float rounding:
the kernel computes `1 - beta` in the variable's dtype where Keras rounds a
Python float). On the MLP digits GAN's generator (1.5M weights) it takes
1.7 ms where Keras' path takes 3.9 ms (README "Speed").

Anything else, an Adam subclass (AdamW), amsgrad, weight decay, clipping,
an EMA, gradient accumulation, a loss-scale factor, a missing gradient or a
distribution strategy (whose cross-replica gradient sums Keras' path does),
goes through `optimizer.apply_gradients` unchanged.

It reads Keras 3.15's optimizer internals (`_momentums`, `_velocities`,
`_get_variable_index`, `_check_variables_are_known`); setup.cfg pins
keras < 3.16, and tests/test_adam.py compares the result with Keras' own
update, so a change there fails a test rather than training differently.
"""

import math

import keras
import tensorflow as tf
from keras import ops

# Below this many weights the kernel is slower than Keras' ops on a 2-core
# CPU: it hands the update to Eigen's parallelFor (TF training_ops.cc,
# ApplyAdamNonCuda), whose thread hand-off outweighs a small update. Per
# variable, 70 vs 55 us at 1,024 weights, 104 vs 107 at 32,768, 120 vs 198
# at 65,536 (scratch micro-benchmark, 8 variables per step).
FUSE_MIN_SIZE = 32768

_KERAS_ONLY = ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay", "gradient_accumulation_steps",
               "loss_scale_factor")


def fusable(optimizer, grads, variables):
    """Whether `apply_gradients` takes the cheaper path for these gradients.

    Args:
        optimizer: a built Keras optimizer.
        grads: the gradients, one per variable.
        variables: the variables they update.

    Returns:
        True for a plain `keras.optimizers.Adam` (exactly that class, float
        betas and epsilon, none of `_KERAS_ONLY`, no amsgrad or EMA) outside
        a distribution strategy, with a gradient for every variable and no
        variable Keras overwrites with its gradient.
    """
    return (
        type(optimizer) is keras.optimizers.Adam
        and optimizer.built
        and not optimizer.amsgrad
        and not optimizer.use_ema
        and all(not getattr(optimizer, name, None) for name in _KERAS_ONLY)
        and all(isinstance(b, (int, float)) for b in (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon))
        and not tf.distribute.has_strategy()
        and all(g is not None for g in grads)
        and not any(getattr(v, "overwrite_with_gradient", False) for v in variables)
    )


def apply_gradients(optimizer, grads, variables):
    """`optimizer.apply_gradients(zip(grads, variables))`, cheaper where `fusable`.

    Variables of `FUSE_MIN_SIZE` weights or more take one `ResourceApplyAdam`
    each; the others (and sparse gradients) take Keras' own ops, with the
    step's scalars computed once instead of once per variable.

    Args:
        optimizer: a Keras optimizer built on (at least) `variables`.
        grads: one gradient per variable (a `tf.IndexedSlices`, an
            Embedding's, takes Keras' update).
        variables: the variables to update.

    Example:

    ```python
    opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    opt.build(model.trainable_variables)
    with tf.GradientTape() as tape:
        loss = ...
    grads = tape.gradient(loss, model.trainable_variables)
    apply_gradients(opt, grads, model.trainable_variables)
    ```
    """
    grads, variables = list(grads), list(variables)
    if not grads or not fusable(optimizer, grads, variables):
        optimizer.apply_gradients(zip(grads, variables))
        return
    # Keras' own check, so an unknown variable fails the same way on both paths.
    optimizer._check_variables_are_known(variables)
    with tf.name_scope(optimizer.name):
        # Read once, before any update: a schedule is evaluated at `iterations`.
        learning_rate = optimizer.learning_rate
        step = optimizer.iterations + 1
        scalars = {}
        for grad, variable in zip(grads, variables):
            dtype = variable.dtype
            if dtype not in scalars:
                scalars[dtype] = _adam_scalars(optimizer, learning_rate, step, dtype)
            alpha, kernel_scalars = scalars[dtype]
            if isinstance(grad, tf.IndexedSlices) or math.prod(variable.shape) < FUSE_MIN_SIZE:
                _keras_update(optimizer, grad, variable, alpha)
                continue
            index = optimizer._get_variable_index(variable)
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle,
                m=optimizer._momentums[index].handle,
                v=optimizer._velocities[index].handle,
                grad=ops.cast(grad, dtype),
                **kernel_scalars,
            )
        for variable in variables:
            if variable.constraint is not None:
                variable.assign(variable.constraint(variable))
        optimizer.iterations.assign_add(1)


def _adam_scalars(optimizer, learning_rate, step, dtype):
    """`(alpha, ResourceApplyAdam's scalar inputs)` in `dtype`, once per dtype and step.

    alpha is Keras' `lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`, by its own
    ops, so `_keras_update` matches Keras' update bit for bit.
    """
    t = ops.cast(step, dtype)
    beta_1, beta_2 = ops.cast(optimizer.beta_1, dtype), ops.cast(optimizer.beta_2, dtype)
    beta_1_power, beta_2_power = ops.power(beta_1, t), ops.power(beta_2, t)
    lr = ops.cast(learning_rate, dtype)
    alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    return alpha, dict(beta1_power=beta_1_power, beta2_power=beta_2_power, lr=lr, beta1=beta_1, beta2=beta_2,
                       epsilon=ops.cast(optimizer.epsilon, dtype))


def _keras_update(optimizer, grad, variable, alpha):
    """Keras' `Adam.update_step`, with the step's alpha computed once per step, not per variable."""
    index = optimizer._get_variable_index(variable)
    m, v = optimizer._momentums[index], optimizer._velocities[index]
    grad = ops.cast(grad, variable.dtype)
    optimizer.assign_add(m, ops.multiply(ops.subtract(grad, m), 1 - optimizer.beta_1))
    optimizer.assign_add(v, ops.multiply(ops.subtract(ops.square(grad), v), 1 - optimizer.beta_2))
    optimizer.assign_sub(variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), optimizer.epsilon)))
