"""keras_gan.export: the SavedModel layout, signatures, atomic versions.

Reloaded outputs are compared with the in-process generator at atol 1e-5
(the same float32 graph; oneDNN may reorder sums, nothing more).
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import export as export_module

LATENT = 6
SHAPE = (8, 8, 1)
ATOL = 1e-5
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def image_generator(seed=0, latent_dim=LATENT):
    keras.utils.set_random_seed(seed)
    return keras_gan.networks.dcgan_generator(latent_dim=latent_dim, output_shape=SHAPE, filters=4)


def conditional_gan(num_classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    nets = keras_gan.networks
    return keras_gan.GAN(nets.conditional_generator("dcgan", LATENT, SHAPE, num_classes, filters=4),
                         nets.conditional_discriminator("dcgan", SHAPE, num_classes, filters=4),
                         num_classes=num_classes)


def toy_gan(seed=0):
    keras.utils.set_random_seed(seed)
    return keras_gan.GAN(keras_gan.networks.toy_generator(LATENT, 2, units=(8,)),
                         keras_gan.networks.toy_discriminator(2, units=(8,)))


def signature_specs(path):
    """{signature: ({input: (dtype, shape)}, {output: (dtype, shape)})} read from the SavedModel."""
    loaded = tf.saved_model.load(path)
    specs = {}
    for name, fn in loaded.signatures.items():
        inputs = {k: (v.dtype.name, tuple(v.shape)) for k, v in fn.structured_input_signature[1].items()}
        outputs = {k: (v.dtype.name, tuple(v.shape)) for k, v in fn.structured_outputs.items()}
        specs[name] = (inputs, outputs)
    return specs


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    g = image_generator()
    base = tmp_path_factory.mktemp("export") / "model"
    return g, keras_gan.export_generator(g, base)


def test_layout_is_base_version_savedmodel_with_metadata(exported):
    g, path = exported
    assert os.path.basename(path) == "1"
    assert sorted(os.listdir(os.path.dirname(path))) == ["1"]
    assert {"saved_model.pb", "variables", "assets.extra"} <= set(os.listdir(path))
    assert os.stat(path).st_mode & 0o055 == 0o055  # readable by a server running as another user
    with open(os.path.join(path, "assets.extra", "keras_gan.json")) as f:
        meta = json.load(f)
    assert meta["latent_dim"] == LATENT and meta["sample_shape"] == list(SHAPE)
    assert meta["output_range"] == [-1.0, 1.0] and meta["num_classes"] is None
    assert meta["signatures"] == ["serving_default", "generate_from_seeds", "images_png"]


def test_saved_model_cli_show_lists_named_signatures_with_dtypes_and_shapes(exported):
    _, path = exported
    out = subprocess.run(
        ["saved_model_cli", "show", "--dir", path, "--all"],
        capture_output=True, text=True, timeout=120, env=ENV, check=True,
    ).stdout
    blocks = dict(re.findall(r"signature_def\['(\w+)'\]:\n(.*?)Method name", out, re.S))
    expected = {
        "serving_default": ("z", "DT_FLOAT", f"(-1, {LATENT})", "images", "DT_FLOAT", "(-1, 8, 8, 1)"),
        "generate_from_seeds": ("seeds", "DT_INT64", "(-1)", "images", "DT_FLOAT", "(-1, 8, 8, 1)"),
        "images_png": ("seeds", "DT_INT64", "(-1)", "png_bytes", "DT_STRING", "(-1)"),
    }
    for name, (i_name, i_dtype, i_shape, o_name, o_dtype, o_shape) in expected.items():
        block = blocks[name]
        inputs, outputs = block.split("output(s):")
        assert re.search(rf"inputs\['{i_name}'\] tensor_info:\s+dtype: {i_dtype}\s+shape: {re.escape(i_shape)}", inputs), block
        assert re.search(rf"outputs\['{o_name}'\] tensor_info:\s+dtype: {o_dtype}\s+shape: {re.escape(o_shape)}", outputs), block
        assert inputs.count("tensor_info") == 1 and outputs.count("tensor_info") == 1


def test_saved_model_cli_run_serving_default_produces_the_generators_images(exported, tmp_path):
    g, path = exported
    z = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    subprocess.run(
        ["saved_model_cli", "run", "--dir", path, "--tag_set", "serve",
         "--signature_def", "serving_default", "--inputs", f"z={tmp_path / 'z.npy'}",
         "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env=ENV, check=True,
    )
    images = np.load(tmp_path / "out" / "images.npy")
    assert images.shape == (3,) + SHAPE and images.dtype == np.float32
    np.testing.assert_allclose(images, g(z, training=False).numpy(), atol=ATOL)


def test_v1_session_loader_with_serve_tag_runs_every_signature_by_tensor_names(exported):
    g, path = exported
    z = np.random.default_rng(1).normal(size=(2, LATENT)).astype("float32")
    seeds = np.array([3, 4], np.int64)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        sigs = meta.signature_def

        def run(name, feeds, output):
            sig = sigs[name]
            assert set(sig.inputs) == set(feeds)
            return sess.run(sig.outputs[output].name,
                            {sig.inputs[k].name: v for k, v in feeds.items()})

        images = run("serving_default", {"z": z}, "images")
        from_seeds = run("generate_from_seeds", {"seeds": seeds}, "images")
        pngs = run("images_png", {"seeds": seeds}, "png_bytes")
    np.testing.assert_allclose(images, g(z, training=False).numpy(), atol=ATOL)
    z_seeds = np.stack([tf.random.stateless_normal([LATENT], seed=[int(s), 0]).numpy() for s in seeds])
    np.testing.assert_allclose(from_seeds, g(z_seeds, training=False).numpy(), atol=ATOL)
    decoded = np.stack([tf.io.decode_png(p).numpy() for p in pngs])
    expected = np.round((np.clip(from_seeds, -1, 1) + 1) * 127.5)
    assert decoded.dtype == np.uint8 and decoded.shape == (2,) + SHAPE
    assert np.abs(decoded.astype(int) - expected).max() <= 1


def test_reloaded_signatures_equal_the_in_process_generator(exported):
    g, path = exported
    loaded = tf.saved_model.load(path)
    z = np.random.default_rng(2).normal(size=(5, LATENT)).astype("float32")
    out = loaded.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(out, g(z, training=False).numpy(), atol=ATOL)
    assert np.ptp(out) > 0.01  # not a constant output


def test_generate_from_seeds_matches_gan_generate_with_the_same_seed(tmp_path):
    gan = toy_gan()
    path = keras_gan.export_generator(gan, tmp_path / "toy")
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "generate_from_seeds"}  # no PNG for 2D points
    out = loaded.signatures["generate_from_seeds"](seeds=tf.constant([11, 12, 11], tf.int64))["images"].numpy()
    np.testing.assert_allclose(out[0], gan.generate(1, seed=11)[0], atol=ATOL)
    np.testing.assert_allclose(out[1], gan.generate(1, seed=12)[0], atol=ATOL)
    np.testing.assert_array_equal(out[0], out[2])
    assert np.abs(out[0] - out[1]).max() > 1e-3


def test_gan_export_uses_the_ema_generator_when_there_is_one(tmp_path):
    keras.utils.set_random_seed(0)
    gan = keras_gan.GAN(keras_gan.networks.toy_generator(LATENT, 2, units=(8,)),
                        keras_gan.networks.toy_discriminator(2, units=(8,)), ema_decay=0.9)
    ema = gan.ema_generator
    # Make the EMA copy differ from G, as it does after training.
    ema.set_weights([w + 0.5 for w in ema.get_weights()])
    loaded = tf.saved_model.load(keras_gan.export_generator(gan, tmp_path / "m"))
    z = np.random.default_rng(3).normal(size=(4, LATENT)).astype("float32")
    out = loaded.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(out, ema(z).numpy(), atol=ATOL)
    assert np.abs(out - gan.generator(z).numpy()).max() > 1e-3


def test_conditional_gan_signatures_take_label_int32(tmp_path):
    gan = conditional_gan(num_classes=3)
    path = keras_gan.export_generator(gan, tmp_path / "cond")
    specs = signature_specs(path)
    assert specs["serving_default"][0] == {"z": ("float32", (None, LATENT)), "label": ("int32", (None,))}
    assert specs["generate_from_seeds"][0] == {"seeds": ("int64", (None,)), "label": ("int32", (None,))}
    assert specs["images_png"][0] == {"seeds": ("int64", (None,)), "label": ("int32", (None,))}
    assert specs["serving_default"][1] == {"images": ("float32", (None,) + SHAPE)}
    loaded = tf.saved_model.load(path)
    z = np.random.default_rng(4).normal(size=(3, LATENT)).astype("float32")
    labels = np.array([0, 1, 2], np.int32)
    out = loaded.signatures["serving_default"](z=tf.constant(z), label=tf.constant(labels))["images"]
    g = gan.inference_generator
    np.testing.assert_allclose(out.numpy(), g([z, labels], training=False).numpy(), atol=ATOL)
    seeds = tf.constant([5, 5], tf.int64)
    pair = loaded.signatures["generate_from_seeds"](seeds=seeds, label=tf.constant([0, 2]))["images"].numpy()
    z5 = tf.random.stateless_normal((1, LATENT), seed=[5, 0])
    expected = g([z5, tf.constant([2], tf.int32)], training=False).numpy()[0]
    np.testing.assert_allclose(pair[1], expected, atol=ATOL)
    assert np.abs(pair[0] - pair[1]).max() > 1e-4  # same noise, other class
    with open(os.path.join(path, "assets.extra", "keras_gan.json")) as f:
        meta = json.load(f)
    assert meta["num_classes"] == 3 and meta["conditional"] is True


def test_mixed_float16_export_has_float32_signatures(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        g = image_generator()
        assert g.layers[1].compute_dtype == "float16"
        path = keras_gan.export_generator(g, tmp_path / "mp")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    specs = signature_specs(path)
    for name, (inputs, outputs) in specs.items():
        dtypes = {d for d, _ in list(inputs.values()) + list(outputs.values())}
        assert dtypes <= {"float32", "int64", "string"}, (name, dtypes)
    assert specs["serving_default"][1]["images"][0] == "float32"
    z = np.random.default_rng(5).normal(size=(2, LATENT)).astype("float32")
    out = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))["images"]
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), g(z).numpy().astype("float32"), atol=1e-2)


def test_generator_built_in_a_distribute_scope_exports_inside_and_outside_it(tmp_path):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        g = image_generator()
        inside = keras_gan.export_generator(g, tmp_path / "dist")
    assert isinstance(g.weights[0].value, tf.distribute.DistributedValues)
    outside = keras_gan.export_generator(g, tmp_path / "dist")
    z = np.random.default_rng(6).normal(size=(2, LATENT)).astype("float32")
    for path in (inside, outside):
        out = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))["images"]
        np.testing.assert_allclose(out.numpy(), g(z).numpy(), atol=ATOL)


_TWO_REPLICAS = """
import sys, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, keras_gan
keras.mixed_precision.set_global_policy("mixed_float16")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    gan = keras_gan.GAN(keras_gan.networks.dcgan_generator(6, (8, 8, 1), filters=4),
                        keras_gan.networks.dcgan_discriminator((8, 8, 1), filters=4))
