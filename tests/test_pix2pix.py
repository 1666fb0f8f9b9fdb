"""Pix2Pix: phase isolation, the L1 term and D's 0.5 factor by hand, learning, saving, errors."""

import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import keras
from keras import layers
from PIL import Image

import keras_gan
from keras_gan import cli, data, images, networks

from _benchmarks import load_benchmark

SHAPE_IN, SHAPE_OUT = (16, 16, 1), (16, 16, 3)


def tiny_pix2pix(l1_weight=100.0, lr=2e-3, spectral_norm=False, **compile_kwargs):
    g = networks.unet_generator(SHAPE_IN, 3, filters=4, depth=3)
    d = networks.pix2pix_discriminator(SHAPE_IN, SHAPE_OUT, filters=4, n_layers=2, spectral_norm=spectral_norm)
    model = keras_gan.Pix2Pix(g, d, l1_weight=l1_weight, seed=0)
    model.compile(keras.optimizers.Adam(lr, beta_1=0.5), keras.optimizers.Adam(lr, beta_1=0.5), **compile_kwargs)
    return model


def pairs(n=8, seed=0):
    x, y = data.digits_translation_samples("colorize", 16, seed=seed)
    return tf.constant(x[:n]), tf.constant(y[:n])


def snapshot(model):
    return [v.numpy().copy() for v in model.weights]


def identical(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def batchnorm_statistics(model):
    return [w.numpy().copy() for w in model.weights if "moving" in w.path]


def spectral_norm_vectors(model):
    return [w.numpy().copy() for w in model.weights if w.path.endswith(("/u", "/v"))]


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_g_phase_changes_no_discriminator_variable_batchnorm_included(spectral_norm):
    model = tiny_pix2pix(spectral_norm=spectral_norm)
    assert batchnorm_statistics(model.discriminator)  # D has BatchNorm: the check can fail
    # With spectral norm, its power-iteration vectors are state the G phase must not move either.
    assert bool(spectral_norm_vectors(model.discriminator)) == spectral_norm
    d_before, g_before = snapshot(model.discriminator), snapshot(model.generator)
    tf.function(model._g_step)(*pairs())
    assert identical(d_before, snapshot(model.discriminator))
    assert not identical(g_before, snapshot(model.generator))
    assert model.discriminator.trainable  # restored after the G phase


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_d_phase_changes_no_generator_variable_batchnorm_included(spectral_norm):
    model = tiny_pix2pix(spectral_norm=spectral_norm)
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    d_stats = batchnorm_statistics(model.discriminator)
    d_vectors = spectral_norm_vectors(model.discriminator)
    assert batchnorm_statistics(model.generator)
    tf.function(model._d_step)(*pairs())
    assert identical(g_before, snapshot(model.generator))
    assert not identical(d_before, snapshot(model.discriminator))
    assert not identical(d_stats, batchnorm_statistics(model.discriminator))
    if spectral_norm:  # D's own update advances the power iteration
        assert not identical(d_vectors, spectral_norm_vectors(model.discriminator))


def constant_networks(logit=0.5):
    """G outputs tanh(0) = 0 everywhere; D outputs `logit` on every patch of any pair."""
    x_in = keras.Input((2, 2, 1))
    g = keras.Model(x_in, layers.Conv2D(1, 1, kernel_initializer="zeros", activation="tanh")(x_in))
    a, b = keras.Input((2, 2, 1)), keras.Input((2, 2, 1))
    logits = layers.Conv2D(1, 1, kernel_initializer="zeros",
                           bias_initializer=keras.initializers.Constant(logit))(layers.Concatenate()([a, b]))
    return g, keras.Model([a, b], logits)


def test_generator_loss_is_adversarial_plus_l1_weight_times_mean_absolute_error():
    g, d = constant_networks(logit=0.5)
    model = keras_gan.Pix2Pix(g, d, l1_weight=100.0)
    model.compile("sgd", "sgd")
    inputs = tf.zeros((2, 2, 2, 1))
    targets = tf.constant([[0.5, -1.0, 0.25, 0.0], [1.0, 1.0, -0.5, 0.5]], shape=(2, 2, 2, 1))
    adversarial, l1 = model.generator_losses(inputs, targets)
    # By hand: G(x) = 0, so L1 = mean|t| = 4.75 / 8; BCE(0.5, 1) = log(1 + e^-0.5).
    assert float(l1) == pytest.approx(4.75 / 8)
    assert float(adversarial) == pytest.approx(math.log1p(math.exp(-0.5)), rel=1e-6)
    tf.function(model._g_step)(inputs, targets)
    assert float(model.trackers["g_loss"].result()) == pytest.approx(math.log1p(math.exp(-0.5)) + 100 * 4.75 / 8, rel=1e-6)


def test_discriminator_loss_is_halved_as_in_pix2pix():
    g, d = constant_networks(logit=0.5)
    model = keras_gan.Pix2Pix(g, d)
    model.compile("sgd", "sgd")
    tf.function(model._d_step)(tf.zeros((2, 2, 2, 1)), tf.ones((2, 2, 2, 1)))
    # (BCE(0.5, 1) + BCE(0.5, 0)) * 0.5 = (log(1 + e^-0.5) + log(1 + e^0.5)) / 2
    expected = (math.log1p(math.exp(-0.5)) + math.log1p(math.exp(0.5))) / 2
    assert float(model.trackers["d_loss"].result()) == pytest.approx(expected, rel=1e-6)


def test_fit_on_pairs_learns_the_edges_task_beyond_the_best_constant_image():
    x, y = data.digits_translation_samples("edges", 16)
    g = networks.unet_generator((16, 16, 1), 1, filters=8, depth=3, dropout=0.0)
    d = networks.pix2pix_discriminator((16, 16, 1), (16, 16, 1), filters=8, n_layers=2)
    model = keras_gan.Pix2Pix(g, d, seed=0)
    model.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5))
    held_out, truth = x[-100:], y[-100:]
    before = np.mean(np.abs(model.translate(held_out) - truth))
    history = model.fit(tf.data.Dataset.from_tensor_slices((x[:512], y[:512])).batch(32), epochs=12, verbose=0)
    after = np.mean(np.abs(model.translate(held_out) - truth))
    # The per-pixel median of the training targets is the best output that ignores the input.
    constant = np.mean(np.abs(np.median(y[:512], axis=0) - truth))
    assert set(history.history) >= {"d_loss", "g_loss", "g_adversarial", "g_l1"}
    assert after < 0.9 * constant and after < 0.6 * before, (before, constant, after)


