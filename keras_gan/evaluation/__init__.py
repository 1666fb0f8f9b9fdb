"""Sample-quality measures: 1D Gaussians, 2D mixtures, images, stacked digits.

- 1D: mean, std, Kolmogorov-Smirnov and Wasserstein-1 against a Gaussian
  target (`evaluate_gaussian_1d`).
- 2D mixtures, the VEEGAN/PacGAN protocol (`evaluate_mixture`): a sample is
  high quality (HQ) when within 3 standard deviations of its nearest mode; a
  mode is covered when it is the nearest mode of at least one HQ sample; the
  reverse KL is `KL(HQ mode histogram || uniform)`.
- Images: Frechet distance and KID on the features of a pluggable extractor
  (any callable from images to `(n, d)` features), and class coverage through
  a classifier. `inception_extractor()` needs the ImageNet weights of
  `keras.applications.InceptionV3`; offline, `default_extractor` falls back to
  an `ImageClassifier` trained on the real data and says so.
- Stacked digits (`evaluate_stacked_digits`): three digits as channels, 1000
  modes, each channel read by the digits classifier.

Everything here is plain numpy on top of the feature extractor, so a score
never depends on the training backend.
"""

import statistics
import warnings

import numpy as np
import keras
from keras import layers

from keras_gan._internal.validation import check_positive_int

_NORMAL = statistics.NormalDist()
_cdf = np.vectorize(_NORMAL.cdf, otypes=[float])
_inv_cdf = np.vectorize(_NORMAL.inv_cdf, otypes=[float])
_pdf = np.vectorize(_NORMAL.pdf, otypes=[float])


class FeatureExtractorUnavailableError(RuntimeError):
    """A feature extractor's weights could not be had (e.g. offline)."""


def _as_samples(name, x, dim=None):
    x = np.asarray(x, dtype="float64")
    if x.ndim == 1 and dim in (None, 1):
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0 or (dim is not None and x.shape[1] != dim):
        want = f"(n, {dim})" if dim is not None else "(n, d)"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a non-empty array of shape "
            f"{want}. Received: {name} with shape {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"Invalid value for argument `{name}`: it contains NaN or Inf values.")
    return x


def _check_positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value > 0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a positive number. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def kl_to_uniform(counts):
    """`KL(p || uniform)` for the histogram `counts` over all its bins.

    Args:
        counts: non-negative counts, one per mode (empty modes included).

    Returns:
        The KL divergence in nats (0 for a perfectly uniform histogram,
        `log(len(counts))` when a single mode holds everything); `inf` when
        the histogram is empty.

    Example:

    ```python
    keras_gan.evaluation.kl_to_uniform([10, 10, 0, 0])  # log 2
    ```
    """
    counts = np.asarray(counts, dtype="float64")
    total = counts.sum()
    if total <= 0:
        return float("inf")
    p = counts[counts > 0] / total
    return float(np.sum(p * np.log(p * len(counts))))


# ------------------------------------------------------------------------ 1D
def ks_statistic(samples, mean, std):
    """The Kolmogorov-Smirnov statistic of 1D `samples` against N(mean, std^2).

    Args:
        samples: shape `(n,)` or `(n, 1)`.
        mean: the target mean.
        std: the target standard deviation.

    Returns:
        `sup_x |F_n(x) - Phi((x - mean) / std)|`, a float in [0, 1].

    Example:

    ```python
    keras_gan.evaluation.ks_statistic(np.random.normal(4, 1.25, 1000), 4.0, 1.25)
    ```
    """
    std = _check_positive_float("std", std)
    z = np.sort(_as_samples("samples", samples, dim=1)[:, 0] - mean) / std
    n = len(z)
    cdf = _cdf(z)
    above = np.arange(1, n + 1) / n - cdf
    below = cdf - np.arange(n) / n
    return float(max(above.max(), below.max()))


def _normal_integral(z):
    # The antiderivative of Phi: d/dz (z Phi(z) + phi(z)) = Phi(z).
    return z * _cdf(z) + _pdf(z)


