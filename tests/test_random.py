"""keras_gan._internal.random: the fused Philox kernels give the numbers of the portable `alg="philox"` ops."""

import numpy as np
import pytest
import tensorflow as tf

from keras_gan._internal import random as _random

SEEDS = [[0, 0], [7, 3], [-1, -1], [2**40 + 5, -(2**35)], [2**31 - 1, -(2**31)]]


def _portable(seed):
    """The same draws through TF's alg="philox" ops (what runs under XLA)."""
    folded = tf.random.experimental.stateless_fold_in(seed, 5, alg="philox")
    bits = tf.random.stateless_uniform([3, 4], folded, minval=None, maxval=None, dtype=tf.uint32, alg="philox")
    ints = tf.random.stateless_uniform([9], folded, minval=3, maxval=29, dtype=tf.int32, alg="philox")
    return folded, bits, ints


def _fused(seed):
    folded = _random.fold_in(seed, 5)
    return folded, _random._bits([3, 4], folded), _random.uniform_int([9], folded, 3, 29)


@pytest.mark.parametrize("seed", SEEDS)
def test_fused_kernels_draw_the_numbers_of_the_portable_philox_ops(seed):
    seed = tf.constant(seed, tf.int64)
    expected = [t.numpy() for t in _portable(seed)]
    graph = tf.function(_fused).get_concrete_function(tf.TensorSpec([2], tf.int64))
    assert {"StatelessRandomUniformFullInt", "StatelessRandomUniformInt"} <= {
        op.type for op in graph.graph.get_operations()
    }
    for got in (_fused(seed), graph(seed)):  # eager, and a traced graph
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g.numpy(), e)


def test_xla_traces_use_the_portable_ops_and_draw_the_same_bits():
    seed = tf.constant(SEEDS[3], tf.int64)
    xla = tf.function(_fused, jit_compile=True)  # the fused kernels would not compile here
    for e, g in zip(tf.function(_fused)(seed), xla(seed)):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
