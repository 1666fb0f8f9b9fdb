"""`GAN.compile(terms=...)`: D-side and G-side terms join their phase's loss, log, train and save."""

import numpy as np
import pytest
import keras
from keras import ops

import keras_gan
from keras_gan import networks


@keras.saving.register_keras_serializable(package="keras_gan_tests")
class _FakeMean(keras_gan.terms.Term):
    """G side: weight * mean(G(z)), so its gradient on G's output bias is weight / dim."""

    phase, log_name, needs_fake = "g", "fake_mean", True

    def __init__(self, weight=1.0):
        self.weight = weight

    def loss(self, step):
        value = ops.mean(step.fake)
        step.gan.log(self.log_name, value)
        return self.weight * value

    def get_config(self):
        return {"weight": self.weight}


@keras.saving.register_keras_serializable(package="keras_gan_tests")
class _RealLogitSquare(keras_gan.terms.Term):
    """D side: mean(D(real)^2), logged."""

    phase, log_name = "d", "real_logit_square"

    def loss(self, step):
        value = ops.mean(ops.square(step.real_logits))
        step.gan.log(self.log_name, value)
        return value


def _gan(terms, lr=0.0):
    gan = keras_gan.GAN(networks.toy_generator(2, 2, units=(4,)), networks.toy_discriminator(2, units=(4,)), seed=0)
    gan.compile(keras.optimizers.SGD(lr), keras.optimizers.SGD(lr), terms=terms)
    return gan


def test_terms_are_logged_with_the_value_they_add():
    gan = _gan([_FakeMean(), _RealLogitSquare()])
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    logs = gan.train_on_batch(x, return_dict=True)
    assert set(logs) >= {"fake_mean", "real_logit_square"}
    real_logits = gan.discriminator.predict(x, verbose=0)
    assert logs["real_logit_square"] == pytest.approx(float(np.mean(real_logits ** 2)), rel=1e-5)


def test_a_g_side_term_moves_g_by_its_gradient():
    # G's output bias gets d(weight * mean(fake)) / d(bias) = weight / 2 from the term alone:
    # with and without the term, the SGD step on that bias differs by lr * weight / 2.
    x = np.zeros((8, 2), "float32")
    moved = []
    for terms in ([], [_FakeMean(weight=3.0)]):
        keras.utils.set_random_seed(0)
        gan = _gan(terms, lr=0.1)
        before = gan.generator.get_weights()[-1].copy()
        gan.train_on_batch(x)
        moved.append(gan.generator.get_weights()[-1] - before)
    np.testing.assert_allclose(moved[0] - moved[1], 0.1 * 3.0 / 2, rtol=1e-4)


def test_terms_are_saved_with_the_model(tmp_path):
    gan = _gan([_FakeMean(weight=0.5)])
    gan.train_on_batch(np.zeros((8, 2), "float32"))
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert [type(t) for t in loaded.terms] == [_FakeMean] and loaded.terms[0].weight == 0.5
    assert "fake_mean" in loaded.train_on_batch(np.zeros((8, 2), "float32"), return_dict=True)


def test_a_term_that_is_not_a_term_is_refused_by_name():
    with pytest.raises(ValueError, match="argument `terms`"):
        _gan(["r1"])


def test_path_length_is_a_g_side_term_whose_running_mean_is_saved(tmp_path):
    g = networks.stylegan2_generator(8, channels=1, latent_dim=8, w_dim=8, mapping_layers=1,
                                     channel_base=32, channel_max=4)
    d = networks.stylegan2_discriminator(8, channels=1, channel_base=32, channel_max=4)
    gan = keras_gan.GAN(g, d, seed=0)
    gan.compile("adam", "adam", terms=[keras_gan.path_length.PathLength(interval=1)])
    logs = gan.fit(np.zeros((8, 8, 8, 1), "float32"), batch_size=8, epochs=1, verbose=0).history
    pl_mean = float(gan.terms[0].pl_mean)
    assert logs["path_length"][0] > 0 and pl_mean > 0
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert float(loaded.terms[0].pl_mean) == pytest.approx(pl_mean)