def wasserstein1(samples, mean, std):
    """The exact Wasserstein-1 distance of 1D `samples` to N(mean, std^2).

    `W1 = integral |F_n(x) - Phi((x - mean) / std)| dx`, computed in closed
    form between consecutive order statistics (no target sampling noise).

    Args:
        samples: shape `(n,)` or `(n, 1)`.
        mean: the target mean.
        std: the target standard deviation.

    Returns:
        W1 in the units of the samples.

    Example:

    ```python
    keras_gan.evaluation.wasserstein1(np.full(100, 5.0), 4.0, 1.25)
    ```
    """
    std = _check_positive_float("std", std)
    z = np.sort(_as_samples("samples", samples, dim=1)[:, 0] - mean) / std
    n = len(z)
    # Tails: F_n is 0 left of the smallest sample and 1 right of the largest.
    total = _normal_integral(z[0]) + _normal_integral(-z[-1])
    if n > 1:
        a, b = z[:-1], z[1:]
        level = np.arange(1, n) / n
        # |level - Phi| keeps its sign on each side of Phi^-1(level).
        cross = np.clip(_inv_cdf(level), a, b)
        left = level * (cross - a) - (_normal_integral(cross) - _normal_integral(a))
        right = level * (b - cross) - (_normal_integral(b) - _normal_integral(cross))
        total += np.sum(np.abs(left) + np.abs(right))
    return float(total * std)


def evaluate_gaussian_1d(samples, mean=4.0, std=1.25):
    """Scores 1D samples against the target N(mean, std^2).

    Args:
        samples: shape `(n,)` or `(n, 1)`.
        mean: the target mean (4 in the user's 1D example).
        std: the target standard deviation (1.25).

    Returns:
        A dict: `mean`, `std` (of the samples), `ks` (Kolmogorov-Smirnov
        statistic) and `w1` (Wasserstein-1 distance), all floats.

    Example:

    ```python
    scores = keras_gan.evaluation.evaluate_gaussian_1d(gan.generate(10000))
    ```
    """
    x = _as_samples("samples", samples, dim=1)[:, 0]
    return {
        "mean": float(x.mean()),
        "std": float(x.std()),
        "ks": ks_statistic(x, mean, std),
        "w1": wasserstein1(x, mean, std),
    }


# ----------------------------------------------------------------- 2D mixtures
#: The sample count of the VEEGAN/PacGAN mixture protocol.
MIXTURE_SAMPLES = 2500


def evaluate_mixture(samples, modes, std):
    """Scores samples of a Gaussian mixture: the VEEGAN/PacGAN protocol.

    The protocol draws 2,500 samples (`MIXTURE_SAMPLES`); pass that many.

    Args:
        samples: generated samples, shape `(n, d)`.
        modes: the mixture's means, shape `(k, d)` (e.g.
            `keras_gan.data.ring_modes()` or `keras_gan.data.grid_modes()`).
        std: the standard deviation of each mixture component (0.01 for the
            ring, 0.05 for the grid).

    Returns:
        A dict: `modes` (number of covered modes: modes that are the nearest
        mode of at least one high-quality sample), `high_quality` (fraction of
        samples within 3 std of their nearest mode), `kl` (KL divergence of the
        HQ samples' mode histogram to the uniform over all `k` modes) and
        `counts` (that histogram, an int array of length `k`).

    Example:

    ```python
    scores = keras_gan.evaluation.evaluate_mixture(
        gan.generate(2500), keras_gan.data.grid_modes(), std=0.05)
    ```
    """
    modes = _as_samples("modes", modes)
    samples = _as_samples("samples", samples, dim=modes.shape[1])
    std = _check_positive_float("std", std)
    dist = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=-1)
    nearest = dist.argmin(axis=1)
    hq = dist[np.arange(len(samples)), nearest] <= 3.0 * std
    counts = np.bincount(nearest[hq], minlength=len(modes))
    return {
        "modes": int(np.count_nonzero(counts)),
        "high_quality": float(hq.mean()),
        "kl": kl_to_uniform(counts),
        "counts": counts,
    }


# -------------------------------------------------------------------- images
def frechet_distance(features_a, features_b):
    """The Frechet distance between Gaussians fitted to two feature sets.

    `|mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2))`; with Inception
    pool features this is FID. The matrix square root's trace is taken from
    the eigenvalues of `C_a^(1/2) C_b C_a^(1/2)` (symmetric, so stable).

    Args:
        features_a: shape `(n, d)`.
        features_b: shape `(m, d)`.

    Returns:
        A non-negative float.

    Example:

    ```python
    fd = keras_gan.evaluation.frechet_distance(extractor(real), extractor(fake))
    ```
    """
    a = _as_samples("features_a", features_a)
    b = _as_samples("features_b", features_b, dim=a.shape[1])
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    w, v = np.linalg.eigh(cov_a)
    sqrt_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    trace_sqrt = np.sum(np.sqrt(np.clip(cross, 0, None)))
    fd = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(fd, 0.0))


