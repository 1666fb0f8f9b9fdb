"""keras_gan.evaluation: each score against hand-computed values and real samples."""

import math
import statistics

import numpy as np
import pytest
import keras

from keras_gan import data, evaluation


# ------------------------------------------------------------------ helpers
def test_kl_to_uniform_matches_hand_computed_values():
    assert evaluation.kl_to_uniform([5, 5, 5, 5]) == pytest.approx(0.0, abs=1e-12)
    assert evaluation.kl_to_uniform([10, 0, 0, 0]) == pytest.approx(math.log(4))
    assert evaluation.kl_to_uniform([10, 10, 0, 0]) == pytest.approx(math.log(2))
    # p = (3/4, 1/4) over 2 bins: 3/4 log(3/2) + 1/4 log(1/2)
    assert evaluation.kl_to_uniform([3, 1]) == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    assert evaluation.kl_to_uniform([0, 0]) == math.inf


# ----------------------------------------------------------------------- 1D
def test_ks_of_shifted_gaussian_is_the_cdf_gap():
    # N(4.5, 1.25) vs N(4, 1.25): sup |Phi(z) - Phi(z - 0.4)| = 2 Phi(0.2) - 1.
    x = np.random.default_rng(0).normal(4.5, 1.25, 20000)
    expected = 2 * statistics.NormalDist().cdf(0.2) - 1
    assert evaluation.ks_statistic(x, 4.0, 1.25) == pytest.approx(expected, abs=0.015)
    assert evaluation.ks_statistic(x - 0.5, 4.0, 1.25) < 0.015


def test_ks_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    x = np.random.default_rng(1).normal(3.0, 2.0, 500)
    assert evaluation.ks_statistic(x, 4.0, 1.25) == pytest.approx(
        stats.kstest(x, "norm", args=(4.0, 1.25)).statistic, abs=1e-9)


def test_wasserstein1_of_a_point_mass_is_the_mean_absolute_deviation():
    # W1(delta_m, N(m, s^2)) = E|X - m| = s * sqrt(2 / pi), exactly.
    assert evaluation.wasserstein1([4.0], 4.0, 1.25) == pytest.approx(1.25 * math.sqrt(2 / math.pi))
    # Far from the target, W1 is the distance to the mean.
    assert evaluation.wasserstein1([104.0], 4.0, 1.25) == pytest.approx(100.0)


def test_wasserstein1_of_shifted_gaussian_is_the_shift():
    x = np.random.default_rng(2).normal(4.0, 1.25, 20000)
    assert evaluation.wasserstein1(x + 0.7, 4.0, 1.25) == pytest.approx(0.7, abs=0.03)
    assert evaluation.wasserstein1(x, 4.0, 1.25) < 0.03


def test_evaluate_gaussian_1d_reports_moments_ks_and_w1():
    x = data.gaussian_1d_samples(5000, mean=4.0, std=1.25, seed=3)
    scores = evaluation.evaluate_gaussian_1d(x)
    assert scores["mean"] == pytest.approx(4.0, abs=0.06)
    assert scores["std"] == pytest.approx(1.25, abs=0.05)
    assert scores["ks"] < 0.03 and scores["w1"] < 0.06
    shifted = evaluation.evaluate_gaussian_1d(x + 1.0)
    assert shifted["ks"] > 0.25 and shifted["w1"] == pytest.approx(1.0, abs=0.06)


def test_1d_scores_reject_bad_std_and_shapes():
    with pytest.raises(ValueError, match="argument `std`.*Received: std=0"):
        evaluation.ks_statistic([1.0, 2.0], 0.0, 0)
    with pytest.raises(ValueError, match="argument `samples`.*shape"):
        evaluation.wasserstein1(np.zeros((4, 2)), 0.0, 1.0)


