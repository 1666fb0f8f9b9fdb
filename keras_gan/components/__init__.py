"""What plugs into a model's step: adversarial losses, gradient penalties, differentiable
augmentation, InfoGAN codes, layers (packing, minibatch features, spectral norm), the
CycleGAN image pool and feature matching."""