def kernel_inception_distance(features_a, features_b, subsets=10, subset_size=500, seed=0):
    """KID: the unbiased squared MMD with the kernel `(x.y / d + 1)^3`.

    Averaged over `subsets` random subsets of `subset_size` samples of each set
    (capped at the smaller set's size), as in Binkowski et al. (2018).

    Args:
        features_a: shape `(n, d)`.
        features_b: shape `(m, d)`.
        subsets: number of random subsets.
        subset_size: samples per subset.
        seed: seed of the subset draws.

    Returns:
        `(mean, std)` of the estimate over the subsets. The estimate is
        unbiased, so it can be slightly negative for equal distributions.

    Example:

    ```python
    kid, kid_std = keras_gan.evaluation.kernel_inception_distance(f_real, f_fake)
    ```
    """
    a = _as_samples("features_a", features_a)
    b = _as_samples("features_b", features_b, dim=a.shape[1])
    subsets = check_positive_int("subsets", subsets)
    m = min(check_positive_int("subset_size", subset_size), len(a), len(b))
    if m < 2:
        raise ValueError(
            "Invalid value for argument `features_a`/`features_b`: KID needs at least 2 "
            f"samples in each set. Received: {len(a)} and {len(b)} samples"
        )
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / d + 1.0) ** 3
        kyy = (y @ y.T / d + 1.0) ** 3
        kxy = (x @ y.T / d + 1.0) ** 3
        off = m * (m - 1)
        estimates.append(
            (kxx.sum() - np.trace(kxx)) / off
            + (kyy.sum() - np.trace(kyy)) / off
            - 2.0 * kxy.mean()
        )
    return float(np.mean(estimates)), float(np.std(estimates))


@keras.saving.register_keras_serializable(package="keras_gan")
class ImageClassifier(keras.Model):
    """A small CNN classifier whose penultimate layer is a feature extractor.

    The stand-in for InceptionV3 on small images when its weights cannot be
    had: trained on the real data (`train_classifier`), it gives features for
    the Frechet distance and KID, and class predictions for coverage.

    Args:
        image_shape: `(H, W, C)` of one image.
        num_classes: number of classes.
        filters: width of the first convolution (the second has twice as many).
        feature_dim: size of the feature layer.

    Example:

    ```python
    clf = keras_gan.evaluation.ImageClassifier((8, 8, 1), num_classes=10)
    ```
    """

    def __init__(self, image_shape, num_classes, filters=32, feature_dim=128, **kwargs):
        super().__init__(**kwargs)
        try:
            image_shape = tuple(int(d) for d in image_shape)
        except TypeError:
            image_shape = ()
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ValueError(
                "Invalid value for argument `image_shape`: expected (H, W, C). "
                f"Received: image_shape={image_shape!r}"
            )
        self.image_shape = image_shape
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.filters = check_positive_int("filters", filters)
        self.feature_dim = check_positive_int("feature_dim", feature_dim)
        self.feature_net = keras.Sequential(
            [
                keras.Input(image_shape),
                layers.Conv2D(filters, 3, padding="same", activation="relu"),
                layers.Conv2D(filters * 2, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),
                layers.Dropout(0.25),
                layers.Flatten(),
                layers.Dense(feature_dim, activation="relu", name="features"),
            ],
            name="feature_net",
        )
        self.dropout = layers.Dropout(0.4)
        self.logits = layers.Dense(num_classes, name="logits")
        self.build((None,) + image_shape)

    def build(self, input_shape):
        self.logits.build((None, self.feature_dim))
        self.built = True

    def call(self, images, training=False):
        return self.logits(self.dropout(self.feature_net(images, training=training), training=training))

    def features(self, images, batch_size=512):
        """The feature layer's outputs, a float64 array `(n, feature_dim)`."""
        images = np.asarray(images, "float32")
        return self.feature_net.predict(images, batch_size=batch_size, verbose=0).astype("float64")

    def predict_classes(self, images, batch_size=512):
        """The predicted class of each image, an int array `(n,)`."""
        images = np.asarray(images, "float32")
        return self.predict(images, batch_size=batch_size, verbose=0).argmax(axis=-1)

    def get_config(self):
        return {
            "name": self.name,
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "filters": self.filters,
            "feature_dim": self.feature_dim,
        }