def test_save_and_load_restore_both_optimizers_and_the_generator(tmp_path):
    model = tiny_pix2pix(l1_weight=50.0)
    model.fit(*pairs(16), batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "pix2pix.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_gan.Pix2Pix) and loaded.l1_weight == 50.0
    for name in ("d_optimizer", "g_optimizer"):
        original, restored = getattr(model, name), getattr(loaded, name)
        assert int(restored.iterations.numpy()) == int(original.iterations.numpy()) == 2
        assert identical([v.numpy() for v in original.variables], [v.numpy() for v in restored.variables])
    x, _ = pairs(4)
    np.testing.assert_allclose(loaded.translate(x), model.translate(x), atol=1e-6)


def test_mixed_precision_wraps_both_optimizers_and_trains_finitely():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny_pix2pix()
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    logs = model.fit(*pairs(8), batch_size=8, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert model.translate(pairs(2)[0]).dtype == np.float32


def test_invalid_arguments_name_the_argument():
    g, d = constant_networks()
    with pytest.raises(ValueError, match="`l1_weight`: expected a non-negative float. Received: l1_weight=-1"):
        keras_gan.Pix2Pix(g, d, l1_weight=-1)
    with pytest.raises(ValueError, match="`discriminator`: expected a model with 2 inputs"):
        keras_gan.Pix2Pix(g, g)
    x_in = keras.Input((4, 4, 1))
    with pytest.raises(ValueError, match="`discriminator`: expected inputs"):
        keras_gan.Pix2Pix(keras.Model(x_in, layers.Conv2D(1, 1)(x_in)), d)
    model = keras_gan.Pix2Pix(g, d)
    with pytest.raises(RuntimeError, match="must be compiled"):
        model.fit(np.zeros((2, 2, 2, 1)), np.zeros((2, 2, 2, 1)))
    model.compile("adam", "adam")
    with pytest.raises(ValueError, match="Invalid data `x`: expected a tf.data.Dataset of \\(input, target\\)"):
        model.fit(np.zeros((2, 2, 2, 1)))
    with pytest.raises(ValueError, match="Invalid data `x`: expected batches of samples of shape \\(2, 2, 1\\)"):
        model.fit(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 1)))


def write_image_pairs(root, n=6, size=16):
    """`root/A/i.png` (grey digits) and `root/B/i.png` (their edge maps, in RGB)."""
    x, y = data.digits_translation_samples("edges", size)
    for folder in ("A", "B"):
        (root / folder).mkdir(parents=True)
    for i in range(n):
        Image.fromarray(images.to_uint8(x[i])[..., 0]).save(root / "A" / f"{i}.png")
        Image.fromarray(np.repeat(images.to_uint8(y[i]), 3, axis=-1)).save(root / "B" / f"{i}.png")


