"""Callbacks for GAN training: sample grids per epoch and crash-safe checkpoints.

Both write files only on the chief worker (Keras 3 callbacks have no chief
logic: KERAS3_GAN_NOTES, "tf.distribute").
"""

import os

import tensorflow as tf
import keras

from keras_gan import images as images_module
from keras_gan.distribute import is_chief


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of samples from the same fixed noise after every epoch.

    Args:
        out_dir: folder for `epoch_001.png`, `epoch_002.png`, ...
        n: number of samples in the grid.
        seed: seed of the fixed noise.
        tensorboard_dir: if set, the grid is also logged there as an image
            summary named `samples`.
        every: write every N epochs (the last epoch of `fit` is always written).

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gan.callbacks.SampleGrid("runs/x/samples")])
    ```
    """

    def __init__(self, out_dir, n=64, seed=0, tensorboard_dir=None, every=1):
        super().__init__()
        self.out_dir = out_dir
        self.n = n
        self.seed = seed
        self.tensorboard_dir = tensorboard_dir
        self.every = every
        self._writer = None
        self.last_path = None

    def _noise(self):
        return tf.random.stateless_normal((self.n, self.model.latent_dim), seed=[self.seed, 0])

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs") if self.params else None
        if self.tensorboard_dir and is_chief() and self._writer is None:
            self._writer = tf.summary.create_file_writer(self.tensorboard_dir)

    def on_epoch_end(self, epoch, logs=None):
        last = self._epochs is not None and epoch + 1 == self._epochs
        if not is_chief() or ((epoch + 1) % self.every and not last):
            return
        samples = self.model.generate_from_noise(self._noise())
        if samples.ndim != 4:
            return  # not images: nothing to tile
        grid = images_module.make_grid(samples)
        self.last_path = images_module.save_grid(
            samples, os.path.join(self.out_dir, f"epoch_{epoch + 1:03d}.png")
        )
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("samples", grid[None], step=epoch + 1)
            self._writer.flush()


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the whole GAN (G, D, both optimizers) to a `.keras` file every epoch.

    The file is written next to the target under a temporary name and renamed
    into place, so a crash mid-save never leaves a half-written checkpoint and
    the previous one survives until the new one is complete.

    Args:
        path: target file, ending in `.keras`.

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gan.callbacks.AtomicCheckpoint("runs/x/model.keras")])
    ```
    """

    def __init__(self, path):
        super().__init__()
        if not str(path).endswith(".keras"):
            raise ValueError(
                f"Invalid value for argument `path`: expected a file name ending in .keras. Received: path={path!r}"
            )
        self.path = str(path)

    def on_epoch_end(self, epoch, logs=None):
        if is_chief():
            save_atomic(self.model, self.path)


class CSVLog(keras.callbacks.Callback):
    """Writes each epoch's logs to a CSV file, one row per epoch, flushed at once.

    Unlike `keras.callbacks.CSVLogger`, it writes only the keys that were
    logged (no empty `val_*` columns when there is no validation data).

    Args:
        path: the CSV file.
        append: keep the rows of an existing file with the same columns
            (resuming); by default the file is started afresh.

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gan.callbacks.CSVLog("runs/x/log.csv")])
    ```
    """

    def __init__(self, path, append=False):
        super().__init__()
        self.path = str(path)
        self.append = append
        self._header = None

    def _continues_file(self, header):
        if not self.append or not os.path.exists(self.path):
            return False
        with open(self.path) as f:
            return f.readline().strip() == header

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief() or not logs:
            return
        keys = sorted(logs)
        header = ",".join(["epoch"] + keys)
        if header != self._header:
            fresh = not self._continues_file(header)
            self._header = header
        else:
            fresh = False
        with open(self.path, "w" if fresh else "a") as f:
            if fresh:
                f.write(header + "\n")
            f.write(",".join([str(epoch + 1)] + [f"{float(logs[k]):.6g}" for k in keys]) + "\n")


def save_atomic(model, path):
    """`model.save(path)` through a temporary file in the same folder and a rename."""
    return images_module.replace_atomic(path, model.save)
