"""keras_gan.inference: loading an export with tf.saved_model.load alone.

Outputs are compared with the in-process generator at atol 1e-5.
"""

import ast
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import inference

LATENT = 6
SHAPE = (8, 8, 1)
ATOL = 1e-5


def image_generator(seed):
    keras.utils.set_random_seed(seed)
    return keras_gan.networks.dcgan_generator(latent_dim=LATENT, output_shape=SHAPE, filters=4)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A base directory with versions 1 and 2 of two different generators."""
    base = tmp_path_factory.mktemp("inference") / "digits"
    g1, g2 = image_generator(1), image_generator(2)
    keras_gan.export_generator(g1, base)
    keras_gan.export_generator(g2, base)
    return base, g1, g2


def test_base_directory_loads_the_latest_version(two_versions):
    base, g1, g2 = two_versions
    latest, first = keras_gan.load_generator(base), keras_gan.load_generator(base / "1")
    assert latest.version == 2 and latest.path == str(base / "2") and first.version == 1
    assert latest.latent_dim == LATENT and latest.sample_shape == SHAPE
    assert latest.num_classes is None and not latest.conditional
    z = np.random.default_rng(0).normal(size=(4, LATENT)).astype("float32")
    np.testing.assert_allclose(latest(z), g2(z).numpy(), atol=ATOL)
    np.testing.assert_allclose(first(z), g1(z).numpy(), atol=ATOL)
    assert np.abs(latest(z) - first(z)).max() > 1e-3


def test_from_seeds_is_deterministic_across_loads_and_differs_across_seeds(two_versions):
    base, _, g2 = two_versions
    a = keras_gan.load_generator(base).from_seeds([3, 4, 5])
    b = keras_gan.load_generator(base).from_seeds([5, 4, 3])
    np.testing.assert_array_equal(a, b[::-1])
    assert a.dtype == np.float32 and a.shape == (3,) + SHAPE
    for i in range(3):
        for j in range(i):
            assert np.abs(a[i] - a[j]).max() > 1e-3
    z3 = tf.random.stateless_normal((1, LATENT), seed=[3, 0])
    np.testing.assert_allclose(a[0], g2(z3).numpy()[0], atol=ATOL)


def test_png_from_seeds_decodes_to_the_uint8_scaled_images(two_versions):
    base, _, _ = two_versions
    g = keras_gan.load_generator(base)
    pngs = g.png_from_seeds([7, 8])
    assert all(p.startswith(b"\x89PNG") for p in pngs)
    decoded = np.stack([tf.io.decode_png(p).numpy() for p in pngs])
    expected = np.round((np.clip(g.from_seeds([7, 8]), -1, 1) + 1) * 127.5)
    assert np.abs(decoded.astype(int) - expected).max() <= 1


def test_conditional_export_needs_labels_in_range(tmp_path):
    nets = keras_gan.networks
    gan = keras_gan.GAN(nets.conditional_generator("toy", LATENT, (2,), 3, units=(8,)),
                        nets.conditional_discriminator("toy", (2,), 3, units=(8,)), num_classes=3)
    g = keras_gan.load_generator(keras_gan.export_generator(gan, tmp_path / "c"))
    assert g.conditional and g.num_classes == 3
    out = g.from_seeds([1, 1, 1], labels=[0, 1, 2])
    assert np.abs(out[0] - out[1]).max() > 1e-4
    z = np.random.default_rng(1).normal(size=(2, LATENT)).astype("float32")
    expected = gan.inference_generator([z, np.array([2, 2], "int32")]).numpy()
    np.testing.assert_allclose(g(z, labels=2), expected, atol=ATOL)
    with pytest.raises(ValueError, match=r"`labels`: this generator is class-conditional.*Received: labels=None"):
        g.from_seeds([1])
    with pytest.raises(ValueError, match=r"`labels`: expected integers in \[0, 3\)"):
        g.from_seeds([1], labels=[3])
    with pytest.raises(ValueError, match="no `images_png` signature"):
        g.png_from_seeds([1], labels=[0])


def test_bad_paths_and_inputs_give_clear_errors(two_versions, tmp_path):
    base, _, _ = two_versions
    with pytest.raises(FileNotFoundError, match=r"`path`.*does not exist"):
        keras_gan.load_generator(tmp_path / "nope")
    (tmp_path / "empty" / "notes").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"`path`.*integer version directories"):
        keras_gan.load_generator(tmp_path / "empty")
    g = keras_gan.load_generator(base)
    with pytest.raises(ValueError, match=rf"`z`: expected shape \(n, {LATENT}\). Received: z with shape \(2, 3\)"):
        g(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`labels`: this generator is unconditional"):
        g.from_seeds([1], labels=[0])
    with pytest.raises(ValueError, match=r"`seeds`: expected a list of integers"):
        g.from_seeds([0.5])


def test_inference_module_imports_only_stdlib_numpy_and_tensorflow():
    tree = ast.parse(open(inference.__file__).read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported == {"json", "os", "numpy", "tensorflow"}


_CLIENT = """
import importlib.util, json, sys
import numpy as np
spec = importlib.util.spec_from_file_location("inference", sys.argv[1])
inference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(inference)
g = inference.load_generator(sys.argv[2])
z = np.load(sys.argv[3])
np.save(sys.argv[4], g(z))
np.save(sys.argv[5], g.from_seeds([3, 4, 5]))
pngs = g.png_from_seeds([3])
print(json.dumps({"keras_gan_imported": any(m.split(".")[0] == "keras_gan" for m in sys.modules),
                  "latent_dim": g.latent_dim, "version": g.version, "png": pngs[0][:4].hex()}))