# ------------------------------------------------------------- 2D mixtures
@pytest.mark.parametrize("modes,std,count", [(data.ring_modes(), 0.01, 8), (data.grid_modes(), 0.05, 25)])
def test_real_samples_cover_every_mode_with_high_quality(modes, std, count):
    x = data.mixture_samples(modes, std, evaluation.MIXTURE_SAMPLES, seed=0)
    scores = evaluation.evaluate_mixture(x, modes, std)
    assert scores["modes"] == count
    # Within 3 std of the mean in 2D: 1 - exp(-9/2) = 98.9% of real samples.
    assert scores["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.006)
    assert scores["kl"] < 0.02
    assert scores["counts"].sum() == round(scores["high_quality"] * len(x))


def test_collapsed_generator_scores_one_mode():
    modes = data.grid_modes()
    x = data.mixture_samples(modes[7:8], 0.05, evaluation.MIXTURE_SAMPLES, seed=1)
    scores = evaluation.evaluate_mixture(x, modes, 0.05)
    assert scores["modes"] == 1
    assert scores["counts"][7] == scores["counts"].sum()
    assert scores["kl"] == pytest.approx(math.log(25))


def test_samples_between_modes_are_not_high_quality():
    modes = data.ring_modes()
    x = 0.5 * data.mixture_samples(modes, 0.01, 1000, seed=2)  # on a circle of radius 0.5
    scores = evaluation.evaluate_mixture(x, modes, 0.01)
    assert scores["high_quality"] == 0.0 and scores["modes"] == 0
    assert scores["kl"] == math.inf


def test_two_modes_in_three_to_one_ratio_give_the_hand_computed_kl():
    modes = data.ring_modes()
    x = np.concatenate([np.repeat(modes[:1], 300, 0), np.repeat(modes[1:2], 100, 0)])
    scores = evaluation.evaluate_mixture(x, modes, 0.01)
    # p = (3/4, 1/4, 0, ...) over 8 modes.
    assert scores["kl"] == pytest.approx(0.75 * math.log(0.75 * 8) + 0.25 * math.log(0.25 * 8))


def test_evaluate_mixture_rejects_samples_of_the_wrong_dimension():
    with pytest.raises(ValueError, match=r"argument `samples`.*\(n, 2\).*\(10, 3\)"):
        evaluation.evaluate_mixture(np.zeros((10, 3)), data.ring_modes(), 0.01)
    with pytest.raises(ValueError, match="argument `std`"):
        evaluation.evaluate_mixture(np.zeros((10, 2)), data.ring_modes(), -1.0)


# -------------------------------------------------------------------- images
def test_frechet_distance_matches_hand_computed_values():
    a = np.random.default_rng(0).normal(size=(2000, 5))
    assert evaluation.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, -2.0, 0.0, 0.5, 0.0])
    # Same covariance: only the means differ.
    assert evaluation.frechet_distance(a, a + shift) == pytest.approx(np.sum(shift**2))
    # b = 2a: C_b = 4 C_a, so Tr(C_a + 4 C_a - 2 * 2 C_a) = Tr(C_a) (a's mean is
    # scaled too, hence the mean term).
    expected = np.trace(np.cov(a, rowvar=False)) + np.sum(a.mean(0) ** 2)
    assert evaluation.frechet_distance(a, 2 * a) == pytest.approx(expected)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(600, 8)), rng.normal(size=(600, 8))
    same, same_std = evaluation.kernel_inception_distance(a, b, subsets=5, subset_size=300)
    moved, _ = evaluation.kernel_inception_distance(a, b + 1.0, subsets=5, subset_size=300)
    # Unbiased: 0 in expectation for one distribution (seeds 1-3: |KID| <= 0.009; the biased
    # estimate, diagonal kept, adds E k(x, x) / (m - 1) = 0.03 here).
    assert abs(same) < 0.02 and abs(same) < 3 * same_std + 0.01, (same, same_std)
    # KID's kernel is k(x, y) = (x.y / d + 1)^3. For x, x' ~ N(0, I), y, y' ~ N(1, I) in d
    # dimensions, s = x.y / d has known moments, and the squared MMD,
    # E k(x, x') + E k(y, y') - 2 E k(x, y) = (1 + 3/d) + (8 + 18/d + 6/d^2) - 2 (1 + 6/d),
    # is 7 + 9/d + 6/d^2 (8.22 for d = 8).
    d = a.shape[1]
    expected = 7 + 9 / d + 6 / d**2
    assert abs(moved - expected) < 0.2 * expected, (moved, expected)


def test_class_coverage_counts_classes_and_kl():
    cov = evaluation.class_coverage([0, 0, 1, 1, 2, 2], num_classes=4)
    assert cov["classes"] == 3
    assert cov["kl"] == pytest.approx(math.log(4 / 3))
    with pytest.raises(ValueError, match="argument `predicted_classes`"):
        evaluation.class_coverage([0, 4], num_classes=4)


