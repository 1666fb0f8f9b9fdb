"""The trainers: one adversarial base (`adversarial`) under `GAN`, `Pix2Pix` and `CycleGAN`."""