"""


def test_a_process_that_never_imports_keras_gan_loads_and_runs_the_export(two_versions, tmp_path):
    base, _, g2 = two_versions
    # A copy of the one file, outside the package, as a client would ship it.
    shutil.copy(inference.__file__, tmp_path / "inference.py")
    z = np.random.default_rng(2).normal(size=(3, LATENT)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    result = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(tmp_path / "inference.py"), str(base), str(tmp_path / "z.npy"),
         str(tmp_path / "images.npy"), str(tmp_path / "seeds.npy")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"keras_gan_imported": False, "latent_dim": LATENT, "version": 2, "png": "89504e47"}
    np.testing.assert_allclose(np.load(tmp_path / "images.npy"), g2(z).numpy(), atol=ATOL)
    in_process = keras_gan.load_generator(base).from_seeds([3, 4, 5])
    np.testing.assert_array_equal(np.load(tmp_path / "seeds.npy"), in_process)


def test_cli_sample_on_an_export_draws_the_same_grid_as_the_generator(two_versions, tmp_path):
    from keras_gan import cli, images

    base, _, g2 = two_versions
    assert cli.main(["sample", "--model", str(base), "--n", "4", "--seed", "3",
                     "--out", str(tmp_path / "export.png")]) == 0
    z = tf.random.stateless_normal((4, LATENT), seed=[3, 0])
    images.save_grid(g2(z).numpy(), str(tmp_path / "direct.png"))
    assert (tmp_path / "export.png").read_bytes() == (tmp_path / "direct.png").read_bytes()


SHIPPED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "saved_models", "digits")


def test_shipped_digits_model_loads_and_makes_varied_digit_images():
    g = keras_gan.load_generator(SHIPPED)
    assert g.version == 1 and g.latent_dim == 64 and g.sample_shape == (8, 8, 1)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(SHIPPED) for f in fs)
    assert size < 5 * 2**20  # "a few MB at most"
    images = g.from_seeds(range(32))
    assert images.min() >= -1.0 and images.max() <= 1.0
    # Digits: dark background, bright strokes, and not one image repeated.
    assert np.mean(images[:, :, 0, 0]) < -0.5 and images.max() > 0.5
    flat = images.reshape(32, -1)
    distances = np.linalg.norm(flat[:, None] - flat[None], axis=-1)[np.triu_indices(32, 1)]
    assert distances.min() > 1.0


def test_an_export_written_by_the_oldest_supported_tensorflow_generates_the_same_samples():
    data = os.path.join(os.path.dirname(__file__), "data", "export_tf2.18")
    saved = np.load(os.path.join(data, "outputs.npz"))
    assert str(saved["tensorflow"]).startswith("2.18.")
    exported = inference.load_generator(os.path.join(data, "generator"))
    assert (exported.latent_dim, exported.num_classes) == (6, None)
    np.testing.assert_allclose(exported(saved["z"]), saved["samples"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(exported.from_seeds(saved["seeds"]), saved["from_seeds"], rtol=0, atol=ATOL)
    assert len(exported.png_from_seeds(saved["seeds"])) == 3