def test_image_folder_pairs_match_files_by_name_and_refuse_mismatches(tmp_path):
    write_image_pairs(tmp_path)
    a, b = next(iter(data.image_folder_pairs(tmp_path, (16, 16), batch_size=6, channels=(1, 3), shuffle=False)))
    # The batch count is known, so Keras sees the epoch's end as the end, not as missing data.
    assert int(data.image_folder_pairs(tmp_path, (16, 16), batch_size=4).cardinality()) == 2
    x, y = data.digits_translation_samples("edges", 16)
    np.testing.assert_allclose(a.numpy(), images.to_uint8(x[:6]) / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_allclose(b.numpy()[..., :1], images.to_uint8(y[:6]) / 127.5 - 1.0, atol=1e-6)
    os.remove(tmp_path / "B" / "3.png")
    with pytest.raises(ValueError, match="same image file names in `A/` and `B/`.*'3.png'"):
        data.image_folder_pairs(tmp_path, (16, 16))


def test_cli_task_pix2pix_trains_on_an_image_folder_writes_a_grid_and_never_trains_over_a_finished_run(tmp_path, capsys):
    write_image_pairs(tmp_path / "data")
    out = tmp_path / "run"
    code = cli.main(["train", "--task", "pix2pix", "--dataset", "folder", "--image-folder", str(tmp_path / "data"),
                     "--image-size", "16x16", "--batch-size", "3", "--epochs", "1", "--verbose", "0",
                     "--out", str(out), "--export-to", str(tmp_path / "export"), "--spectral-norm"])
    assert code == 0
    grid = np.asarray(Image.open(out / "samples" / "epoch_001.png"))
    assert grid.shape == (6 * 33 + 1, 3 * 33 + 1, 3)  # 6 rows of input | output | target, 16x16 shown at 2x
    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model, keras_gan.Pix2Pix)
    convs = [l for l in model.discriminator.get_layer("pix2pix_discriminator_patchgan").layers
             if isinstance(l, (layers.Conv2D, keras_gan.layers.SpectralNorm))]
    assert len(convs) == 4 and all(isinstance(l, keras_gan.layers.SpectralNorm) for l in convs)  # 3 + logits
    assert keras_gan.load_generator(tmp_path / "export").output_shape == (16, 16, 3)
    # A rerun with other settings would train over that run: refused, file untouched.
    before = (out / "model.keras").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--task", "pix2pix", "--dataset", "folder", "--image-folder", str(tmp_path / "data"),
                  "--image-size", "16x16", "--batch-size", "3", "--epochs", "1", "--verbose", "0",
                  "--out", str(out)])
    assert exit_info.value.code == 2
    assert "--spectral-norm True -> False" in capsys.readouterr().err
    assert (out / "model.keras").read_bytes() == before
    # So is a run saved before these tasks resumed (a model.keras and no resume state).
    shutil.rmtree(out / "resume")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--task", "pix2pix", "--dataset", "folder", "--image-folder", str(tmp_path / "data"),
                  "--image-size", "16x16", "--batch-size", "3", "--epochs", "1", "--verbose", "0",
                  "--out", str(out), "--spectral-norm"])
    assert exit_info.value.code == 2
    assert "without a resume state" in capsys.readouterr().err
    assert (out / "model.keras").read_bytes() == before


def test_image_to_image_benchmark_smoke_prints_its_table(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    report = tmp_path / "smoke.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "image_to_image.py"), "--smoke",
                           "--json", str(report)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| colorize | pix2pix | 1 |" in proc.stdout and "| colorize | l1_only | 1 |" in proc.stdout
    rows = json.loads(report.read_text())["summary"]
    assert {r["model"] for r in rows} == {"pix2pix", "l1_only"}
    assert all(np.isfinite([r["l1"], r["grad_ratio"], r["colour_ratio"]]).all() for r in rows)
    # Both generators trained from the same seed-fixed start: each is closer (L1) to the targets
    # than that start, and they differ (the adversarial term changes pix2pix's updates).
    i2i = load_benchmark("image_to_image.py")
    x, y = data.digits_translation_samples("colorize", 32)
    keras.utils.set_random_seed(0)
    g, _ = i2i._networks((x.shape[1:], y.shape[1:]), 8, 2)
    start = i2i.evaluate(g, x[-i2i.TEST_IMAGES:], y[-i2i.TEST_IMAGES:])["l1"]
    l1 = {r["model"]: r["l1"] for r in rows}
    assert l1["pix2pix"] < start and l1["l1_only"] < start and l1["pix2pix"] != l1["l1_only"], (start, l1)
    # The optimizers updated the weights: BatchNorm's moving statistics alone also change the L1.
    for row in json.loads(report.read_text())["results"]:
        assert row["g_weight_change"] > 0, row
        assert row["model"] == "l1_only" or row["d_weight_change"] > 0, row
