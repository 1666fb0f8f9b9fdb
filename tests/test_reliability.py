"""Crash-safe writes, clear loading errors, no pickle, and thread-safe loaded generators."""

import concurrent.futures
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_gan
from keras_gan import cli, networks, saving

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")


def _toy_gan():
    gan = keras_gan.GAN(networks.toy_generator(4, 2, units=(8,)), networks.toy_discriminator(2, units=(8,)), seed=0)
    gan.compile("adam", "adam")
    return gan


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports") / "toy"
    keras_gan.export_generator(_toy_gan(), str(base), version=1)
    return base / "1"


# ------------------------------------------------------------- atomic writes
_SAVE_FOREVER = """
import sys, keras
from keras_gan import callbacks, networks
model = networks.toy_generator(4, 2, units=(256, 256))
while True:
    callbacks.save_atomic(model, sys.argv[1])
"""


def test_a_kill_during_a_checkpoint_save_leaves_the_previous_file_intact(tmp_path):
    target = tmp_path / "model.keras"
    writer = subprocess.Popen([sys.executable, "-c", _SAVE_FOREVER, str(target)], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def temporaries():
        return [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-model-")]

    try:
        deadline = time.monotonic() + 90
        # Wait for a first complete file, then for a save in progress (its temporary file).
        while not (target.exists() and temporaries()):
            assert writer.poll() is None and time.monotonic() < deadline, "the writer never saved"
            time.sleep(0.005)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert len(temporaries()) == 1  # killed mid-save: the half-written file is the temporary one
    model = saving.load_model(str(target), compile=False)  # the previous save: complete, loadable
    assert model.output_shape == (None, 2)


# ------------------------------------------------------------------- loading
def test_load_generator_on_missing_partial_and_foreign_directories_gives_clear_errors(export_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`path`.*does not exist"):
        keras_gan.load_generator(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match=r"saved_model.pb"):
        keras_gan.load_generator(str(tmp_path))
    partial = tmp_path / "partial" / "1"
    shutil.copytree(export_dir, partial)
    shutil.rmtree(partial / "variables")
    with pytest.raises(ValueError, match=r"partial or damaged export"):
        keras_gan.load_generator(str(partial))
    truncated = tmp_path / "truncated" / "1"
    shutil.copytree(export_dir, truncated)
    data = (truncated / "saved_model.pb").read_bytes()
    (truncated / "saved_model.pb").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"partial or damaged export"):
        keras_gan.load_generator(str(truncated))
    damaged = tmp_path / "damaged" / "1"
    shutil.copytree(export_dir, damaged)
    (damaged / "assets.extra" / "keras_gan.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"metadata.*unreadable"):
        keras_gan.load_generator(str(damaged))

    class Foreign(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 3), tf.float32, name="x")])
        def __call__(self, x):
            return {"y": x * 2.0}

    foreign = Foreign()
    tf.saved_model.save(foreign, str(tmp_path / "foreign"), signatures={"serving_default": foreign.__call__})
    with pytest.raises(ValueError, match=r"expected a `serving_default` signature from input `z`"):
        keras_gan.load_generator(str(tmp_path / "foreign"))


def test_load_model_on_corrupted_keras_files_gives_clear_errors(tmp_path):
    good = tmp_path / "model.keras"
    _toy_gan().save(str(good))
    data = good.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated or corrupted"):
        saving.load_model(str(truncated))
    # Flip bytes inside the stored weights: the zip's CRC check catches it.
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("model.weights.h5")
    flipped = bytearray(data)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 64
    flipped[start: start + 16] = bytes(b ^ 0xFF for b in flipped[start: start + 16])
    (tmp_path / "flipped.keras").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"corrupted"):
        saving.load_model(str(tmp_path / "flipped.keras"))
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        saving.load_model(str(tmp_path / "missing.keras"))
    with pytest.raises(ValueError, match=r"ending in .keras"):
        saving.load_model(str(tmp_path))
    gan = keras_gan.load_gan(str(good))
    assert isinstance(gan, keras_gan.GAN) and gan.d_optimizer is not None
    gan.generator.save(str(tmp_path / "generator.keras"))
    with pytest.raises(ValueError, match=r"expected a file holding a keras_gan.GAN"):
        keras_gan.load_gan(str(tmp_path / "generator.keras"))


def test_keras_files_load_in_safe_mode_and_never_run_stored_code(tmp_path, capsys):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    model.save(str(tmp_path / "lambda.keras"))
    with pytest.raises(ValueError, match=r"Lambda layer.*safe_mode"):
        saving.load_model(str(tmp_path / "lambda.keras"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sample", "--model", str(tmp_path / "lambda.keras"), "--out", str(tmp_path / "g.png")])
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(stderr.strip().splitlines()) == 1 and "safe_mode" in stderr
    assert not (tmp_path / "g.png").exists()


def test_nothing_in_the_package_uses_pickle():
    offenders = [
        str(path.relative_to(ROOT)) for path in (ROOT / "keras_gan").rglob("*.py")
        if any(word in path.read_text() for word in ("import pickle", "cPickle", "dill", "joblib", "allow_pickle=True"))
    ]
    assert offenders == []


# --------------------------------------------------------------- concurrency
def test_a_loaded_generator_called_from_8_threads_matches_sequential_calls(export_dir, tmp_path):
    exported = keras_gan.load_generator(str(export_dir))
    noises = [np.random.default_rng(i).normal(size=(16 + i, 4)).astype("float32") for i in range(8)]
    sequential = [exported(z) for z in noises]
    seeds = [list(range(i, i + 5)) for i in range(8)]
    sequential_seeds = [exported.from_seeds(s) for s in seeds]
    start = concurrent.futures.thread.threading.Barrier(8)

    def work(i):
        start.wait()  # all 8 call at once
        return [exported(noises[i]) for _ in range(3)] + [exported.from_seeds(seeds[i])]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for i, outputs in enumerate(results):
        for out in outputs[:-1]:
            np.testing.assert_array_equal(out, sequential[i])
        np.testing.assert_array_equal(outputs[-1], sequential_seeds[i])


def test_reliability_benchmark_smoke_run_prints_every_configuration(capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import reliability
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert reliability.main(["--smoke"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == {"plain", "guard", "resume"} and all(float(r[0]) > 0 for r in rows.values())