def _shift_augment(images, rng, max_shift=1):
    # One-pixel translations: the classifier must read slightly off-centre
    # generated digits as reliably as the centred real ones.
    out = np.empty_like(images)
    background = images.min()
    for i, img in enumerate(images):
        dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
        shifted = np.roll(img, (dy, dx), axis=(0, 1))
        if dy > 0:
            shifted[:dy] = background
        elif dy < 0:
            shifted[dy:] = background
        if dx > 0:
            shifted[:, :dx] = background
        elif dx < 0:
            shifted[:, dx:] = background
        out[i] = shifted
    return out


def train_classifier(images, labels, validation_fraction=0.2, epochs=30, batch_size=128,
                     seed=0, min_accuracy=None):
    """Trains an `ImageClassifier` on real images; reports held-out accuracy.

    A stratified `validation_fraction` of the data is held out; the model is
    trained on the rest (with one-pixel shift augmentation) and scored on it.

    Args:
        images: real images `(n, H, W, C)` (scaled as the GAN sees them).
        labels: integer labels `(n,)`.
        validation_fraction: held-out fraction in (0, 1).
        epochs: training epochs.
        batch_size: images per batch.
        seed: seed of the split, the initial weights and the augmentation.
        min_accuracy: if given, raise when the held-out accuracy is lower.

    Returns:
        The trained `ImageClassifier`; its `held_out_accuracy` attribute is
        the accuracy on the held-out images.

    Example:

    ```python
    images, labels = keras_gan.data.load_digits()
    clf = keras_gan.evaluation.train_classifier(images, labels, min_accuracy=0.97)
    ```
    """
    images = np.asarray(images, "float32")
    labels = np.asarray(labels).astype("int64").reshape(-1)
    if images.ndim != 4 or len(images) != len(labels) or len(images) < 2:
        raise ValueError(
            "Invalid value for argument `images`: expected (n, H, W, C) images with one "
            f"label each. Received: images with shape {images.shape} and {len(labels)} labels"
        )
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            "Invalid value for argument `validation_fraction`: expected a float in (0, 1). "
            f"Received: validation_fraction={validation_fraction!r}"
        )
    epochs = check_positive_int("epochs", epochs)
    rng = np.random.default_rng(seed)
    held_out = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        held_out[idx[: max(1, round(len(idx) * validation_fraction))]] = True
    keras.utils.set_random_seed(seed)
    classifier = ImageClassifier(images.shape[1:], num_classes=int(labels.max()) + 1)
    x_train, y_train = images[~held_out], labels[~held_out]
    steps = epochs * -(-len(x_train) // batch_size)
    classifier.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # A fresh shifted copy per epoch, fed to one fit() call (one trace).
    x_aug = np.concatenate([_shift_augment(x_train, rng) for _ in range(epochs)])
    classifier.fit(x_aug, np.tile(y_train, epochs), batch_size=batch_size, epochs=1,
                   verbose=0, shuffle=True)
    accuracy = float(np.mean(classifier.predict_classes(images[held_out]) == labels[held_out]))
    classifier.held_out_accuracy = accuracy
    if min_accuracy is not None and accuracy < min_accuracy:
        raise RuntimeError(
            f"The classifier reached {accuracy:.4f} held-out accuracy, below the required "
            f"min_accuracy={min_accuracy}."
        )
    return classifier


def inception_extractor(batch_size=64):
    """InceptionV3 pool features (FID's extractor), if its weights can be had.

    Images in [-1, 1] of any size and 1 or 3 channels are resized to 299x299
    (grayscale is repeated over 3 channels).

    Args:
        batch_size: images per forward pass.

    Returns:
        A callable from images `(n, H, W, C)` to features `(n, 2048)`.

    Raises:
        FeatureExtractorUnavailableError: when the ImageNet weights cannot be
            downloaded (e.g. offline).

    Example:

    ```python
    extractor = keras_gan.evaluation.inception_extractor()
    fid = keras_gan.evaluation.frechet_distance(extractor(real), extractor(fake))
    ```
    """
    try:
        model = keras.applications.InceptionV3(include_top=False, weights="imagenet", pooling="avg")
    except Exception as e:  # keras raises a bare Exception on URL failures
        raise FeatureExtractorUnavailableError(
            f"InceptionV3's ImageNet weights could not be loaded ({e}); this machine may "
            "be offline. Use a classifier trained on the real data instead "
            "(keras_gan.evaluation.train_classifier(...).features)."
        ) from e

    def extract(images):
        import tensorflow as tf

        out = []
        for i in range(0, len(images), batch_size):
            x = tf.convert_to_tensor(np.asarray(images[i: i + batch_size], "float32"))
            if x.shape[-1] == 1:
                x = tf.repeat(x, 3, axis=-1)
            x = tf.image.resize(x, (299, 299))  # InceptionV3 expects [-1, 1]
            out.append(model(x, training=False).numpy())
        return np.concatenate(out).astype("float64")

    return extract


def default_extractor(real_images, labels, seed=0, **classifier_kwargs):
    """InceptionV3 features where available, else a classifier trained on the data.

    Args:
        real_images: real images `(n, H, W, C)` in [-1, 1].
        labels: their integer labels (used only by the fallback).
        seed: seed of the fallback classifier.
        **classifier_kwargs: passed to `train_classifier` (e.g. `epochs`).

    Returns:
        `(extractor, name)`: a callable from images to features, and
        `"inception_v3"` or `"classifier"` naming what it is, so reports can
        say which features a score is on.

    Example:

    ```python
    extractor, name = keras_gan.evaluation.default_extractor(images, labels)
    ```
    """
    try:
        return inception_extractor(), "inception_v3"
    except FeatureExtractorUnavailableError as e:
        warnings.warn(
            f"{e} Falling back to a classifier trained on the real data: its Frechet "
            "distances are not comparable to published FIDs.",
            stacklevel=2,
        )
    classifier = train_classifier(real_images, labels, seed=seed, **classifier_kwargs)
    return classifier.features, "classifier"


def class_coverage(predicted_classes, num_classes):
    """How generated samples spread over classes, read by a classifier.

    Args:
        predicted_classes: the classifier's class of each generated sample.
        num_classes: the number of classes (empty ones count).

    Returns:
        A dict: `classes` (classes predicted at least once), `kl` (KL of the
        class histogram to the uniform) and `counts` (the histogram).

    Example:

    ```python
    cov = keras_gan.evaluation.class_coverage(clf.predict_classes(fake), 10)
    ```
    """
    num_classes = check_positive_int("num_classes", num_classes)
    predicted = np.asarray(predicted_classes).astype("int64").reshape(-1)
    if predicted.size == 0 or predicted.min() < 0 or predicted.max() >= num_classes:
        raise ValueError(
            "Invalid value for argument `predicted_classes`: expected a non-empty array of "
            f"class ids in [0, {num_classes}). Received: {predicted.size} values"
        )
    counts = np.bincount(predicted, minlength=num_classes)
    return {"classes": int(np.count_nonzero(counts)), "kl": kl_to_uniform(counts), "counts": counts}


def code_alignment(codes, predicted_classes, categories, num_classes):
    """How well InfoGAN codes line up with classes, read by a classifier.

    Args:
        codes: the categorical code of each generated sample (ints in
            `[0, categories)`).
        predicted_classes: the classifier's class of each sample (ints in
            `[0, num_classes)`), as many.
        categories: number of codes.
        num_classes: number of classes.

    Returns:
        A dict: `purity` (the fraction of samples of their code's most
        frequent class: 1 when every code makes one class), `nmi` (the
        mutual information of code and class over the larger of their two
        entropies: 1 when each determines the other, 0 when they are
        independent), `classes_owning_a_code` (classes that are
        the most frequent of at least one code) and `table` (counts,
        `(categories, num_classes)`).

    Example:

    ```python
    z = keras_gan.codes.with_code(noise, np.arange(n) % 10, 10)
    keras_gan.evaluation.code_alignment(np.arange(n) % 10,
                                        clf.predict_classes(gan.generate_from_noise(z)), 10, 10)
    ```
    """
    categories = check_positive_int("categories", categories)
    num_classes = check_positive_int("num_classes", num_classes)
    pairs = []
    for name, values, bound in (("codes", codes, categories), ("predicted_classes", predicted_classes, num_classes)):
        values = np.asarray(values).reshape(-1)
        if values.size == 0 or not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() >= bound:
            raise ValueError(
                f"Invalid value for argument `{name}`: expected a non-empty array of ints in [0, {bound}). "
                f"Received: {values.size} values of dtype {values.dtype}"
            )
        pairs.append(values.astype("int64"))
    if len(pairs[0]) != len(pairs[1]):
        raise ValueError(
            "Invalid value for argument `predicted_classes`: expected one class per code "
            f"({len(pairs[0])}). Received: {len(pairs[1])} values"
        )
    table = np.zeros((categories, num_classes), "int64")
    np.add.at(table, tuple(pairs), 1)
    joint = table / table.sum()
    p_code, p_class = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    mutual = float(np.sum(joint[nonzero] * np.log(joint[nonzero] / (p_code @ p_class)[nonzero])))
    entropy = max(float(-np.sum(p[p > 0] * np.log(p[p > 0]))) for p in (p_code, p_class))
    return {
        "purity": float(table.max(axis=1).sum() / table.sum()),
        # The tolerance: a single code and class sum to an entropy of rounding error, not 0.
        "nmi": min(max(mutual / entropy, 0.0), 1.0) if entropy > 1e-9 else 0.0,
        "classes_owning_a_code": int(len(set(table.argmax(axis=1)[table.sum(axis=1) > 0].tolist()))),
        "table": table,
    }


def evaluate_images(real_images, fake_images, extractor, classifier=None, num_classes=None,
                    kid_subsets=10, kid_subset_size=500):
    """Frechet distance, KID and (with a classifier) class coverage of fakes.

    Args:
        real_images: real images `(n, H, W, C)`.
        fake_images: generated images of the same shape per sample.
        extractor: a callable from images to features `(n, d)`.
        classifier: optional; anything with `predict_classes(images)`.
        num_classes: the number of classes (needed with `classifier`).
        kid_subsets: KID subsets.
        kid_subset_size: KID samples per subset.

    Returns:
        A dict: `frechet_distance`, `kid`, `kid_std` and, with a classifier,
        `classes` and `class_kl`.

    Example:

    ```python
    clf = keras_gan.evaluation.train_classifier(images, labels)
    scores = keras_gan.evaluation.evaluate_images(
        images, gan.generate(1797), clf.features, clf, num_classes=10)
    ```
    """
    f_real, f_fake = extractor(real_images), extractor(fake_images)
    kid, kid_std = kernel_inception_distance(f_real, f_fake, kid_subsets, kid_subset_size)
    scores = {"frechet_distance": frechet_distance(f_real, f_fake), "kid": kid, "kid_std": kid_std}
    if classifier is not None:
        if num_classes is None:
            raise ValueError("Invalid value for argument `num_classes`: expected the number "
                             "of classes with a `classifier`. Received: num_classes=None")
        cov = class_coverage(classifier.predict_classes(fake_images), num_classes)
        scores.update(classes=cov["classes"], class_kl=cov["kl"])
    return scores


# ------------------------------------------------------------ stacked digits
#: The sample count of the stacked-MNIST protocol (PacGAN, Table 2).
STACKED_SAMPLES = 26000


def evaluate_stacked_digits(images, classifier):
    """Modes covered and KL to uniform of stacked-digits images (1000 modes).

    Each of the 3 channels is read by the digits classifier; the mode is
    `100 * digit(channel 0) + 10 * digit(channel 1) + digit(channel 2)`. The
    protocol uses 26,000 samples (`STACKED_SAMPLES`).

    Args:
        images: generated images `(n, H, W, 3)`.
        classifier: a 10-class digits classifier on `(H, W, 1)` images, with
            `predict_classes` (e.g. from `train_classifier`).

    Returns:
        A dict: `modes` (of 1000 hit at least once), `kl` (KL of the mode
        histogram to the uniform over 1000) and `counts`.

    Example:

    ```python
    scores = keras_gan.evaluation.evaluate_stacked_digits(gan.generate(26000), clf)
    ```
    """
    images = np.asarray(images, "float32")
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
        raise ValueError(
            "Invalid value for argument `images`: expected stacked digits of shape "
            f"(n, H, W, 3). Received: images with shape {images.shape}"
        )
    n, h, w, _ = images.shape
    channels = np.moveaxis(images, -1, 1).reshape(n * 3, h, w, 1)
    digits = classifier.predict_classes(channels).reshape(n, 3)
    modes = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    counts = np.bincount(modes, minlength=1000)
    return {"modes": int(np.count_nonzero(counts)), "kl": kl_to_uniform(counts), "counts": counts}
