"""Driving a training run: callbacks, exact resume, saving and loading, tf.distribute."""
