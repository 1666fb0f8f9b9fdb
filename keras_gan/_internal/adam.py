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
Python float). It exists for speed on large variables
(`benchmarks/throughput.py`, variant `keras_adam`, measures it).

Anything else, an Adam subclass (AdamW), amsgrad, weight decay, clipping,
an EMA, gradient accumulation, a loss-scale factor, a missing gradient or a
distribution strategy (whose cross-replica gradient sums Keras' path does),
goes through `optimizer.apply_gradients` unchanged.

What it fuses is an allow-list: every argument of Adam's constructor
(and its base optimizer's) is either one the update implements or one it
checks is off (`_OPTIONS`); an argument a later Keras adds that is not in
the list turns the fast path off. It reads Keras' optimizer internals
(`_momentums`, `_velocities`, `_get_variable_index`,
`_check_variables_are_known`): once per process `_private_names_work`
checks they exist and that one fused step on a small variable is Keras'
step. Where anything is missing, every Adam goes through
`optimizer.apply_gradients`, with one warning
(`keras_gan._internal.keras_private`; `KERAS_GAN_DISABLE_FAST_PATHS=adam`
forces that path).
"""

import inspect
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan._internal import keras_private

# Below this many weights the kernel is slower than Keras' ops on a 2-core
# CPU: it hands the update to Eigen's parallelFor (TF training_ops.cc,
# ApplyAdamNonCuda), whose thread hand-off outweighs a small update. Per
# variable, 70 vs 55 us at 1,024 weights, 104 vs 107 at 32,768, 120 vs 198
# at 65,536 (scratch micro-benchmark, 8 variables per step).
FUSE_MIN_SIZE = 32768


def _off(value):
    return value is None or value is False


def _a_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Every constructor argument of keras.optimizers.Adam and its base optimizer:
# the attribute it sets, and whether the fused update implements its value.
_OPTIONS = {
    "self": None,
    "args": None,
    "kwargs": None,
    "name": None,
    "learning_rate": None,  # read through `optimizer.learning_rate`: a float, variable or schedule
    "beta_1": ("beta_1", _a_number),
    "beta_2": ("beta_2", _a_number),
    "epsilon": ("epsilon", _a_number),
    "amsgrad": ("amsgrad", _off),
    "weight_decay": ("weight_decay", _off),
    "clipnorm": ("clipnorm", _off),
    "clipvalue": ("clipvalue", _off),
    "global_clipnorm": ("global_clipnorm", _off),
    "use_ema": ("use_ema", _off),
    "ema_momentum": None,  # used only with use_ema
    "ema_overwrite_frequency": None,  # used only with use_ema
    "loss_scale_factor": ("loss_scale_factor", _off),
    "gradient_accumulation_steps": ("gradient_accumulation_steps", _off),
}


def _constructor_arguments():
    """The arguments of `keras.optimizers.Adam` and of the base classes it passes `**kwargs` to."""
    return {name for cls in keras.optimizers.Adam.__mro__[:-1] if "__init__" in vars(cls)
            for name in inspect.signature(cls.__init__).parameters}


def _private_names_work():
    """The once-per-process check: Keras' Adam has only the options in `_OPTIONS`, and
    its private slots and index, updated by `ResourceApplyAdam` or by `_keras_update`,
    give Keras' own steps (the kernel to float rounding, `_keras_update` bit for bit)."""
    unknown = _constructor_arguments() - set(_OPTIONS)
    if unknown:
        raise AttributeError(f"Adam options the fused update does not implement: {sorted(unknown)}")

    def fused(optimizer, grad, variable, alpha, kernel_scalars):
        _fused_step(optimizer, grad, variable, kernel_scalars)

    def keras_ops(optimizer, grad, variable, alpha, kernel_scalars):
        _keras_update(optimizer, grad, variable, alpha)

    results = []
    for update in (None, fused, keras_ops):
        optimizer, variable = keras.optimizers.Adam(0.1), keras.Variable([1.0, -2.0, 3.0])
        optimizer.build([variable])
        for grad in ([0.5, 0.25, -1.0], [-0.1, 2.0, 1e-4]):
            grad = tf.constant(grad)
            if update is None:
                optimizer.apply_gradients([(grad, variable)])
                continue
            optimizer._check_variables_are_known([variable])
            update(optimizer, grad, variable,
                   *_adam_scalars(optimizer, optimizer.learning_rate, optimizer.iterations + 1, variable.dtype))
            optimizer.iterations.assign_add(1)
        index = optimizer._get_variable_index(variable)
        results.append([variable.numpy(), optimizer._momentums[index].numpy(), optimizer._velocities[index].numpy(),
                        optimizer.iterations.numpy()])
    keras_own, by_kernel, by_ops = results
    return (all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(keras_own, by_kernel))
            and all(np.array_equal(a, b) for a, b in zip(keras_own, by_ops)))


def _fast_path_works():
    return keras_private.fast_path(
        "adam", _private_names_work,
        "Adam's `_momentums`, `_velocities`, `_get_variable_index`, `_check_variables_are_known` or options")


def fusable(optimizer, grads, variables):
    """Whether `apply_gradients` takes the cheaper path for these gradients.

    Args:
        optimizer: a built Keras optimizer.
        grads: the gradients, one per variable.
        variables: the variables they update.

    Returns:
        True for a plain `keras.optimizers.Adam` (exactly that class, every
        option in `_OPTIONS` at a value the update implements: float betas
        and epsilon, no amsgrad, weight decay, clipping, EMA, loss scale or
        gradient accumulation) outside a distribution strategy, with a
        gradient for every variable and no variable Keras overwrites with
        its gradient, where `_private_names_work`.
    """
    return (
        type(optimizer) is keras.optimizers.Adam
        and optimizer.built
        and all(rule is None or (hasattr(optimizer, rule[0]) and rule[1](getattr(optimizer, rule[0])))
                for rule in _OPTIONS.values())
        and not tf.distribute.has_strategy()
        and all(g is not None for g in grads)
        and not any(getattr(v, "overwrite_with_gradient", False) for v in variables)
        and _fast_path_works()
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
            _fused_step(optimizer, grad, variable, kernel_scalars)
        for variable in variables:
            if variable.constraint is not None:
                variable.assign(variable.constraint(variable))
        optimizer.iterations.assign_add(1)


def _fused_step(optimizer, grad, variable, kernel_scalars):
    """One `ResourceApplyAdam` on `variable` and its slots."""
    index = optimizer._get_variable_index(variable)
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle,
        m=optimizer._momentums[index].handle,
        v=optimizer._velocities[index].handle,
        grad=ops.cast(grad, variable.dtype),
        **kernel_scalars,
    )


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