def test_code_alignment_on_hand_computed_tables():
    codes = np.arange(1000) % 10
    for classes in (codes, (codes * 7) % 10):  # the classes, or any relabelling of them
        scores = evaluation.code_alignment(codes, classes, 10, 10)
        assert scores["purity"] == 1.0 and scores["nmi"] == pytest.approx(1.0)
        assert scores["classes_owning_a_code"] == 10
    pairs = evaluation.code_alignment(codes, codes // 2, 10, 10)  # two codes per class
    assert pairs["purity"] == 1.0 and pairs["classes_owning_a_code"] == 5
    assert pairs["nmi"] == pytest.approx(math.log(5) / math.log(10))
    independent = evaluation.code_alignment(np.repeat(np.arange(4), 6), np.tile(np.arange(6), 4), 4, 6)
    assert independent["nmi"] == pytest.approx(0.0, abs=1e-12) and independent["purity"] == pytest.approx(1 / 6)
    one_class = evaluation.code_alignment(codes, np.zeros(1000, int), 10, 10)
    assert one_class["nmi"] == pytest.approx(0.0, abs=1e-12) and one_class["purity"] == 1.0
    # codes [0, 0, 0, 1], classes [0, 0, 1, 1]: joint .5 .25 / 0 .25, marginals .75 .25 and .5 .5
    small = evaluation.code_alignment([0, 0, 0, 1], [0, 0, 1, 1], 2, 2)
    np.testing.assert_array_equal(small["table"], [[2, 1], [0, 1]])
    mutual = 0.5 * math.log(0.5 / 0.375) + 0.25 * math.log(0.25 / 0.375) + 0.25 * math.log(0.25 / 0.125)
    assert small["purity"] == 0.75 and small["nmi"] == pytest.approx(mutual / math.log(2))


@pytest.mark.parametrize("codes, classes, message", [
    ([0, 3], [0, 1], r"`codes`: expected a non-empty array of ints in \[0, 3\)"),
    ([0, 1], [0, 1.5], r"`predicted_classes`: expected a non-empty array of ints in \[0, 2\)"),
    ([], [], r"`codes`: expected a non-empty array"),
    ([0, 1], [0], r"`predicted_classes`: expected one class per code \(2\). Received: 1 values"),
])
def test_code_alignment_names_bad_input(codes, classes, message):
    with pytest.raises(ValueError, match=message):
        evaluation.code_alignment(codes, classes, 3, 2)


class _ChannelValueClassifier:
    """Reads a digit as the rounded mean pixel value (for exact mode tests)."""

    def predict_classes(self, images):
        return np.rint(np.asarray(images).mean(axis=(1, 2, 3))).astype(int)


def test_stacked_mode_is_the_three_channel_digits():
    images = np.zeros((3, 8, 8, 3), "float32")
    images[0] = [1, 2, 3]
    images[1] = [9, 9, 9]
    images[2] = [1, 2, 3]
    scores = evaluation.evaluate_stacked_digits(images, _ChannelValueClassifier())
    assert scores["modes"] == 2
    assert scores["counts"][123] == 2 and scores["counts"][999] == 1
    assert scores["kl"] == pytest.approx(
        (2 / 3) * math.log(2 / 3 * 1000) + (1 / 3) * math.log(1 / 3 * 1000))


def test_stacked_digits_labels_name_the_digit_in_each_channel():
    images, labels = data.load_digits()
    stacked, modes = data.stacked_digits_samples(200, seed=4)
    assert stacked.shape == (200, 8, 8, 3) and modes.min() >= 0 and modes.max() < 1000
    lookup = {img.tobytes(): int(lab) for img, lab in zip(images[..., 0], labels)}
    for img, mode in zip(stacked[:20], modes[:20]):
        digits = [lookup[img[..., c].tobytes()] for c in range(3)]
        assert mode == 100 * digits[0] + 10 * digits[1] + digits[2]


@pytest.fixture(scope="module")
def digits_classifier():
    images, labels = data.load_digits()
    return evaluation.train_classifier(images, labels, seed=0)


def test_digits_classifier_reaches_97_percent_held_out(digits_classifier):
    assert digits_classifier.held_out_accuracy >= 0.97


def test_real_stacked_digits_cover_1000_modes(digits_classifier):
    images, _ = data.stacked_digits_samples(evaluation.STACKED_SAMPLES, seed=5)
    scores = evaluation.evaluate_stacked_digits(images, digits_classifier)
    assert scores["modes"] >= 995
    assert scores["kl"] < 0.05
    collapsed = evaluation.evaluate_stacked_digits(np.repeat(images[:1], 500, 0), digits_classifier)
    assert collapsed["modes"] == 1


def test_classifier_features_give_a_small_real_floor_and_a_large_noise_distance(digits_classifier):
    images, labels = data.load_digits()
    order = np.random.default_rng(0).permutation(len(images))
    a, b = images[order[:898]], images[order[898:]]
    noise = np.random.default_rng(1).uniform(-1, 1, a.shape).astype("float32")
    fa, fb = digits_classifier.features(a), digits_classifier.features(b)
    floor = evaluation.frechet_distance(fa, fb)
    assert evaluation.frechet_distance(digits_classifier.features(noise), fb) > 10 * floor
    scores = evaluation.evaluate_images(a, b, digits_classifier.features, digits_classifier, num_classes=10)
    assert scores["frechet_distance"] == pytest.approx(floor)
    assert scores["classes"] == 10 and scores["class_kl"] < 0.02


def test_image_classifier_round_trips_through_get_config():
    clf = evaluation.ImageClassifier((8, 8, 3), num_classes=7, filters=4, feature_dim=16)
    clone = evaluation.ImageClassifier.from_config(clf.get_config())
    assert clone.get_config() == clf.get_config()
    assert clone(np.zeros((2, 8, 8, 3), "float32")).shape == (2, 7)
    assert keras.saving.get_registered_object("keras_gan>ImageClassifier") is evaluation.ImageClassifier


def test_train_classifier_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="argument `images`"):
        evaluation.train_classifier(np.zeros((10, 8, 8, 1)), np.zeros(9))


def test_default_extractor_falls_back_to_a_classifier_offline(monkeypatch):
    def unavailable(*args, **kwargs):
        raise evaluation.FeatureExtractorUnavailableError("no weights here")

    monkeypatch.setattr(evaluation, "inception_extractor", unavailable)
    images, labels = data.load_digits()
    with pytest.warns(UserWarning, match="Falling back to a classifier"):
        extractor, name = evaluation.default_extractor(images[:200], labels[:200], epochs=1)
    assert name == "classifier"
    assert extractor(images[:5]).shape == (5, 128)
