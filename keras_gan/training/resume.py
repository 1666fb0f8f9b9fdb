"""Resuming GAN training after a crash: `SeededEpochs`, `ResumableTraining`, `fit`.

`ResumableTraining` saves the whole training state into a folder at epoch
ends (every epoch end, or at most once every `save_interval` seconds and at
the last epoch), every `save_every` steps, and when `fit` is stopped by
SIGINT or SIGTERM (`keras_gan.resume.fit`): G, D, the EMA copy of G, both
optimizers' state, the noise seed generators and the networks' own (dropout),
CycleGAN's image pools (all through `save_weights`), and, in `progress.json`,
the epoch, the position within it and the epoch's running loss means. At the start of `fit` it restores the
latest state and makes `fit` continue from there.

`keras_gan.resume.fit` resumes exactly, mid-epoch included: the data is a
`SeededEpochs`, whose epoch `e` visits the samples in an order that is a
pure function of `(seed, e)`; the resumed run first finishes the
interrupted epoch (a `fit` over its remaining batches, in the same order),
then runs the remaining epochs.

Every write is crash-safe: the weights go to a new file (temporary name,
fsync, rename), then `progress.json` is replaced the same way to point at
it, then older weight files are deleted. A kill at any moment leaves
`progress.json` pointing at a complete checkpoint.
"""

import inspect
import json
import os
import signal
import threading
import time

import numpy as np
import tensorflow as tf
import keras

from keras_gan import data as data_module
from keras_gan.data import images as images_module
from keras_gan._internal import keras_private
from keras_gan._internal.validation import check_positive_int
from keras_gan.training.callbacks import non_finite_state
from keras_gan.training.distribute import is_chief

PROGRESS_FILE = "progress.json"
_CHECKPOINT_PREFIX = "checkpoint-"


