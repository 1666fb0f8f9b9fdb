"""Property-based tests: random shapes, dtypes, ranges and wrong arguments through the
public API and the CLI give a result or a clear ValueError/TypeError, never a TF trace
or a hang."""

import contextlib
import re
import signal

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras
import keras_gan
from keras_gan import cli, data, layers, networks, resume
from keras_gan._internal.validation import MAX_DATA_MAGNITUDE, InvalidDataError

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
LATENT, DIM, CLASSES = 4, 2, 3


@contextlib.contextmanager
def _no_hang(seconds=60):
    def fail(signum, frame):
        raise AssertionError(f"hung for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _names(message, name):
    """Whether an error message names argument `name` (`name` in backticks, or `name=<value>`)."""
    return f"`{name}`" in message or re.search(rf"(?<![\w.]){re.escape(name)}=", message) is not None


def _result_or_clear_error(call, invalid, others=()):
    """Runs `call`; returns (result, error).

    With `invalid` (the arguments known to be invalid) non-empty, `call` must
    raise a ValueError/TypeError naming one of them (or one of `others`). With
    all arguments valid it must succeed, unless `others` names arguments whose
    combination can be refused (e.g. `generator` for a `num_classes` the
    networks do not take): then an error must name one of those.
    """
    with _no_hang():
        try:
            result = call()
        except (ValueError, TypeError) as e:
            message = str(e)
            if isinstance(e, tf.errors.OpError):
                assert isinstance(e, InvalidDataError), message  # a raw TF error is a trace
            named = set(invalid) | set(others)
            assert named, f"valid arguments refused: {message}"
            assert any(_names(message, n) for n in named), (named, message)
            return None, e
    assert not invalid, f"invalid {sorted(invalid)} accepted"
    return result, None


def _positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _real(value, low=-np.inf, high=np.inf, low_open=False, high_open=False):
    """A finite real number (not a bool nor a string) in the given range."""
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return (np.isfinite(value) and (value > low if low_open else value >= low)
            and (value < high if high_open else value <= high))


def _seed(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _invalid_samples(x, sample_shape):
    """Whether `x` is refused as training data or noise: empty, wrong shape, wrong dtype, NaN/Inf, huge."""
    if x.ndim < 1 or x.shape[0] == 0 or x.shape[1:] != sample_shape:
        return True
    if x.dtype.kind not in "iuf":
        return True
    with np.errstate(all="ignore"):
        values = x.astype("float32")
    return not np.all(np.isfinite(values))


def _invalid_data(x):
    """Whether `x` is refused as training data: as noise, plus uint8 (unscaled pixels) and huge values."""
    if _invalid_samples(x, (DIM,)) or x.dtype == np.uint8:
        return True
    return float(np.max(np.abs(x.astype("float64")))) >= MAX_DATA_MAGNITUDE


def _toy_gan(num_classes=None):
    if num_classes:
        g = networks.conditional_generator("toy", LATENT, (DIM,), num_classes, units=(8,))
        d = networks.conditional_discriminator("toy", (DIM,), num_classes, units=(8,))
    else:
        g, d = networks.toy_generator(LATENT, DIM, units=(8,)), networks.toy_discriminator(DIM, units=(8,))
    gan = keras_gan.GAN(g, d, seed=0, num_classes=num_classes)
    gan.compile("adam", "adam")
    return gan


_DTYPES = ["uint8", "int32", "int64", "float16", "float32", "float64", "bool", "complex64"]


@st.composite
def _arrays(draw, valid_shape=(DIM,)):
    """Samples `(n, ...)`: mostly the right sample shape, sometimes not; any dtype and range."""
    n = draw(st.integers(0, 40))
    sample = draw(st.one_of(st.just(valid_shape), st.lists(st.integers(0, 4), max_size=3).map(tuple)))
    dtype = draw(st.sampled_from(_DTYPES))
    fill = draw(st.sampled_from(["normal", "zeros", "nan", "inf", "huge", "pixels"]))
    x = np.random.default_rng(n).normal(size=(n,) + sample)
    x = {"normal": x, "zeros": 0 * x, "nan": np.where(x > 0, np.nan, x), "inf": np.where(x > 0, np.inf, x),
         "huge": x * 1e30, "pixels": np.clip(np.abs(x) * 100, 0, 255)}[fill]
    with np.errstate(all="ignore"):
        return x.astype(dtype)


_BATCH_SIZES = st.one_of(st.none(), st.integers(-2, 48), st.just("8"), st.just(2.5))


@settings(max_examples=10, **SETTINGS)
@given(x=_arrays(), batch_size=_BATCH_SIZES)
def test_fit_on_random_arrays_trains_or_names_the_bad_argument(x, batch_size):
    gan = _GANS.setdefault("toy", _toy_gan())
    invalid = {"x"} if _invalid_data(x) else set()
    if batch_size is not None and not _positive_int(batch_size):
        invalid.add("batch_size")
    _, error = _result_or_clear_error(lambda: gan.fit(x, batch_size=batch_size, epochs=1, verbose=0), invalid)
    if error is None:
        assert all(np.all(np.isfinite(w)) for w in gan.get_weights())
    if x.dtype == np.uint8 and x.size and x.shape[1:] == (DIM,) and "batch_size" not in invalid:
        assert error is not None and "uint8" in str(error)  # the uint8 policy: refused, with the fix


@settings(max_examples=8, **SETTINGS)
@given(x=_arrays(), batch=st.integers(1, 16))
def test_fit_on_random_datasets_trains_or_names_the_bad_data(x, batch):
    gan = _GANS.setdefault("toy", _toy_gan())
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(batch) if x.ndim else x
    # A dataset's values are checked batch by batch for NaN/Inf only, not for their magnitude.
    invalid = _invalid_samples(x, (DIM,)) or x.dtype == np.uint8
    _result_or_clear_error(lambda: gan.fit(dataset, epochs=1, verbose=0), {"x"} if invalid else set())


@settings(max_examples=6, **SETTINGS)
@given(labels=st.lists(st.integers(-3, 2 * CLASSES), min_size=1, max_size=12),
       as_dataset=st.booleans(), label_dtype=st.sampled_from(["int32", "int64", "float32"]))
def test_conditional_fit_trains_on_labels_in_range_and_names_y_out_of_range(labels, as_dataset, label_dtype):
    gan = _GANS.setdefault("conditional", _toy_gan(CLASSES))
    y = np.asarray(labels).astype(label_dtype)
    x = np.zeros((len(y), DIM), "float32")
    fit_data = (tf.data.Dataset.from_tensor_slices((x, y)).batch(4),) if as_dataset else (x, y)
    in_range = all(0 <= v < CLASSES for v in labels)
    _result_or_clear_error(lambda: gan.fit(*fit_data, epochs=1, verbose=0, **({} if as_dataset else {"batch_size": 4})),
                           set() if in_range else {"y"})


@settings(max_examples=10, **SETTINGS)
@given(n=st.one_of(st.integers(-2, 40), st.floats(allow_nan=True), st.text(max_size=2)),
       seed=st.one_of(st.none(), st.integers(-(2**70), 2**70), st.text(max_size=2)),
       batch_size=st.one_of(st.integers(-1, 50), st.just("4")),
       labels=st.one_of(st.none(), st.integers(-2, 5), st.lists(st.integers(-2, 5), max_size=5)))
def test_generate_with_random_arguments_returns_samples_or_names_the_bad_argument(n, seed, batch_size, labels):
    gan = _GANS.setdefault("conditional", _toy_gan(CLASSES))
    invalid, others = set(), set()
    if not _positive_int(n):
        invalid.add("n")
        if isinstance(labels, list):
            others.add("labels")  # n ints or one: unknown for an invalid n
    if seed is not None and not _seed(seed):
        invalid.add("seed")
    if not _positive_int(batch_size):
        invalid.add("batch_size")
    if isinstance(labels, list):
        if any(not 0 <= v < CLASSES for v in labels) or ("n" not in invalid and len(labels) not in (1, n)):
            invalid.add("labels")
    elif labels is not None and not 0 <= labels < CLASSES:
        invalid.add("labels")
    samples, error = _result_or_clear_error(
        lambda: gan.generate(n, seed=seed, batch_size=batch_size, labels=labels), invalid, others)
    if error is None:
        assert samples.shape == (n, DIM) and np.all(np.isfinite(samples))


@settings(max_examples=12, **SETTINGS)
@given(z=_arrays(valid_shape=(LATENT,)))
def test_generate_from_random_noise_returns_samples_or_names_z(z):
    gan = _GANS.setdefault("toy", _toy_gan())
    samples, error = _result_or_clear_error(lambda: gan.generate_from_noise(z),
                                            {"z"} if _invalid_samples(z, (LATENT,)) else set())
    if error is None:
        assert samples.shape == (len(z), DIM) and np.all(np.isfinite(samples))


_ANYTHING = st.one_of(st.none(), st.integers(-3, 10), st.floats(allow_nan=True), st.text(max_size=3),
                      st.booleans())


# Whether each argument's value is valid for the toy networks (G: z of 4 -> 2, D: 2 -> 1).
# `mismatched`: a valid value the toy networks do not fit, to be refused naming the argument
# or the network.
_GAN_ARGUMENTS = {
    "latent_dim": lambda v: v is None or (_positive_int(v) and v == LATENT),
    "seed": lambda v: v is None or _seed(v),
    "ema_decay": lambda v: v is None or _real(v, 0.0, 1.0, high_open=True),
    "pack": lambda v: _positive_int(v) and v == 1,
    "num_classes": lambda v: v is None,
    "d_steps": _positive_int,
    "loss": lambda v: isinstance(v, str) and v in ("bce", "hinge", "non_saturating", "least_squares", "wasserstein"),
}
_MISMATCHED = {"latent_dim": _positive_int, "pack": _positive_int, "num_classes": _positive_int}


@settings(max_examples=40, **SETTINGS)
@given(argument=st.sampled_from(sorted(_GAN_ARGUMENTS)),
       value=st.one_of(_ANYTHING, st.sampled_from(["hinge", "bogus", 3, 0.999, 1.0, 2**63, LATENT])))
def test_gan_constructor_and_compile_accept_a_valid_argument_and_name_an_invalid_one(argument, value):
    def build():
        kwargs = {argument: value}
        compile_kwargs = {k: kwargs.pop(k) for k in ("loss", "d_steps") if k in kwargs}
        gan = keras_gan.GAN(networks.toy_generator(LATENT, DIM, units=(4,)), networks.toy_discriminator(DIM, units=(4,)),
                            **kwargs)
        gan.compile("adam", "adam", **compile_kwargs)
        return gan

    valid = _GAN_ARGUMENTS[argument](value)
    mismatched = not valid and _MISMATCHED.get(argument, lambda v: False)(value)
    others = {argument, "generator", "discriminator"} if mismatched else set()
    _result_or_clear_error(build, set() if valid or mismatched else {argument}, others)


_HELPER_ARGUMENTS = {
    ("gaussian_1d", "mean"): (lambda v: data.gaussian_1d(mean=v, n=64, batch_size=16), _real),
    ("gaussian_1d", "std"): (lambda v: data.gaussian_1d(std=v, n=64, batch_size=16),
                             lambda v: _real(v, 0.0, low_open=True)),
    ("ring_2d", "n_modes"): (lambda v: data.ring_2d(n=64, n_modes=v, batch_size=16), _positive_int),
    ("ring_2d", "std"): (lambda v: data.ring_2d(n=64, std=v, batch_size=16), lambda v: _real(v, 0.0, low_open=True)),
    ("grid_2d", "std"): (lambda v: data.grid_2d(n=64, std=v, batch_size=16), lambda v: _real(v, 0.0, low_open=True)),
    ("grid_2d", "batch_size"): (lambda v: data.grid_2d(n=64, batch_size=v), _positive_int),
    ("SeededEpochs", "batch_size"): (lambda v: resume.SeededEpochs(np.zeros((8, DIM)), batch_size=v, seed=0),
                                     _positive_int),
    ("SeededEpochs", "seed"): (lambda v: resume.SeededEpochs(np.zeros((8, DIM)), batch_size=4, seed=v), _seed),
    ("PackSamples", "pack"): (layers.PackSamples, _positive_int),
    ("augment.get", "augment"): (keras_gan.augment.get, lambda v: v is None),
}


@settings(max_examples=40, **SETTINGS)
@given(helper=st.sampled_from(sorted(_HELPER_ARGUMENTS)), value=_ANYTHING)
def test_data_helpers_and_layers_accept_a_valid_argument_and_name_an_invalid_one(helper, value):
    call, valid = _HELPER_ARGUMENTS[helper]
    _result_or_clear_error(lambda: call(value), set() if valid(value) else {helper[1]})


@pytest.mark.parametrize("value", ["4", "0.5", "-1", "nan", "1e3"])
@pytest.mark.parametrize("helper", sorted(_HELPER_ARGUMENTS))
def test_data_helpers_and_layers_name_an_argument_given_a_number_as_a_string(helper, value):
    # Numbers written as strings, which the random draws above seldom produce:
    # each must be refused naming the argument, not parsed nor passed on.
    call, valid = _HELPER_ARGUMENTS[helper]
    assert not valid(value)
    _result_or_clear_error(lambda: call(value), {helper[1]})


_BAD_TRAIN_FLAGS = st.one_of(
    st.tuples(st.sampled_from(["--epochs", "--batch-size", "--d-steps", "--g-steps", "--latent-dim",
                               "--save-every"]),
              st.one_of(st.integers(-5, 0).map(str), st.sampled_from(["x", "1.5", "", "1e9x"]))),
    st.tuples(st.sampled_from(["--dataset", "--loss", "--network", "--strategy", "--verbose"]),
              st.sampled_from(["bogus", "", "7", "MNIST"])),
    st.tuples(st.just("--image-size"), st.sampled_from(["0x5", "axb", "32", "-3x3", "x"])),
    st.tuples(st.just("--learning-rate"), st.sampled_from(["0", "-1", "nan", "abc"])),
    st.tuples(st.just("--ema-decay"), st.sampled_from(["1", "2.5", "-0.1", "inf"])),
)


@settings(max_examples=30, **SETTINGS)
@given(flag=_BAD_TRAIN_FLAGS, command=st.sampled_from(["train", "sample", "export", "serving-config"]))
def test_the_cli_exits_2_with_one_line_on_bad_input(flag, command, capsys, tmp_path_factory):
    missing = str(tmp_path_factory.getbasetemp() / "missing.keras")
    argv = {
        "train": ["train", *flag, "--out", str(tmp_path_factory.getbasetemp() / "never")],
        "sample": ["sample", "--model", missing, "--n", flag[1]],
        "export": ["export", "--checkpoint", missing, "--to", str(tmp_path_factory.getbasetemp() / "x")],
        "serving-config": ["serving-config", missing],
    }[command]
    capsys.readouterr()
    with _no_hang(), pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1 and lines[0].startswith("keras-gan"), lines


def test_bad_dataset_values_are_caught_with_xla_too():
    # XLA drops asserts inside the train step: the checks run in the input pipeline.
    gan = _toy_gan(CLASSES)
    gan.compile("adam", "adam", jit_compile=True)
    x, y = np.zeros((16, DIM), "float32"), np.zeros((16,), "int32")
    x[9, 0] = np.nan
    with pytest.raises(ValueError, match="`x`.*NaN"):
        gan.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`y`"):
        gan.fit(tf.data.Dataset.from_tensor_slices((0 * x, y + CLASSES)).batch(8), epochs=1, verbose=0)


_GANS = {}


@pytest.fixture(autouse=True, scope="module")
def _drop_models():
    yield
    _GANS.clear()
    keras.backend.clear_session()


# ------------------------------------------------------------- image value range
def _image_gan():
    g = networks.dcgan_generator(LATENT, (8, 8, 1), filters=4)  # ends in tanh: [-1, 1]
    gan = keras_gan.GAN(g, networks.dcgan_discriminator((8, 8, 1), filters=4), seed=0)
    gan.compile("adam", "adam")
    return gan


@pytest.mark.parametrize("as_dataset", [False, True])
def test_float_images_in_0_255_are_refused_naming_the_range_and_the_fix(as_dataset):
    x = np.random.default_rng(0).uniform(0, 255, (16, 8, 8, 1)).astype("float32")
    x = tf.data.Dataset.from_tensor_slices(x).batch(8) if as_dataset else x
    with pytest.raises(ValueError) as error:
        _image_gan().fit(x, epochs=1, verbose=0)
    message = str(error.value)
    assert "from 0" in message and "[-1, 1]" in message and "x / 127.5 - 1" in message, message


@pytest.mark.parametrize("as_dataset", [False, True])
def test_float_images_in_0_1_warn_naming_the_range_and_the_fix(as_dataset):
    x = np.random.default_rng(0).uniform(0, 1, (16, 8, 8, 1)).astype("float32")
    x = tf.data.Dataset.from_tensor_slices(x).batch(8) if as_dataset else x
    with pytest.warns(UserWarning, match=r"\(0\.\.1\).*\[-1, 1\].*x \* 2 - 1"):
        _image_gan().fit(x, epochs=1, verbose=0)


def test_images_in_minus_1_1_and_toy_data_of_any_range_train_without_a_word():
    import warnings

    images = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    toy = np.random.default_rng(0).normal(200, 5, (16, DIM)).astype("float32")  # a toy target's own range
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _image_gan().fit(images, epochs=1, verbose=0)
        _toy_gan().fit(toy, epochs=1, verbose=0)
