"""Stateless random bits that are the same with and without XLA, on any device.

Under `jit_compile=True`, TF's stateless ops with the default
`alg="auto_select"` pick another algorithm (`stateless_fold_in`, integer
`stateless_uniform`: different numbers for most seeds), and
`stateless_normal` / float `stateless_uniform` turn the random bits into
floats another way. A step with XLA would then not reproduce the step
without it. Philox bits agree everywhere, so everything here is built on
them, with the float conversion done here (the Gaussian's `log`/`cos` may
still round differently under XLA: equal bits, floats equal to ~1 ulp).

Outside XLA the bits come from TF's fused Philox kernels
(`StatelessRandomUniformFullInt`, `StatelessRandomUniformInt`), which
scramble the seed into Philox's key and counter inside the kernel: the same
numbers as `tf.random.stateless_uniform(alg="philox")`, which does that
scrambling with about 16 small graph ops per call (a measurable part of a
toy network's step). XLA has those kernels only for int32 seeds, so
under XLA the `alg="philox"` ops are used.

Telling an XLA trace apart takes TF's private
`tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext`:
`_xla_context_is_detected` checks once that it exists and tells an XLA
trace from a plain one. Where it does not, or with
`KERAS_GAN_DISABLE_FAST_PATHS=random`, the portable ops run everywhere
(the same numbers, more ops; `keras_gan._internal.keras_private`).
"""

import numpy as np
import tensorflow as tf

from keras_gan._internal import keras_private

try:
    from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext
except ImportError:  # a TF without it: the portable ops (the check below warns)
    GraphOrParentsInXlaContext = None

_ALG = "philox"


def _xla_context_is_detected():
    """`GraphOrParentsInXlaContext` is False in a plain trace and True in an XLA one."""
    seen = {}

    def probe(key):
        seen[key] = GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
        return tf.constant(0)

    tf.function(lambda: probe("plain"), autograph=False).get_concrete_function()
    tf.function(lambda: probe("xla"), jit_compile=True, autograph=False).get_concrete_function()
    return seen == {"plain": False, "xla": True}


def _fused():
    """Whether the fused Philox kernels can be used here (anything but an XLA trace)."""
    if not keras_private.fast_path("random", _xla_context_is_detected,
                                   "`tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext`"):
        return False
    return not GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def fold_in(seed, data):
    """A new stateless seed from `seed` (2 ints) and the int `data`."""
    if not _fused():
        return tf.random.experimental.stateless_fold_in(seed, data, alg=_ALG)
    data = tf.convert_to_tensor(data)
    # What stateless_fold_in computes: [full-range random int of `seed`, data].
    first = tf.raw_ops.StatelessRandomUniformFullInt(shape=[], seed=seed, dtype=data.dtype)
    return tf.stack([first, data])


def _bits(shape, seed):
    """uint32 Philox bits of `shape` from a stateless `seed`."""
    if not _fused():
        return tf.random.stateless_uniform(
            shape, seed, minval=None, maxval=None, dtype=tf.uint32, alg=_ALG
        )
    return tf.raw_ops.StatelessRandomUniformFullInt(shape=shape, seed=seed, dtype=tf.uint32)


def _unit_uniform(shape, seed):
    """Floats in the open interval (0, 1): 24 random bits, centred in their bin."""
    bits = _bits(shape, seed)
    return (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) * 2.0**-24


def uniform(shape, seed, minval=0.0, maxval=1.0):
    """float32 samples of U(minval, maxval) of `shape` from a stateless `seed` (2 ints)."""
    return minval + (maxval - minval) * _unit_uniform(shape, seed)


def uniform_int(shape, seed, minval, maxval, dtype=tf.int32):
    """Integers from [minval, maxval) of `shape` from a stateless `seed`."""
    if not _fused():
        return tf.random.stateless_uniform(
            shape, seed, minval=minval, maxval=maxval, dtype=dtype, alg=_ALG
        )
    return tf.raw_ops.StatelessRandomUniformInt(
        shape=shape, seed=seed, minval=tf.cast(minval, dtype), maxval=tf.cast(maxval, dtype)
    )


def normal(shape, seed):
    """float32 samples of N(0, 1) of `shape` from a stateless `seed` (Box-Muller)."""
    u = _unit_uniform(tf.concat([[2], tf.cast(shape, tf.int32)], 0), seed)
    return tf.sqrt(-2.0 * tf.math.log(u[0])) * tf.cos(2.0 * np.pi * u[1])


def replica_seed(seed_generator):
    """A stateless seed from `seed_generator`, with the replica id folded in under several replicas.

    A `keras.random.SeedGenerator`'s state is not per replica, so alone it
    gives every replica the same numbers (keras#20611; docs/design.md,
    "Noise per replica"). With one replica no fold-in op joins the step.
    """
    seed = seed_generator.next()
    if tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return seed
    context = tf.distribute.get_replica_context()
    return fold_in(seed, 0 if context is None else context.replica_id_in_sync_group)
