"""The CycleGAN image pool: its rule checked by hand, and its state in a traced step."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from keras_gan.pool import ImagePool, pool_query


def constant_images(*values):
    """One 2x2x1 image per value, filled with it: easy to tell apart."""
    return tf.constant(np.array(values, "float32")[:, None, None, None] * np.ones((1, 2, 2, 1), "float32"))


def values_of(images):
    return [float(v) for v in np.asarray(images)[:, 0, 0, 0]]


def query(pool, count, images, uniform, slots):
    return pool_query(pool, tf.constant(count, tf.int32), images,
                      tf.constant(uniform, tf.float32), tf.constant(slots, tf.int32))


def test_filling_pool_returns_the_new_images_and_stores_them_in_order():
    pool = constant_images(0.0, 0.0, 0.0)
    returned, pool, count = query(pool, 0, constant_images(1.0, 2.0), [0.1, 0.1], [2, 2])
    assert values_of(returned) == [1.0, 2.0]  # no swap while filling, whatever the draws
    assert values_of(pool) == [1.0, 2.0, 0.0]
    assert int(count) == 2


def test_full_pool_swaps_below_one_half_and_passes_through_otherwise():
    pool = constant_images(10.0, 11.0)
    # Image 0 swaps with slot 1, image 1 passes through, image 2 swaps with
    # slot 1 again and gets image 0, stored there one step before.
    returned, pool, count = query(pool, 2, constant_images(1.0, 2.0, 3.0), [0.2, 0.7, 0.4], [1, 0, 1])
    assert values_of(returned) == [11.0, 2.0, 1.0]
    assert values_of(pool) == [10.0, 3.0]
    assert int(count) == 2


def test_the_last_free_slot_is_filled_before_any_swap():
    returned, pool, count = query(constant_images(10.0, 11.0, 0.0), 2, constant_images(1.0, 2.0),
                                  [0.9, 0.3], [0, 0])
    assert values_of(returned) == [1.0, 10.0]
    assert values_of(pool) == [2.0, 11.0, 1.0]
    assert int(count) == 3


def test_pool_layer_in_a_traced_step_returns_history_about_half_the_time():
    pool = ImagePool(4, (2, 2, 1))
    seeds = keras.random.SeedGenerator(0)

    @tf.function
    def step(images):
        return pool(images, seeds.next())

    first = step(constant_images(1.0, 2.0, 3.0, 4.0))
    assert values_of(first) == [1.0, 2.0, 3.0, 4.0] and int(pool.count.numpy()) == 4
    from_history = 0
    for k in range(50):
        new = 100.0 + 4 * k + np.arange(4)
        returned = values_of(step(constant_images(*new)))
        from_history += sum(v < 100.0 + 4 * k for v in returned)  # older than this batch
        # What was returned or kept is never lost: the pool plus the output hold every new image.
        assert set(new) <= set(returned) | set(values_of(pool.images.numpy()))
    assert 0.35 < from_history / 200 < 0.65


def test_pool_size_must_be_positive():
    with pytest.raises(ValueError, match="`pool_size`: expected a positive integer. Received: pool_size=0"):
        ImagePool(0, (2, 2, 1))
