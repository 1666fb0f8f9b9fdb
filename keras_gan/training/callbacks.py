"""Callbacks for GAN training: sample grids, crash-safe checkpoints and logs, and
a guard against non-finite losses.

Files are written only on the chief worker (Keras 3 callbacks have no chief
logic, so every worker would write: docs/design.md, "Only the chief writes"), always through a temporary file
and a rename, so a crash never leaves a half-written file. Resuming a run
after a crash: `keras_gan.resume.ResumableTraining`.
"""

import math
import os
import sys
import time
import warnings

import numpy as np
import tensorflow as tf
import keras

from keras_gan.components import codes
from keras_gan.data import images as images_module
from keras_gan.data import plots
from keras_gan.training.distribute import is_chief


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG of samples from the same fixed noise after every epoch.

    Images are tiled into a grid; toy samples of shape `(n, 2)` are drawn as
    a scatter over the target mixture's modes and `(n, 1)` as a histogram
    over the target density (`keras_gan.plots.toy_picture`).

    Args:
        out_dir: folder for `epoch_001.png`, `epoch_002.png`, ...
        n: number of samples in the grid (or the toy picture). With an
            InfoGAN code (`GAN(code_classifier=...)`) sample i has code
            `i % categories`.
        seed: seed of the fixed noise.
        tensorboard_dir: if set, the picture is also logged there as an
            image summary named `samples`.
        every: write every N epochs (the last epoch of `fit` is always written).
        target: toy samples only: the modes `(k, 2)` of a 2D mixture or
            `(mean, std)` of a 1D Gaussian, drawn under the samples
            (`keras_gan.plots.toy_target(name)` for the bundled toys).

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gan.callbacks.SampleGrid("runs/x/samples")])
    ```
    """

    def __init__(self, out_dir, n=64, seed=0, tensorboard_dir=None, every=1, target=None):
        super().__init__()
        self.target = target
        self.out_dir = out_dir
        self.n = n
        self.seed = seed
        self.tensorboard_dir = tensorboard_dir
        self.every = every
        self._writer = None
        self.last_path = None

    def _noise(self):
        z = tf.random.stateless_normal((self.n, self.model.latent_dim), seed=[self.seed, 0])
        categories = getattr(self.model, "code_categories", None)
        if categories:
            # Sample i shows code i % categories, as a conditional GAN's grid cycles its classes.
            z = codes.with_code(z, np.arange(self.n) % categories, categories)
        return z

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs") if self.params else None
        if self.tensorboard_dir and is_chief() and self._writer is None:
            self._writer = tf.summary.create_file_writer(self.tensorboard_dir)

    def on_epoch_end(self, epoch, logs=None):
        last = self._epochs is not None and epoch + 1 == self._epochs
        if not is_chief() or ((epoch + 1) % self.every and not last):
            return
        samples = self.model.generate_from_noise(self._noise())
        if samples.ndim == 4:
            grid = images_module.make_grid(samples)
        elif samples.ndim == 2 and samples.shape[1] in (1, 2):
            grid = plots.toy_picture(samples, self.target)
        else:
            return  # neither images nor 1D/2D points: nothing to draw
        self.last_path = images_module.write_atomic(
            os.path.join(self.out_dir, f"epoch_{epoch + 1:03d}.png"), images_module.png_bytes(grid)
        )
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("samples", grid[None], step=epoch + 1)
            self._writer.flush()


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the whole GAN (G, D, both optimizers) to a `.keras` file at epoch ends.

    The file is written next to the target under a temporary name and renamed
    into place, so a crash mid-save never leaves a half-written checkpoint and
    the previous one survives until the new one is complete.

    Args:
        path: target file, ending in `.keras`.
        save_interval: seconds; an epoch end closer than this to the last
            save is skipped (the last epoch of `fit` is always saved). None
            saves every epoch.

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gan.callbacks.AtomicCheckpoint("runs/x/model.keras")])
    ```
    """

    def __init__(self, path, save_interval=None):
        super().__init__()
        if not str(path).endswith(".keras"):
            raise ValueError(
                f"Invalid value for argument `path`: expected a file name ending in .keras. Received: path={path!r}"
            )
        if save_interval is not None and not (isinstance(save_interval, (int, float))
                                              and not isinstance(save_interval, bool) and save_interval >= 0):
            raise ValueError("Invalid value for argument `save_interval`: expected a non-negative number of "
                             f"seconds or None. Received: save_interval={save_interval!r}")
        self.path = str(path)
        self.save_interval = save_interval
        self._last_save = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief():
            return
        last = self.params is not None and epoch + 1 == self.params.get("epochs")
        if not last and self.save_interval is not None and time.monotonic() - self._last_save < self.save_interval:
            return
        problem = non_finite_state(self.model, logs)
        if problem:
            # Keep the last good checkpoint rather than overwrite it with NaNs.
            warnings.warn(f"AtomicCheckpoint: not saving epoch {epoch + 1}: {problem}.", stacklevel=2)
            return
        save_atomic(self.model, self.path)
        self._last_save = time.monotonic()


def _duration(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class RunProgress(keras.callbacks.Callback):
    """One progress line for the whole run: epochs done of the total, the losses, elapsed time and ETA.

    Use it with `fit(..., verbose=0)` in place of Keras' bar per epoch. On a
    terminal the line is redrawn in place (at most every `interval`
    seconds); otherwise a line is printed every `interval` seconds and at
    the end. The ETA comes from the pace of this process, so a resumed run
    estimates from its own steps.

    Args:
        epochs: the run's total epochs (across resumed `fit` calls).
        interval: seconds between updates (default 0.5 on a terminal, 30 otherwise).
        stream: where to write (default `sys.stdout`).

    Example:

    ```python
    gan.fit(ds, epochs=10, verbose=0, callbacks=[keras_gan.callbacks.RunProgress(10)])
    ```
    """

    def __init__(self, epochs, interval=None, stream=None):
        super().__init__()
        self.epochs = epochs
        self.stream = stream or sys.stdout
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval if interval is not None else (0.5 if self._tty else 30.0)
        self._start = None
        self._pace_from = None  # (time, epochs done) at the first batch end: compiling is not pace
        self._shown = None
        self._epoch = 0
        self._logs = {}

    def _done(self, batch):
        steps = (self.params or {}).get("steps") or 1
        offset = getattr(self.model, "_resumed_batch_offset", 0) or 0
        # A resumed epoch's fit runs only its remaining steps: count from where it restarted.
        return self._epoch + min(1.0, (offset + batch) / (steps + offset))

    def on_train_begin(self, logs=None):
        if self._start is None:
            self._start = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._logs = logs or self._logs
        if self._pace_from is None:
            self._pace_from = (time.monotonic(), self._done(batch + 1))
        if self._shown is None or time.monotonic() - self._shown >= self.interval:
            self._show(self._done(batch + 1))

    def on_epoch_end(self, epoch, logs=None):
        self._logs = logs or self._logs
        if epoch + 1 == self.epochs or self._shown is None or time.monotonic() - self._shown >= self.interval:
            self._show(epoch + 1.0, end=epoch + 1 == self.epochs)

    def _show(self, done, end=False):
        if not is_chief():
            return
        now = time.monotonic()
        self._shown = now
        elapsed = now - self._start
        eta = ""
        if self._pace_from is not None and not end:
            since, done_then = now - self._pace_from[0], done - self._pace_from[1]
            if since > 1.0 and done_then > 0:
                eta = f"ETA {_duration((self.epochs - done) * since / done_then)}"
        width = 20
        filled = int(width * done / self.epochs)
        bar = "=" * filled + (">" if filled < width else "") + " " * max(0, width - filled - 1)
        losses = " ".join(f"{k} {float(np.ravel(v)[0]):.3f}" for k, v in sorted(self._logs.items())
                          if k in ("d_loss", "g_loss"))
        line = (f"epoch {int(done)}/{self.epochs} [{bar}] {losses} {_duration(elapsed)} elapsed"
                f"{', ' + eta if eta else ''}")
        if self._tty:
            self.stream.write("\r" + line.ljust(getattr(self, "_width", 0)) + ("\n" if end else ""))
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class CSVLog(keras.callbacks.Callback):
    """Writes each epoch's logs to a CSV file, one row per epoch, crash-safely.

    Unlike `keras.callbacks.CSVLogger`, it writes only the keys that were
    logged (no empty `val_*` columns when there is no validation data), and
    the file is rewritten through a temporary file and a rename at each
    epoch, so a crash never leaves a torn row. Writing the row of epoch `e`
    drops any row of epoch `e` or later already in the file: after a resume
    from an earlier checkpoint no epoch appears twice.

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
        self._started = False

    def _earlier_rows(self, header, epoch):
        """Rows of the existing file for epochs before `epoch` (1-based), if its columns match."""
        if not (self.append or self._started) or not os.path.exists(self.path):
            return []
        with open(self.path) as f:
            lines = f.read().splitlines()
        if not lines or lines[0] != header:
            return []
        rows = []
        for line in lines[1:]:
            first = line.split(",", 1)[0]
            if first.isdigit() and int(first) < epoch:
                rows.append(line)
        return rows

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief() or not logs:
            return
        keys = sorted(logs)
        header = ",".join(["epoch"] + keys)
        rows = self._earlier_rows(header, epoch + 1)
        self._started = True
        rows.append(",".join([str(epoch + 1)] + [f"{float(np.ravel(logs[k])[0]):.6g}" for k in keys]))
        images_module.write_atomic(self.path, ("\n".join([header] + rows) + "\n").encode())


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite D or G loss (raised by `TerminateOnNonFinite`)."""


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first NaN/inf D or G loss, and counts mixed precision's skipped steps.

    After every batch it reads the logged `d_loss` and `g_loss` (running
    means over the epoch, so the first non-finite one marks the step that
    produced it) and raises `NonFiniteLossError` naming the epoch, the step
    and the loss. Raising (rather than only stopping) keeps the end-of-epoch
    and end-of-training callbacks from saving the broken weights; the
    checkpoint callbacks of this package also refuse non-finite states.

    Under mixed precision (a `keras.optimizers.LossScaleOptimizer`), a step
    whose scaled gradients overflow is skipped by the optimizer, not applied:
    this callback counts the skipped D and G updates and adds
    `d_skipped_steps` and `g_skipped_steps` (per epoch) to the epoch's logs,
    so `CSVLog` records them (place this callback before it). A non-finite
    loss on a step the optimizer skipped is tolerated (the loss's running
    mean restarts); any other stops training.

    Example:

    ```python
    gan.fit(ds, epochs=10, callbacks=[keras_gan.callbacks.TerminateOnNonFinite(),
                                      keras_gan.callbacks.CSVLog("runs/x/log.csv")])
    ```
    """

    def __init__(self):
        super().__init__()
        self._updates = None

    def _optimizers(self):
        return {"d": self.model.d_optimizer, "g": self.model.g_optimizer}

    def _update_counts(self):
        return {k: int(o.iterations.numpy()) for k, o in self._optimizers().items()}

    def _scaled(self):
        return any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in self._optimizers().values())

    def _updates_per_step(self):
        phase = getattr(self.model, "_phase", "regular")
        if phase == "warmup_g":
            return {"d": 0, "g": 1}
        if phase == "warmup_d":
            return {"d": 1, "g": 0}
        # Pix2Pix and CycleGAN make one D and one G update per step.
        return {"d": getattr(self.model, "d_steps", 1), "g": getattr(self.model, "g_steps", 1)}

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._last_batch = -1
        self._skipped = {"d": 0, "g": 0}
        self._updates = self._update_counts() if self._scaled() else None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        skipped_now = {"d": 0, "g": 0}
        if self._updates is not None:
            steps, self._last_batch = batch - self._last_batch, batch
            counts = self._update_counts()
            per_step = self._updates_per_step()
            for k in counts:
                # A LossScaleOptimizer counts only the updates it applied.
                skipped_now[k] = max(0, per_step[k] * steps - (counts[k] - self._updates[k]))
                self._skipped[k] += skipped_now[k]
            self._updates = counts
        bad = []
        for k, name, tracker in (("d", "D", "d_loss_tracker"), ("g", "G", "g_loss_tracker")):
            value = logs.get(f"{k}_loss")
            if value is None or math.isfinite(float(np.ravel(value)[0])):
                continue
            if skipped_now[k]:
                getattr(self.model, tracker).reset_state()  # the skipped step's loss
                continue
            bad.append(f"the {name} loss ({k}_loss={float(np.ravel(value)[0])})")
        if bad:
            offset = getattr(self.model, "_resumed_batch_offset", 0)
            raise NonFiniteLossError(
                f"Training stopped at epoch {self._epoch + 1}, step {offset + batch + 1}: "
                f"{' and '.join(bad)} is not finite. Weights after this step are not saved; "
                "the last checkpoint is kept. Lower the learning rate, add a gradient penalty, "
                "or check the data."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._updates is not None:
            logs["d_skipped_steps"] = self._skipped["d"]
            logs["g_skipped_steps"] = self._skipped["g"]
        if self._updates is not None and any(self._skipped.values()):
            print(f"keras-gan: epoch {epoch + 1}: mixed precision skipped {self._skipped['d']} D and "
                  f"{self._skipped['g']} G updates (non-finite scaled gradients; loss scale lowered)")


def non_finite_state(model, logs=None):
    """Why `model` must not be saved (non-finite logs or weights), or None when it may be.

    Args:
        model: a `keras.Model`.
        logs: the latest logs, e.g. `{"d_loss": ..., "g_loss": ...}`.

    Returns:
        A short description of the first problem found, or None.
    """
    for key, value in (logs or {}).items():
        if key.endswith("_loss"):
            number = float(np.ravel(value)[0])
            if not math.isfinite(number):
                return f"{key}={number}"
    for weight in model.weights:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
            return f"weight {weight.path} is not finite"
    return None


def save_atomic(model, path):
    """`model.save(path)` through a temporary file in the same folder and a rename."""
    return images_module.replace_atomic(path, model.save)