assert len(gan.generator.weights[0].value.values) == 2  # one copy per replica
path = keras_gan.export_generator(gan, sys.argv[1])
keras.mixed_precision.set_global_policy("float32")
sig = tf.saved_model.load(path).signatures["serving_default"]
z = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
out = sig(z=tf.constant(z))["images"]
assert out.dtype == tf.float32, out.dtype
np.testing.assert_allclose(out.numpy(), gan.generate_from_noise(z), atol=1e-5)
print("OK", strategy.num_replicas_in_sync)
"""


def test_gan_built_on_two_replicas_under_mixed_float16_exports(tmp_path):
    # Two logical CPUs must be configured before TF starts: own process.
    result = subprocess.run([sys.executable, "-c", _TWO_REPLICAS, str(tmp_path / "m")],
                            capture_output=True, text=True, timeout=240, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK 2")


def test_versions_number_up_from_the_highest_present(tmp_path):
    g = keras_gan.networks.toy_generator(LATENT, 2, units=(4,))
    base = tmp_path / "m"
    assert export_module.versions(base) == []
    assert keras_gan.export_generator(g, base) == str(base / "1")
    assert keras_gan.export_generator(g, base) == str(base / "2")
    assert keras_gan.export_generator(g, base, version=7) == str(base / "7")
    (base / "notes").mkdir()  # non-integer names are not versions
    assert keras_gan.export_generator(g, base) == str(base / "8")
    assert export_module.versions(base) == [1, 2, 7, 8]


def _tree(path):
    return {os.path.relpath(os.path.join(d, f), path): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(path) for f in files}


def test_existing_version_is_never_overwritten_unless_asked(tmp_path):
    base = tmp_path / "m"
    keras_gan.export_generator(toy_gan(seed=0), base, version=1)
    before = _tree(base / "1")
    other = toy_gan(seed=1)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        keras_gan.export_generator(other, base, version=1)
    assert _tree(base / "1") == before
    keras_gan.export_generator(other, base, version=1, overwrite=True)
    assert _tree(base / "1") != before
    z = np.random.default_rng(7).normal(size=(3, LATENT)).astype("float32")
    out = tf.saved_model.load(str(base / "1")).signatures["serving_default"](z=tf.constant(z))
    np.testing.assert_allclose(out["images"].numpy(), other.generator(z).numpy(), atol=ATOL)
    assert sorted(os.listdir(base)) == ["1"]  # no temporary directory left


def test_failure_mid_export_leaves_no_partial_version(tmp_path, monkeypatch):
    base = tmp_path / "m"
    g = keras_gan.networks.toy_generator(LATENT, 2, units=(4,))
    keras_gan.export_generator(g, base)

    def fail(directory, metadata):
        # The SavedModel is fully written by now: only the rename is missing.
        assert os.path.isfile(os.path.join(directory, "saved_model.pb"))
        raise OSError("disk full (injected)")

    monkeypatch.setattr(export_module, "_write_metadata", fail)
    with pytest.raises(OSError, match="injected"):
        keras_gan.export_generator(g, base)
    assert sorted(os.listdir(base)) == ["1"]


def test_failed_overwrite_restores_the_previous_version(tmp_path, monkeypatch):
    base = tmp_path / "m"
    keras_gan.export_generator(toy_gan(seed=0), base)
    before = _tree(base / "1")
    real_rename = os.rename

    def rename(src, dst):
        name = os.path.basename(str(src))
        if name.startswith(".tmp-keras-gan-") and "-old-" not in name and str(dst) == str(base / "1"):
            raise OSError("rename failed (injected)")
        return real_rename(src, dst)

    monkeypatch.setattr(export_module.os, "rename", rename)
    with pytest.raises(OSError, match="injected"):
        keras_gan.export_generator(toy_gan(seed=1), base, version=1, overwrite=True)
    assert sorted(os.listdir(base)) == ["1"] and _tree(base / "1") == before


def test_unbuilt_or_wrong_objects_give_clear_errors(tmp_path):
    unbuilt = keras.Sequential([keras.layers.Dense(4)])
    with pytest.raises(ValueError, match=r"`gan_or_generator`: expected a built generator.*unbuilt model"):
        keras_gan.export_generator(unbuilt, tmp_path / "a")
    with pytest.raises(ValueError, match=r"`gan_or_generator`: expected a keras_gan.GAN or a generator keras.Model\. Received: gan_or_generator='g'"):
        keras_gan.export_generator("g", tmp_path / "a")
    with pytest.raises(ValueError, match="Received: gan_or_generator=.*Dense"):
        keras_gan.export_generator(keras.layers.Dense(3), tmp_path / "a")
    ins = [keras.Input((2,)) for _ in range(3)]
    three = keras.Model(ins, keras.layers.Concatenate()(ins))
    with pytest.raises(ValueError, match=r"one input \(z\) or two \(z, label\).*3 inputs"):
        keras_gan.export_generator(three, tmp_path / "a")
    g = keras_gan.networks.toy_generator(LATENT, 2, units=(4,))
    with pytest.raises(ValueError, match=r"`version`: expected a positive integer\. Received: version=0"):
        keras_gan.export_generator(g, tmp_path / "a", version=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"`base_path`: expected a directory"):
        keras_gan.export_generator(g, tmp_path / "file")
    assert not (tmp_path / "a").exists()


# ------------------------------------------------------------------------ CLI
def test_cli_export_writes_versions_from_a_checkpoint_and_refuses_to_overwrite(tmp_path, capsys):
    from keras_gan import cli

    gan = toy_gan(seed=0)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    gan.save(tmp_path / "model.keras")
    to = str(tmp_path / "saved_models" / "toy")
    assert cli.main(["export", "--checkpoint", str(tmp_path / "model.keras"), "--to", to]) == 0
    assert cli.main(["export", "--checkpoint", str(tmp_path / "model.keras"), "--to", to, "--version", "5"]) == 0
    assert export_module.versions(to) == [1, 5]
    assert "exported the generator to" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "--checkpoint", str(tmp_path / "model.keras"), "--to", to, "--version", "5"])
    assert exit_info.value.code == 2 and "already exists" in capsys.readouterr().err
    z = np.random.default_rng(8).normal(size=(2, LATENT)).astype("float32")
    out = tf.saved_model.load(os.path.join(to, "5")).signatures["serving_default"](z=tf.constant(z))
    np.testing.assert_allclose(out["images"].numpy(), gan.generator(z).numpy(), atol=ATOL)


def test_cli_train_exports_at_the_end_with_export_to(tmp_path):
    from keras_gan import cli

    to = tmp_path / "exported"
    assert cli.main(["train", "--dataset", "gaussian_1d", "--epochs", "1", "--batch-size", "1000",
                     "--latent-dim", "4", "--no-xla", "--verbose", "0", "--out", str(tmp_path / "run"),
                     "--export-to", str(to)]) == 0
    assert export_module.versions(to) == [1]
    trained = keras.models.load_model(tmp_path / "run" / "generator.keras")
    z = np.random.default_rng(9).normal(size=(3, 4)).astype("float32")
    out = tf.saved_model.load(str(to / "1")).signatures["serving_default"](z=tf.constant(z))
    np.testing.assert_allclose(out["images"].numpy(), trained(z).numpy(), atol=ATOL)


def test_every_exported_file_reaches_the_disk_before_the_rename(tmp_path, monkeypatch):
    base = tmp_path / "m"
    events = []
    real_rename = os.rename
    monkeypatch.setattr(export_module, "fsync_path", lambda path: events.append(("fsync", str(path))))
    monkeypatch.setattr(export_module.os, "rename",
                        lambda src, dst: (events.append(("rename", str(dst))), real_rename(src, dst)))
    keras_gan.export_generator(toy_gan(), base)
    renamed = events.index(("rename", str(base / "1")))
    synced = {os.path.basename(p) for kind, p in events[:renamed] if kind == "fsync"}
    # Every file of the published version (and its folders) was flushed before the rename ...
    assert set(os.path.basename(f) for f in _tree(base / "1")) <= synced
    assert {"variables", "assets"} & synced
    # ... and the parent folder, which records the rename, after it.
    assert ("fsync", str(base)) in events[renamed:]
