"""The image history pool of CycleGAN (Shrivastava et al. 2017; CycleGAN's `ImagePool`).

D trains on a mix of the newest fakes and fakes from earlier steps, which
damps the oscillation of the adversarial game. The pool lives in variables,
so it works inside a traced `train_step` and is saved with the model.
"""

import tensorflow as tf
import keras

from keras_gan._internal.validation import check_positive_int


def pool_query(pool, count, images, uniform, slots):
    """The pool's rule on a batch, as a pure function of the random draws.

    For image `i`, in order: while the pool is not full it is stored in the
    next free slot and returned; once full, if `uniform[i] < 0.5` the image
    stored in slot `slots[i]` is returned and replaced by image `i`, else
    image `i` is returned and the pool is left alone. (A later image of the
    same batch sees the swaps of the earlier ones.)

    Args:
        pool: `(pool_size, H, W, C)` stored images.
        count: int32 scalar, the number of slots filled.
        images: `(n, H, W, C)` the newest fakes.
        uniform: `(n,)` floats in [0, 1).
        slots: `(n,)` int32 in [0, pool_size).

    Returns:
        `(returned images (n, H, W, C), new pool, new count)`.
    """
    size = tf.shape(pool)[0]
    n = tf.shape(images)[0]

    def body(i, pool, count, out):
        image = images[i]
        fill = count < size
        swap = tf.logical_and(tf.logical_not(fill), uniform[i] < 0.5)
        slot = tf.where(fill, count, slots[i])
        returned = tf.where(swap, pool[slot], image)
        updated = tf.tensor_scatter_nd_update(pool, [[slot]], image[None])
        pool = tf.where(tf.logical_or(fill, swap), updated, pool)
        return i + 1, pool, count + tf.cast(fill, tf.int32), out.write(i, returned)

    out = tf.TensorArray(images.dtype, size=n, element_shape=images.shape[1:])
    _, pool, count, out = tf.while_loop(
        lambda i, *_: i < n, body, (tf.constant(0), pool, count, out)
    )
    returned = tf.reshape(out.stack(), tf.shape(images))
    return returned, pool, count


@keras.saving.register_keras_serializable(package="keras_gan")
class ImagePool(keras.layers.Layer):
    """A history of `pool_size` generated images that D trains on (CycleGAN).

    `pool(images, seed)` returns a batch of the same shape: while the pool
    fills, the images themselves (and they are stored); then, for each
    image, with probability 0.5 a stored image (replaced by the new one),
    else the new image (see `pool_query`).

    Under a `tf.distribute` strategy with several replicas, each replica
    holds a slice of the global batch: every replica gathers the whole batch
    (`all_gather`, in replica order), runs the rule on it with the same seed
    and the same pool, so the pool stays identical on every replica, and
    keeps its own rows of the result. A step on N replicas then returns and
    stores what one device would on the same global batch. Call it with the
    same `seed` on every replica.

    Args:
        pool_size: images kept (50 in CycleGAN).
        image_shape: `(H, W, C)` of one image.

    Example:

    ```python
    pool = keras_gan.pool.ImagePool(50, (32, 32, 3))
    history_fakes = pool(fakes, seed=keras.random.SeedGenerator(0).next())
    ```
    """

    def __init__(self, pool_size=50, image_shape=(32, 32, 3), **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.pool_size = check_positive_int("pool_size", pool_size)
        self.image_shape = tuple(int(d) for d in image_shape)
        # Every replica computes the same new pool: the first replica's value is the update.
        self.images = self.add_weight(
            shape=(self.pool_size,) + self.image_shape, initializer="zeros", trainable=False,
            name="images", dtype="float32", aggregation="only_first_replica",
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="count", dtype="int32",
            aggregation="only_first_replica",
        )
        self.built = True

    def call(self, images, seed):
        images = tf.cast(images, "float32")
        context = tf.distribute.get_replica_context()
        replicas = context is not None and context.num_replicas_in_sync > 1
        if replicas:
            local_size = tf.shape(images)[:1]
            sizes = context.all_gather(local_size, axis=0)
            start = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
            images = context.all_gather(images, axis=0)
        n = tf.shape(images)[0]
        seed = tf.cast(seed, "int32")
        uniform = tf.random.stateless_uniform((n,), seed=seed)
        slots = tf.random.stateless_uniform(
            (n,), seed=seed + 1, minval=0, maxval=self.pool_size, dtype=tf.int32
        )
        returned, pool, count = pool_query(self.images.value, self.count.value, images, uniform, slots)
        self.images.assign(pool)
        self.count.assign(count)
        if replicas:
            returned = returned[start: start + local_size[0]]
        return returned

    def compute_output_spec(self, images, seed):
        return keras.KerasTensor(images.shape, "float32")

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "image_shape": list(self.image_shape)})
        return config
