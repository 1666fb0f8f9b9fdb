"""Each loss against values computed by hand (numpy), on scalar and PatchGAN outputs."""

import math

import numpy as np
import pytest
import keras

from keras_gan import losses

RNG = np.random.default_rng(0)
SCALAR = (RNG.normal(size=(6, 1)) * 2).astype("float32"), (RNG.normal(size=(6, 1)) * 2).astype("float32")
PATCH = (RNG.normal(size=(3, 4, 4, 1)) * 2).astype("float32"), (RNG.normal(size=(3, 4, 4, 1)) * 2).astype("float32")


def log_sigmoid(x):
    return -np.log1p(np.exp(-x.astype("float64")))


def log_one_minus_sigmoid(x):
    return -np.log1p(np.exp(x.astype("float64")))


def bce(logits, target):
    return -np.mean(target * log_sigmoid(logits) + (1 - target) * log_one_minus_sigmoid(logits))


def expected(name, r, f, smoothing=0.0):
    """(D loss, G loss) written from the papers' formulas."""
    t = 1.0 - smoothing
    if name == "minimax":
        return bce(r, t) + bce(f, 0.0), np.mean(log_one_minus_sigmoid(f))
    if name == "non_saturating":
        return bce(r, t) + bce(f, 0.0), -np.mean(log_sigmoid(f))
    if name == "least_squares":
        return np.mean((r - t) ** 2) + np.mean(f**2), np.mean((f - 1) ** 2)
    if name == "hinge":
        return np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)), -np.mean(f)
    if name == "wasserstein":
        return np.mean(f) - np.mean(r), -np.mean(f)
    if name == "relativistic_average":
        rr = r - f.mean(axis=0, keepdims=True)
        ff = f - r.mean(axis=0, keepdims=True)
        return bce(rr, t) + bce(ff, 0.0), bce(ff, 1.0) + bce(rr, 0.0)
    raise AssertionError(name)


NAMES = ["minimax", "non_saturating", "least_squares", "hinge", "wasserstein", "relativistic_average"]


@pytest.mark.parametrize("outputs", [SCALAR, PATCH], ids=["scalar", "patchgan"])
@pytest.mark.parametrize("name", NAMES)
def test_each_loss_matches_hand_computed_values(name, outputs):
    r, f = outputs
    loss = losses.get(name)
    d_expected, g_expected = expected(name, r, f)
    np.testing.assert_allclose(float(loss.discriminator_loss(r, f)), d_expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(loss.generator_loss(f, r)), g_expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["minimax", "non_saturating", "least_squares", "relativistic_average"])
def test_one_sided_label_smoothing_moves_only_the_real_target(name):
    r, f = PATCH
    smoothed = losses.get(name).__class__(label_smoothing=0.1)
    d_expected, g_expected = expected(name, r, f, smoothing=0.1)
    np.testing.assert_allclose(float(smoothed.discriminator_loss(r, f)), d_expected, rtol=1e-5)
    # G's targets are untouched by one-sided smoothing.
    np.testing.assert_allclose(float(smoothed.generator_loss(f, r)), g_expected, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_halve_d_loss_is_the_pix2pix_half(name):
    r, f = SCALAR
    full = losses.get(name).__class__()
    half = losses.get(name).__class__(halve_d_loss=True)
    np.testing.assert_allclose(
        float(half.discriminator_loss(r, f)), 0.5 * float(full.discriminator_loss(r, f)), rtol=1e-6
    )
    np.testing.assert_allclose(float(half.generator_loss(f, r)), float(full.generator_loss(f, r)))


def test_worked_examples():
    zero = np.zeros((2, 1), "float32")
    # D undecided: BCE of 0.5 against 1 and 0 is ln 2 each.
    assert float(losses.NonSaturating().discriminator_loss(zero, zero)) == pytest.approx(2 * math.log(2))
    # Hinge: real 2 is past the margin (0); fake -0.5 is inside it (0.5).
    assert float(losses.Hinge().discriminator_loss([[2.0]], [[-0.5]])) == pytest.approx(0.5)
    assert float(losses.Wasserstein().discriminator_loss([[3.0]], [[1.0]])) == pytest.approx(-2.0)
    assert float(losses.LeastSquares().generator_loss([[0.5]])) == pytest.approx(0.25)


@pytest.mark.parametrize("name", NAMES)
def test_losses_stay_finite_for_confident_logits(name):
    r = np.array([[80.0], [-80.0]], "float32")
    f = np.array([[-80.0], [80.0]], "float32")
    loss = losses.get(name)
    assert np.isfinite(float(loss.discriminator_loss(r, f)))
    assert np.isfinite(float(loss.generator_loss(f, r)))


def test_float16_logits_give_a_float32_loss():
    r, f = (x.astype("float16") for x in SCALAR)
    for name in NAMES:
        loss = losses.get(name)
        assert keras.backend.standardize_dtype(loss.discriminator_loss(r, f).dtype) == "float32"
        assert keras.backend.standardize_dtype(loss.generator_loss(f, r).dtype) == "float32"


def test_aliases_and_instances_are_accepted():
    assert isinstance(losses.get("bce"), losses.NonSaturating)
    assert isinstance(losses.get("lsgan"), losses.LeastSquares)
    assert isinstance(losses.get("wgan"), losses.Wasserstein)
    assert isinstance(losses.get("ragan"), losses.RelativisticAverage)
    instance = losses.Hinge()
    assert losses.get(instance) is instance
    assert set(NAMES) <= set(losses.names())


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    kwargs = {"halve_d_loss": True}
    if losses.get(name).has_targets:
        kwargs["label_smoothing"] = 0.2
    loss = losses.get(name).__class__(**kwargs)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    assert losses.get(keras.saving.serialize_keras_object(loss)).get_config() == loss.get_config()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="argument `loss`.*Received: loss='nope'"):
        losses.get("nope")
    with pytest.raises(ValueError, match="argument `label_smoothing`.*Received: label_smoothing=1.0"):
        losses.NonSaturating(label_smoothing=1.0)
    with pytest.raises(ValueError, match="argument `label_smoothing`.*Received: label_smoothing='a lot'"):
        losses.LeastSquares(label_smoothing="a lot")
    with pytest.raises(ValueError, match="argument `label_smoothing`.*'hinge'"):
        losses.Hinge(label_smoothing=0.1)
    with pytest.raises(ValueError, match="needs `real_logits`"):
        losses.RelativisticAverage().generator_loss(SCALAR[1])
