"""Property-based tests: random shapes, dtypes, ranges and wrong arguments through the
public API and the CLI give a result or a clear ValueError/TypeError, never a TF trace
or a hang."""

import contextlib
import signal

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras
import keras_gan
from keras_gan import cli, data, layers, networks, resume
from keras_gan._internal.validation import InvalidDataError

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


def _result_or_clear_error(call, *names):
    """Runs `call`; a failure must be a ValueError/TypeError naming the culprit."""
    with _no_hang():
        try:
            return call(), None
        except (ValueError, TypeError) as e:
            message = str(e)
            if isinstance(e, tf.errors.OpError):
                assert isinstance(e, InvalidDataError), message  # a raw TF error is a trace
            assert any(f"`{n}`" in message for n in names) or "Invalid" in message, message
            return None, e


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
def test_fit_on_random_arrays_trains_or_fails_clearly(x, batch_size):
    gan = _GANS.setdefault("toy", _toy_gan())
    _, error = _result_or_clear_error(lambda: gan.fit(x, batch_size=batch_size, epochs=1, verbose=0),
                                      "batch_size", "x")
    if error is None:
        assert all(np.all(np.isfinite(w)) for w in gan.get_weights())
    if x.dtype == np.uint8 and x.size and x.shape[1:] == (DIM,):
        assert error is not None and "uint8" in str(error)  # the uint8 policy: refused, with the fix


@settings(max_examples=8, **SETTINGS)
@given(x=_arrays(), batch=st.integers(1, 16))
def test_fit_on_random_datasets_trains_or_fails_clearly(x, batch):
    gan = _GANS.setdefault("toy", _toy_gan())
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(batch) if x.ndim else x
    _result_or_clear_error(lambda: gan.fit(dataset, epochs=1, verbose=0), "x")


@settings(max_examples=6, **SETTINGS)
@given(labels=st.lists(st.integers(-3, 2 * CLASSES), min_size=1, max_size=12),
       as_dataset=st.booleans(), label_dtype=st.sampled_from(["int32", "int64", "float32"]))
def test_conditional_fit_with_labels_out_of_range_fails_clearly(labels, as_dataset, label_dtype):
    gan = _GANS.setdefault("conditional", _toy_gan(CLASSES))
    y = np.asarray(labels).astype(label_dtype)
    x = np.zeros((len(y), DIM), "float32")
    fit_data = (tf.data.Dataset.from_tensor_slices((x, y)).batch(4),) if as_dataset else (x, y)
    _, error = _result_or_clear_error(lambda: gan.fit(*fit_data, epochs=1, verbose=0, **({} if as_dataset else {"batch_size": 4})), "y")
    in_range = all(0 <= v < CLASSES for v in labels)
    if not in_range:
        assert error is not None and "`y`" in str(error)


@settings(max_examples=10, **SETTINGS)
@given(n=st.one_of(st.integers(-2, 40), st.floats(allow_nan=True), st.text(max_size=2)),
       seed=st.one_of(st.none(), st.integers(-(2**70), 2**70), st.text(max_size=2)),
       batch_size=st.one_of(st.integers(-1, 50), st.just("4")),
       labels=st.one_of(st.none(), st.integers(-2, 5), st.lists(st.integers(-2, 5), max_size=5)))
def test_generate_with_random_arguments_returns_samples_or_fails_clearly(n, seed, batch_size, labels):
    gan = _GANS.setdefault("conditional", _toy_gan(CLASSES))
    samples, error = _result_or_clear_error(
        lambda: gan.generate(n, seed=seed, batch_size=batch_size, labels=labels), "n", "seed", "batch_size", "labels")
    if error is None:
        assert samples.shape == (n, DIM) and np.all(np.isfinite(samples))


@settings(max_examples=12, **SETTINGS)
@given(z=_arrays(valid_shape=(LATENT,)))
def test_generate_from_random_noise_returns_samples_or_fails_clearly(z):
    gan = _GANS.setdefault("toy", _toy_gan())
    samples, error = _result_or_clear_error(lambda: gan.generate_from_noise(z), "z")
    if error is None:
        assert samples.shape == (len(z), DIM) and np.all(np.isfinite(samples))


_ANYTHING = st.one_of(st.none(), st.integers(-3, 10), st.floats(allow_nan=True), st.text(max_size=3),
                      st.booleans())


@settings(max_examples=25, **SETTINGS)
@given(latent_dim=_ANYTHING, seed=_ANYTHING, ema_decay=_ANYTHING, pack=_ANYTHING, num_classes=_ANYTHING,
       d_steps=_ANYTHING, loss=st.sampled_from(["hinge", "bogus", 3, None]))
def test_gan_constructor_and_compile_accept_or_reject_clearly(latent_dim, seed, ema_decay, pack, num_classes,
                                                              d_steps, loss):
    def build():
        gan = keras_gan.GAN(networks.toy_generator(LATENT, DIM, units=(4,)), networks.toy_discriminator(DIM, units=(4,)),
                            latent_dim=latent_dim, seed=seed, ema_decay=ema_decay, pack=pack,
                            num_classes=num_classes)
        gan.compile("adam", "adam", loss=loss, d_steps=d_steps)
        return gan

    _result_or_clear_error(build, "latent_dim", "seed", "ema_decay", "pack", "num_classes", "d_steps", "loss",
                           "generator", "discriminator")


@settings(max_examples=25, **SETTINGS)
@given(helper=st.sampled_from(["gaussian_1d", "ring_2d", "grid_2d", "seeded_epochs", "pack", "augment"]),
       a=_ANYTHING, b=_ANYTHING)
def test_data_helpers_and_layers_accept_or_reject_clearly(helper, a, b):
    calls = {
        "gaussian_1d": lambda: data.gaussian_1d(mean=a, std=b, n=64, batch_size=16),
        "ring_2d": lambda: data.ring_2d(n=64, n_modes=a, std=b, batch_size=16),
        "grid_2d": lambda: data.grid_2d(n=64, std=a, batch_size=b),
        "seeded_epochs": lambda: resume.SeededEpochs(np.zeros((8, DIM)), batch_size=a, seed=b),
        "pack": lambda: layers.PackSamples(a),
        "augment": lambda: keras_gan.augment.get(a),
    }
    _result_or_clear_error(calls[helper], "mean", "std", "n_modes", "batch_size", "seed", "pack", "policy",
                           "augment", "radius")


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
