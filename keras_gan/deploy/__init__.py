"""Shipping a generator: SavedModel export for TF Serving, loading an export, serving clients."""