class SeededEpochs:
    """In-memory training data whose batch order is fixed by `(seed, epoch)`.

    Epoch `e` visits the samples in the order
    `tf.random.experimental.stateless_shuffle(range(n), seed=[seed, e])`, the
    same in every process, so a run resumed mid-epoch can skip exactly the
    batches already done (`keras_gan.resume.fit`).

    Args:
        x: samples, a numpy array `(n, ...)`.
        y: optional second array: batches are `(x, y)`. Labels `(n,)` of a
            conditional GAN, or the target images of pix2pix: row `i` goes
            with `x[i]`.
        batch_size: samples per batch; the last batch of an epoch may be smaller.
        seed: seed of the order of every epoch.
        shuffle: False keeps the given order in every epoch.
        paired: False for two unpaired domains (CycleGAN): `x` and `y` may
            differ in length and are shuffled independently (seeds `seed` and
            `seed + 1`); an epoch zips the first `min(len(x), len(y))` of
            each, as `tf.data.Dataset.zip` of two shuffled domains does.

    Attributes:
        steps_per_epoch: batches per epoch.

    Example:

    ```python
    data = keras_gan.resume.SeededEpochs(x_train, batch_size=64, seed=0)
    keras_gan.resume.fit(gan, data, epochs=20, directory="runs/x/resume", save_every=100)
    ```
    """

    def __init__(self, x, y=None, batch_size=64, seed=0, shuffle=True, paired=True):
        self.batch_size = check_positive_int("batch_size", batch_size)
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"Invalid value for argument `x`: expected a non-empty array. Received: shape {x.shape}")
        self.paired = bool(paired)
        if y is not None:
            y = np.asarray(y)
            if self.paired and y.shape[:1] != x.shape[:1]:
                raise ValueError(
                    f"Invalid value for argument `y`: expected {len(x)} rows, one per sample of `x` "
                    f"(or paired=False for two unpaired domains). Received: y with shape {y.shape}"
                )
            if y.ndim == 0 or len(y) == 0:
                raise ValueError(f"Invalid value for argument `y`: expected a non-empty array. Received: shape {y.shape}")
        elif not self.paired:
            raise ValueError("Invalid value for argument `y`: paired=False needs a second domain `y`. Received: y=None")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"Invalid value for argument `seed`: expected an integer. Received: seed={seed!r}")
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.num_samples = len(x) if y is None else min(len(x), len(y))
        self.steps_per_epoch = -(-self.num_samples // self.batch_size)
        self._arrays = (tf.constant(x),) if y is None else (tf.constant(x), tf.constant(y))

    def _order(self, n, seed, epoch):
        order = tf.range(n, dtype=tf.int64)
        if self.shuffle:
            seed = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
            order = tf.random.experimental.stateless_shuffle(order, seed=seed)
        return order

    def _epoch(self, epoch, skip=0):
        # Gathered a chunk of batches at a time, as keras_gan.data.pipeline does.
        if self.paired:
            order = self._order(self.num_samples, self.seed, epoch)
            return data_module._epoch_batches(
                self._arrays, order, self.batch_size, as_tuple=len(self._arrays) > 1, skip=skip
            )
        domains = [
            data_module._epoch_batches(
                (t,), self._order(t.shape[0], self.seed + i, epoch)[: self.num_samples],
                self.batch_size, as_tuple=False, skip=skip,
            )
            for i, t in enumerate(self._arrays)
        ]
        return tf.data.Dataset.zip(tuple(domains))

    def dataset(self, start_epoch=0, end_epoch=1, start_batch=0):
        """The batches of epochs `start_epoch` to `end_epoch - 1`, from batch `start_batch` of the first.

        Args:
            start_epoch: the first epoch (0-based).
            end_epoch: one past the last epoch.
            start_batch: batches of `start_epoch` to skip (done before a crash).

        Returns:
            A `tf.data.Dataset` of batches, to `fit` with
            `steps_per_epoch=self.steps_per_epoch` (one iterator across epochs).
        """
        ds = self._epoch(start_epoch, skip=start_batch)
        if end_epoch > start_epoch + 1:
            rest = tf.data.Dataset.range(start_epoch + 1, end_epoch).flat_map(self._epoch)
            ds = ds.concatenate(rest)
        return ds.prefetch(tf.data.AUTOTUNE)


def load_progress(directory):
    """The progress record of a resumable run in `directory`, or None if there is none.

    Args:
        directory: the folder given to `ResumableTraining`.

    Returns:
        A dict with `epoch` (completed epochs), `batch` (batches done in the
        next epoch), `checkpoint` (the weights file), `config` (what the run
        was started with) and more; None when nothing was saved yet.

    Example:

    ```python
    progress = keras_gan.resume.load_progress("runs/x/resume")
    ```
    """
    path = os.path.join(directory, PROGRESS_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            progress = json.load(f)
        progress["epoch"], progress["batch"] = int(progress["epoch"]), int(progress["batch"])
        checkpoint = os.path.join(directory, progress["checkpoint"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(
            f"The resume state {path!r} is unreadable ({e}); it was not written by "
            "keras_gan.resume.ResumableTraining. Delete the folder to start afresh."
        ) from None
    if not os.path.isfile(checkpoint):
        raise ValueError(
            f"The resume state {path!r} points at a missing checkpoint {checkpoint!r}. "
            "Delete the folder to start afresh."
        )
    progress["checkpoint_path"] = checkpoint
    return progress


class TrainingInterrupted(Exception):
    """`keras_gan.resume.fit` stopped on SIGINT (Ctrl-C) or SIGTERM after saving the state.

    Attributes:
        signal_number: the signal received.
        epoch: the epoch (0-based) the state was saved in.
        batch: batches of that epoch done (the state resumes after them).
    """

    def __init__(self, signal_number, epoch, batch):
        self.signal_number, self.epoch, self.batch = signal_number, epoch, batch
        name = signal.Signals(signal_number).name
        super().__init__(f"stopped by {name} at epoch {epoch + 1}, batch {batch}: the state is saved")


class ResumableTraining(keras.callbacks.Callback):
    """Saves the training state during `fit`; restores it when `fit` starts again.

    Saved at epoch ends (each one, or with `save_interval` the first epoch
    end at least that many seconds after the last save, and always the last
    epoch of `fit`) and every `save_every` steps: G, D, the EMA
    copy of G, both optimizers' state, the noise seed generators, the epoch
    counter, the position within the epoch and the epoch's running loss
    means. When a saved state exists at the start of `fit`, it is loaded
    and `fit` continues from it (the `initial_epoch` it was given is
    overridden), so rerunning the same script after a crash loses no
    completed epoch. A state with non-finite losses or weights is never
    saved.

    Used alone with any data, a state saved mid-epoch restarts its epoch at
    the first batch (the weights are those of the mid-epoch save). For an
    exact resume, mid-epoch included, use `keras_gan.resume.fit`, which
    drives this callback with `SeededEpochs` data.

    Place it after `CSVLog` and the other callbacks writing epoch results:
    an epoch is logged before it is marked as done (`CSVLog` drops rows it
    would repeat).

    Args:
        directory: folder of the resume state (created if needed).
        save_every: also save every N training steps (batches); None for
            epoch ends only.
        config: a JSON-able dict stored with the state (e.g. the command
            line), read back by `load_progress` to refuse resuming a
            different run.
        save_interval: seconds; epoch ends closer than this to the last
            save are not saved (the last epoch always is). None saves every
            epoch end. A crash then loses at most the epochs since the last
            save, which the rerun trains again.

    Example:

    ```python
    gan.fit(ds, epochs=20, callbacks=[
        keras_gan.callbacks.TerminateOnNonFinite(),
        keras_gan.callbacks.CSVLog("runs/x/log.csv", append=True),
        keras_gan.resume.ResumableTraining("runs/x/resume"),
    ])  # rerun the same script after a crash: it continues at the next epoch
    ```
    """

    def __init__(self, directory, save_every=None, config=None, save_interval=None):
        super().__init__()
        self.directory = os.fspath(directory)
        self.save_every = None if save_every is None else check_positive_int("save_every", save_every)
        if save_interval is not None and not (isinstance(save_interval, (int, float))
                                              and not isinstance(save_interval, bool) and save_interval >= 0):
            raise ValueError("Invalid value for argument `save_interval`: expected a non-negative number of "
                             f"seconds or None. Received: save_interval={save_interval!r}")
        self.save_interval = save_interval
        self.config = config
        # A signal number set by `fit`'s SIGINT/SIGTERM handler: save at the next batch end and stop.
        self.interrupt = None
        self._last_save = time.monotonic()
        self.restored = None
        # Batches of the current epoch done before this fit call (set by `fit`).
        self.batch_offset = 0
        self._epoch = 0
        self._save_mark = 0
        self._metric_state = None
        self._restored_here = False
        self._expected_epoch = None  # the epoch `fit` must start at, after a restore

    # ------------------------------------------------------------------ saving
    def _checkpoint_files(self):
        if not os.path.isdir(self.directory):
            return []
        return [n for n in os.listdir(self.directory)
                if n.startswith(_CHECKPOINT_PREFIX) and n.endswith(".weights.h5")]

    def save(self, epoch, batch, logs=None):
        """Saves the state after `batch` batches of epoch `epoch` (0-based; batch 0 = epoch start).

        Returns the weights file written, or None when the state was not
        finite (nothing is written then).
        """
        if not is_chief() or non_finite_state(self.model, logs):
            return None
        os.makedirs(self.directory, exist_ok=True)
        name = f"{_CHECKPOINT_PREFIX}{epoch:06d}-{batch:06d}.weights.h5"
        path = os.path.join(self.directory, name)
        images_module.replace_atomic(path, self.model.save_weights)
        metrics = None
        if batch:
            metrics = [[float(v) for v in np.ravel(var.numpy())]
                       for m in self.model.metrics for var in m.variables]
        progress = {"epoch": epoch, "batch": batch, "checkpoint": name, "metrics": metrics,
                    "config": self.config}
        images_module.write_atomic(
            os.path.join(self.directory, PROGRESS_FILE), json.dumps(progress, indent=1).encode()
        )
        for old in self._checkpoint_files():
            if old != name:
                os.remove(os.path.join(self.directory, old))
        self._last_save = time.monotonic()
        return path

    # --------------------------------------------------------------- restoring
    def restore(self):
        """Loads the latest saved state into the model.

        Returns:
            The progress record (see `load_progress`), or None when there is
            no saved state.
        """
        progress = load_progress(self.directory)
        if progress is None:
            return None
        try:
            self.model.load_weights(progress["checkpoint_path"])
        except Exception as e:  # h5py and Keras raise several types
            raise ValueError(
                f"Could not restore {progress['checkpoint_path']!r} into this model ({e}). "
                "Was the run started with other networks? Delete the folder to start afresh."
            ) from None
        self.restored = progress
        self._metric_state = progress.get("metrics")
        return progress

    def on_train_begin(self, logs=None):
        if self.restored is not None:
            return  # restored by keras_gan.resume.fit
        progress = self.restore()
        if progress is None:
            return
        # Keras' `fit` starts at `model._initial_epoch` where it is set, as
        # its own BackupAndRestore callback resumes; checked once, and
        # verified at the first epoch (`on_epoch_begin`).
        if not keras_private.fast_path("initial_epoch", _fit_reads_initial_epoch, "`Model._initial_epoch`"):
            raise RuntimeError(
                f"ResumableTraining cannot make this Keras ({keras.__version__}) `fit` resume at epoch "
                f"{progress['epoch'] + 1}: resume with `keras_gan.resume.fit`, or pass "
                f"`initial_epoch={progress['epoch']}` to `fit`."
            )
        self._restored_here = True
        self._expected_epoch = progress["epoch"]
        self.model._initial_epoch = progress["epoch"]
        self._metric_state = None  # the epoch restarts: its means too
        print(f"keras-gan: resuming from {self.directory} at epoch {progress['epoch'] + 1}")

    def on_epoch_begin(self, epoch, logs=None):
        expected, self._expected_epoch = self._expected_epoch, None
        if expected is not None and epoch < expected:
            raise RuntimeError(
                f"ResumableTraining restored epoch {expected} but Keras' `fit` started at epoch {epoch}: "
                f"this Keras ({keras.__version__}) ignores `Model._initial_epoch`. Resume with "
                "`keras_gan.resume.fit`, or pass `initial_epoch` to `fit`."
            )
        self._epoch = epoch
        self._save_mark = self.batch_offset // (self.save_every or 1)
        self.model._resumed_batch_offset = self.batch_offset
        if self.batch_offset and self._metric_state:
            # The interrupted epoch's running means continue where they were.
            variables = [v for m in self.model.metrics for v in m.variables]
            if len(variables) == len(self._metric_state):
                for var, values in zip(variables, self._metric_state):
                    var.assign(np.reshape(np.asarray(values, var.dtype), var.shape))
        self._metric_state = None

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupt is not None:
            done = self.batch_offset + batch + 1
            self.save(self._epoch, done, logs)
            raise TrainingInterrupted(self.interrupt, self._epoch, done)
        if self.save_every is None:
            return
        done = self.batch_offset + batch + 1
        # `>` rather than `==`: with steps_per_execution > 1 batch ends fire once per N steps.
        if done // self.save_every > self._save_mark:
            self._save_mark = done // self.save_every
            self.save(self._epoch, done, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.batch_offset = 0
        self.model._resumed_batch_offset = 0
        last = self.params is not None and epoch + 1 == self.params.get("epochs")
        due = self.save_interval is None or time.monotonic() - self._last_save >= self.save_interval
        if last or due or self.interrupt is not None:
            self.save(epoch + 1, 0, logs)
        if self.interrupt is not None:
            raise TrainingInterrupted(self.interrupt, epoch + 1, 0)

    def on_train_end(self, logs=None):
        if self._restored_here:
            # Keras never clears it: a later fit without this callback would skip epochs.
            self.model._initial_epoch = None
            self._restored_here = False
        self.restored = None


def _fit_reads_initial_epoch():
    """Keras' `fit` (the backend trainer's) starts at `self._initial_epoch` where it is set."""
    trainer_fit = next(cls for cls in keras.Model.__mro__ if "fit" in vars(cls) and "make_train_function" in vars(cls)).fit
    return "self._initial_epoch or initial_epoch" in inspect.getsource(trainer_fit)


class _StopOnSignals:
    """Within the block, SIGINT and SIGTERM ask `resumable` to save and stop (main thread only).

    A second signal acts as it would without the block (Ctrl-C twice stops at once).
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, resumable):
        self.resumable = resumable
        self._previous = None

    def _handle(self, signal_number, frame):
        self.resumable.interrupt = signal_number
        self._restore()

    def _restore(self):
        if self._previous:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.getsignal(sig) for sig in self._SIGNALS}
            for sig in self._SIGNALS:
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        self._restore()
        return False


def fit(gan, data, epochs, directory, save_every=None, callbacks=None, config=None, save_interval=None,
        **kwargs):
    """Trains `gan` on `data` for `epochs`, resuming exactly from `directory` after a crash.

    Rerunning the same call after a kill continues from the last saved
    point (an epoch end, every `save_every` steps, or the moment SIGINT or
    SIGTERM stopped it) with the same G, D, EMA
    copy, optimizers' state, noise generator state and position in the data:
    with a deterministic configuration (no XLA), the final weights equal
    those of an uninterrupted run. A run already complete returns at once.

    Args:
        gan: a compiled `keras_gan.GAN`, `Pix2Pix` or `CycleGAN`.
        data: a `SeededEpochs` (`paired=False` for CycleGAN's two domains).
        epochs: total number of epochs.
        directory: folder of the resume state.
        save_every: also save every N steps; None for epoch ends only.
        callbacks: more callbacks (`CSVLog`, `SampleGrid`, ...); the
            `ResumableTraining` callback is appended last.
        config: JSON-able dict stored with the state (see `load_progress`).
        save_interval: seconds between epoch-end saves (see
            `ResumableTraining`); None saves every epoch end.
        **kwargs: passed to `GAN.fit` (`verbose`, ...).

    Returns:
        The `History` of the last `fit` call, or None if there was nothing to do.

    Raises:
        TrainingInterrupted: on SIGINT (Ctrl-C) or SIGTERM, after saving the
            state at the end of the current batch; rerunning continues there.

    Example:

    ```python
    data = keras_gan.resume.SeededEpochs(x_train, batch_size=64, seed=0)
    keras_gan.resume.fit(gan, data, epochs=20, directory="runs/x/resume", save_every=100,
                         callbacks=[keras_gan.callbacks.CSVLog("runs/x/log.csv", append=True)])
    ```
    """
    if not isinstance(data, SeededEpochs):
        raise ValueError(
            "Invalid value for argument `data`: expected a keras_gan.resume.SeededEpochs. "
            f"Received: data of type {type(data).__name__}"
        )
    epochs = check_positive_int("epochs", epochs)
    for bad in ("initial_epoch", "steps_per_epoch", "x", "y", "batch_size"):
        if bad in kwargs:
            raise ValueError(f"Invalid argument `{bad}` for keras_gan.resume.fit: it comes from `data` and the saved state.")
    resumable = ResumableTraining(directory, save_every, config, save_interval=save_interval)
    resumable.set_model(gan)
    progress = resumable.restore()
    epoch, batch = (progress["epoch"], progress["batch"]) if progress else (0, 0)
    if batch >= data.steps_per_epoch:
        epoch, batch = epoch + 1, 0  # saved after an epoch's last batch
    if progress:
        where = f"epoch {epoch + 1}, batch {batch + 1}" if batch else f"epoch {epoch + 1}"
        print(f"keras-gan: resuming from {directory} at {where}" if epoch < epochs
              else f"keras-gan: {directory} holds a completed run of {epoch} epochs")
    callbacks = list(callbacks or []) + [resumable]
    with _StopOnSignals(resumable):
        return _fit_from(gan, data, epoch, batch, epochs, progress, resumable, callbacks, kwargs)


def _fit_from(gan, data, epoch, batch, epochs, progress, resumable, callbacks, kwargs):
    history = None
    if batch and epoch < epochs:
        # Finish the interrupted epoch: its remaining batches, in the same order.
        resumable.batch_offset = batch
        history = gan.fit(data.dataset(epoch, epoch + 1, batch), epochs=epoch + 1, initial_epoch=epoch,
                          steps_per_epoch=data.steps_per_epoch - batch, callbacks=callbacks, **kwargs)
        epoch += 1
        resumable.restored = progress  # still restored: no second load
    if epoch < epochs:
        resumable.restored = progress or {}
        history = gan.fit(data.dataset(epoch, epochs), epochs=epochs, initial_epoch=epoch,
                          steps_per_epoch=data.steps_per_epoch, callbacks=callbacks, **kwargs)
    return history
