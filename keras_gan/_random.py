"""Stateless random numbers that are the same with and without XLA, on any device.

`tf.random.stateless_normal` and float `stateless_uniform` give other numbers
under `jit_compile=True` (XLA turns the random bits into floats its own way),
so a step with XLA would not reproduce the same step without it. The Philox
bits themselves agree everywhere: these functions map them to floats here.
"""

import numpy as np
import tensorflow as tf


def _unit_uniform(shape, seed):
    """Floats in the open interval (0, 1): 24 random bits, centred in their bin."""
    bits = tf.random.stateless_uniform(
        shape, seed, minval=None, maxval=None, dtype=tf.uint32, alg="philox"
    )
    return (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) * 2.0**-24


def uniform(shape, seed, minval=0.0, maxval=1.0):
    """float32 samples of U(minval, maxval) of `shape` from a stateless `seed` (2 ints)."""
    return minval + (maxval - minval) * _unit_uniform(shape, seed)


def normal(shape, seed):
    """float32 samples of N(0, 1) of `shape` from a stateless `seed` (Box-Muller)."""
    u = _unit_uniform(tf.concat([[2], tf.cast(shape, tf.int32)], 0), seed)
    return tf.sqrt(-2.0 * tf.math.log(u[0])) * tf.cos(2.0 * np.pi * u[1])
