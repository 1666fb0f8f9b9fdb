"""The warm-up schedule of `GAN.compile(warmup_g_steps=..., warmup_d_steps=...)`.

First `warmup_g_steps` batches of one G update each (no D update), then
`warmup_d_steps` batches of one D update each on the whole batch, then the
regular alternation. The phase is read from both optimizers' update counts,
so it survives save/load. `train_step` reads the phase when it is traced:
`fit` retraces at each switch, so no `tf.cond` gates an update
(docs/design.md, "No control flow around an update").
"""

import keras
from keras import ops

PHASES = ("warmup_g", "warmup_d", "regular")


def scheduled_phase(gan):
    """The warm-up phase, from both optimizers' update counts (saved state)."""
    g_updates = int(ops.convert_to_numpy(gan.g_optimizer.iterations))
    d_updates = int(ops.convert_to_numpy(gan.d_optimizer.iterations))
    if d_updates == 0 and g_updates < gan.warmup_g_steps:
        return "warmup_g"
    if d_updates < gan.warmup_d_steps:
        return "warmup_d"
    return "regular"


class UpdateSchedule(keras.callbacks.Callback):
    """Moves a GAN through its warm-up phases during `fit`, one retrace per switch."""

    def on_train_batch_begin(self, batch, logs=None):
        gan = self.model
        if gan._phase != "regular":
            gan._enter_phase(scheduled_phase(gan))
            # The fit loop calls `self.train_function` afresh at every batch.
            gan.make_train_function()
