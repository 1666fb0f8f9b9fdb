"""Every `keras-gan` subcommand on every kind of model: it works, or it says why in one line.

The artefacts (run folders of `keras-gan train`, their exports, a foreign
`.keras` file and a foreign SavedModel) are built once for the module, with
`keras_gan.cli.main` in this process (the same files the command writes) or
the Python API where the CLI has no small enough setting. The cells run as
`keras-gan` command lines in subprocesses: many cells per
`tests/_cli_driver.py` process (TensorFlow's 3-5 s start-up paid twice, not
per cell), plus two through the installed `keras-gan` console script itself.

A cell either exits 0 and its output is checked (files written, PNGs that
decode at the expected size, exports with their signatures), or exits 2
with exactly one line on stderr, no traceback.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import keras

from keras_gan import cli
from keras_gan.data import images, plots

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The smallest runs: one epoch of one step (the batch holds the whole dataset), no XLA compile.
SMALL = ["--epochs", "1", "--verbose", "0", "--no-xla", "--batch-size", "4096"]
FOLDER_SIZE = 16
RUNS = {
    "mlp": ["--dataset", "digits", "--network", "mlp"],
    "dcgan": ["--dataset", "digits", "--network", "dcgan"],
    "conditional": ["--dataset", "digits", "--conditional"],
    "infogan": ["--dataset", "digits", "--categories", "3"],
    "ring_2d": ["--dataset", "ring_2d", "--tensorboard"],
    "gaussian_1d": ["--dataset", "gaussian_1d"],
    # The image-to-image runs train on a folder of 4 pairs (the digits demo's 1797 are too many).
    "pix2pix": ["--task", "pix2pix", "--dataset", "folder", "--image-size", f"{FOLDER_SIZE}x{FOLDER_SIZE}"],
    "cyclegan": ["--task", "cyclegan", "--dataset", "folder", "--image-size", f"{FOLDER_SIZE}x{FOLDER_SIZE}"],
}
IMAGE_GANS = ("mlp", "dcgan", "conditional", "infogan")
TOYS = ("ring_2d", "gaussian_1d")
FOLDER_TRANSLATORS = ("pix2pix", "cyclegan")
# A Pix2Pix on the digits demo's grey inputs, 8x8 (built with the Python API: tiny).
DIGITS_TRANSLATOR = "pix2pix_digits"
KINDS = tuple(RUNS) + (DIGITS_TRANSLATOR,)
# TensorFlow's C++ start-up logs (absl format), printed by every process that imports it.
_TF_LOG = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages before absl::InitializeLog)")


# ------------------------------------------------------------------ artefacts
def _pairs_folder(root):
    rng = np.random.default_rng(0)
    for domain in "AB":
        os.makedirs(os.path.join(root, domain))
        for i in range(4):
            pixels = rng.integers(0, 256, (FOLDER_SIZE, FOLDER_SIZE, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(root, domain, f"{i}.png"))
    return root


def _digits_translator(out):
    """A tiny Pix2Pix on the digits demo at 8x8, saved as `keras-gan train` saves one."""
    from keras_gan import data, networks
    from keras_gan.models.pix2pix import Pix2Pix
    from keras_gan.training.callbacks import save_atomic

    x, y = data.digits_translation_samples("edges", image_size=8)
    model = Pix2Pix(networks.unet_generator((8, 8, 1), 1, filters=4, depth=2),
                    networks.pix2pix_discriminator((8, 8, 1), (8, 8, 1), filters=4, n_layers=1), seed=0)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4), g_optimizer=keras.optimizers.Adam(2e-4))
    model.fit(x[:16], y[:16], batch_size=16, epochs=1, verbose=0)
    os.makedirs(out)
    save_atomic(model, os.path.join(out, "model.keras"))
    save_atomic(model.inference_generator, os.path.join(out, "generator.keras"))


def _quiet_main(argv):
    code = cli.main(argv)
    keras.backend.clear_session()
    assert code == 0, argv


@pytest.fixture(scope="module")
def art(tmp_path_factory):
    """Paths of every artefact, by name: `runs/KIND`, `served/KIND` (exports) and the foreign ones."""
    root = str(tmp_path_factory.mktemp("matrix"))
    paths = {"root": root, "pairs": _pairs_folder(os.path.join(root, "pairs"))}
    for kind, flags in RUNS.items():
        folder = ["--image-folder", paths["pairs"]] if kind in FOLDER_TRANSLATORS else []
        _quiet_main(["train", *flags, *folder, *SMALL, "--out", os.path.join(root, "runs", kind)])
    _digits_translator(os.path.join(root, "runs", DIGITS_TRANSLATOR))
    for kind in KINDS:
        _quiet_main(["export", "--checkpoint", os.path.join(root, "runs", kind, "model.keras"),
                     "--to", os.path.join(root, "served", kind)])
    foreign = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    paths["foreign"] = os.path.join(root, "foreign.keras")
    foreign.save(paths["foreign"])
    paths["foreign_export"] = os.path.join(root, "foreign_export")
    foreign.export(paths["foreign_export"], verbose=False)
    keras.backend.clear_session()
    return paths


def artefact(art, kind, what):
    """The path of `what` ("model", "generator", "export", "run") of `kind`."""
    if what == "export":
        return os.path.join(art["root"], "served", kind)
    if what == "run":
        return os.path.join(art["root"], "runs", kind)
    return os.path.join(art["root"], "runs", kind, f"{what}.keras")


# ---------------------------------------------------------------------- checks
def _png(path):
    with Image.open(path) as image:
        image.load()
        return image.size, image.mode, np.asarray(image)


def _grid_size(n, shape, cols=None):
    """(width, height) of `images.save_grid` for n images of `shape`."""
    h, w = images.make_grid(np.zeros((n, *shape), "float32"), cols=cols).shape[:2]
    return w, h


def _red_pixels(array):
    return int(np.sum(np.all(array[..., :3] == plots._TARGET, axis=-1)))


def check_grid(n, shape):
    def check(art, result, out):
        assert _png(out)[0] == _grid_size(n, shape)
    return check


def check_toy(with_target):
    def check(art, result, out):
        size, _, array = _png(out)
        assert size == (256, 256)
        assert (_red_pixels(array) > 0) == with_target  # the target drawn only where it is known
    return check


def check_translation(n, shape):
    def check(art, result, out):
        assert _png(out)[0] == _grid_size(2 * n, shape, cols=2)
        assert f"{n} rows of input | output" in result["stdout"]
    return check


def check_export(image_to_image, images_png=True):
    from tensorflow.core.protobuf import saved_model_pb2

    def check(art, result, out):
        version = os.path.join(out, "1")
        proto = saved_model_pb2.SavedModel()
        with open(os.path.join(version, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
        signatures = set(proto.meta_graphs[0].signature_def)
        expected = ({"serving_default", "translate_png"} if image_to_image else
                    {"serving_default", "generate_from_seeds"} | ({"images_png"} if images_png else set()))
        assert expected <= signatures
        assert version in result["stdout"]
    return check


def check_resumed(art, result, out):
    assert "resuming from" in result["stdout"]
    with open(os.path.join(out, "log.csv")) as f:
        assert [line.split(",")[0] for line in f.read().splitlines()[1:]] == ["1", "2"]
    assert _png(os.path.join(out, "samples", "epoch_002.png"))[0][0] > 0


def check_serving_config(art, result, out):
    for kind in KINDS:
        assert f'name: "{kind}"' in result["stdout"]


# ----------------------------------------------------------------------- cells
class Cell:
    """One command line: `argv(art, out)` and either `check` (exit 0) or `refusal` (exit 2)."""

    def __init__(self, command, name, argv, check=None, refusal=None):
        self.command, self.name, self.argv = command, name, argv
        self.check, self.refusal = check, refusal

    def __repr__(self):
        return f"{self.command}-{self.name}"


def _sample_cells():
    cells = []
    for kind in KINDS:
        for what in ("model", "generator", "export"):
            def argv(art, out, kind=kind, what=what, extra=()):
                return ["sample", "--model", artefact(art, kind, what), "--out", out, *extra]
            if kind in IMAGE_GANS:
                cells.append(Cell("sample", f"{kind}-{what}", argv, check_grid(64, (8, 8, 1))))
            elif kind in TOYS:
                # Over the target when the model sits in its run folder; alone from an export.
                cells.append(Cell("sample", f"{kind}-{what}", argv, check_toy(with_target=what != "export")))
            elif kind in FOLDER_TRANSLATORS:
                cells.append(Cell("sample", f"{kind}-{what}", argv, refusal="--input-folder"))
                cells.append(Cell(
                    "sample", f"{kind}-{what}-input-folder",
                    lambda art, out, argv=argv: argv(art, out, extra=("--input-folder", os.path.join(art["pairs"], "A"))),
                    check_translation(4, (FOLDER_SIZE, FOLDER_SIZE, 3))))
            else:  # the digits demo's inputs by default
                cells.append(Cell("sample", f"{kind}-{what}", argv, check_translation(8, (8, 8, 1))))
    cells += [
        Cell("sample", "foreign", lambda art, out: ["sample", "--model", art["foreign"], "--out", out],
             refusal="Sequential"),
        Cell("sample", "foreign-export", lambda art, out: ["sample", "--model", art["foreign_export"], "--out", out],
             refusal="--model"),
        Cell("sample", "mlp-model-input-folder",
             lambda art, out: ["sample", "--model", artefact(art, "mlp", "model"), "--out", out,
                               "--input-folder", os.path.join(art["pairs"], "A")], refusal="drop --input-folder"),
    ]
    return cells


def _export_cells():
    cells = []
    for kind in KINDS:
        for what in ("model", "generator"):
            cells.append(Cell(
                "export", f"{kind}-{what}",
                lambda art, out, kind=kind, what=what: ["export", "--checkpoint", artefact(art, kind, what),
                                                        "--to", out],
                check_export(kind in FOLDER_TRANSLATORS + (DIGITS_TRANSLATOR,), images_png=kind not in TOYS)))
        cells.append(Cell("export", f"{kind}-export",
                          lambda art, out, kind=kind: ["export", "--checkpoint", artefact(art, kind, "export"),
                                                       "--to", out], refusal="--checkpoint"))
    cells += [
        Cell("export", "foreign", lambda art, out: ["export", "--checkpoint", art["foreign"], "--to", out],
             refusal="Sequential"),
        # Onto an existing version: the CLI's flags, not Python's argument names.
        Cell("export", "existing-version",
             lambda art, out: ["export", "--checkpoint", artefact(art, "dcgan", "model"),
                               "--to", artefact(art, "dcgan", "export"), "--version", "1"],
             refusal="pass --overwrite to replace it, or omit --version"),
    ]
    return cells


def _serving_config_cells():
    cells = [Cell("serving-config", "exports", lambda art, out: ["serving-config", os.path.join(art["root"], "served")],
                  check_serving_config)]
    for kind in KINDS:
        for what in ("model", "generator", "export", "run"):
            cells.append(Cell("serving-config", f"{kind}-{what}",
                              lambda art, out, kind=kind, what=what: ["serving-config", artefact(art, kind, what)],
                              refusal="DIR"))
    cells.append(Cell("serving-config", "foreign", lambda art, out: ["serving-config", art["foreign"]], refusal="DIR"))
    return cells


def _train_cells():
    """Rerunning `keras-gan train` in a run folder (a copy) resumes it; other flags are refused."""
    cells = []
    for kind, flags in RUNS.items():
        def argv(art, out, kind=kind, flags=flags):
            shutil.copytree(artefact(art, kind, "run"), out)
            folder = ["--image-folder", art["pairs"]] if kind in FOLDER_TRANSLATORS else []
            return ["train", *flags, *folder, *SMALL, "--epochs", "2", "--out", out]
        cells.append(Cell("train", f"{kind}-resume", argv, check_resumed))

    def copy(art, out, kind):
        shutil.copytree(artefact(art, kind, "run"), out)
        return out

    cells += [
        # A Pix2Pix saved without a resume state (the Python API's) is never trained over.
        Cell("train", f"{DIGITS_TRANSLATOR}-resume",
             lambda art, out: ["train", "--task", "pix2pix", *SMALL, "--out", copy(art, out, DIGITS_TRANSLATOR)],
             refusal="--overwrite"),
        Cell("train", "ring_2d-other-flags",
             lambda art, out: ["train", *RUNS["ring_2d"], *SMALL, "--latent-dim", "3", "--out",
                               copy(art, out, "ring_2d")], refusal="--latent-dim"),
    ]
    return cells


CELLS = {"sample": _sample_cells(), "export": _export_cells(), "serving-config": _serving_config_cells(),
         "train": _train_cells()}


def _env():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


# The cells in two driver processes of about equal work, run side by side (two cores).
DRIVERS = (("export",), ("sample", "serving-config", "train"))


@pytest.fixture(scope="module")
def results(art):
    """Runs every cell, in the `DRIVERS` subprocesses."""
    outs, runs = {}, []
    for group in DRIVERS:
        cells, argvs = [c for command in group for c in CELLS[command]], []
        for i, cell in enumerate(cells):
            out = os.path.join(art["root"], "cells", cell.command, f"{i:03d}")
            out += ".png" if cell.command == "sample" else ""
            os.makedirs(os.path.dirname(out), exist_ok=True)
            outs[repr(cell)] = out
            argvs.append(cell.argv(art, out))
        name = "-".join(group)
        cells_path, results_path = (os.path.join(art["root"], f"{name}-{what}.json") for what in ("cells", "results"))
        with open(cells_path, "w") as f:
            json.dump(argvs, f)
        process = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "_cli_driver.py"), cells_path,
                                    results_path], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        runs.append((cells, process, results_path))
    found = {}
    for cells, process, results_path in runs:
        _, stderr = process.communicate(timeout=1200)
        assert process.returncode == 0, stderr
        with open(results_path) as f:
            for cell, result in zip(cells, json.load(f)):
                found[repr(cell)] = (result, outs[repr(cell)])
    return found


def _own_lines(stderr):
    return [line for line in stderr.splitlines() if line.strip() and not _TF_LOG.match(line)]


def assert_cell(cell, art, result, out):
    lines = _own_lines(result["stderr"])
    assert "Traceback" not in result["stderr"], result["stderr"]
    if cell.refusal is None:
        assert result["code"] == 0, result["stderr"]
        cell.check(art, result, out)
    else:
        assert result["code"] == 2, (result["code"], result["stderr"])
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"keras-gan {result['argv'][0]}: error: ")
        assert cell.refusal in lines[0], lines[0]
        assert "=True" not in lines[0] and "=None" not in lines[0]  # CLI flags, not Python arguments


@pytest.mark.parametrize("cell", [c for cells in CELLS.values() for c in cells], ids=repr)
def test_cell_works_or_refuses_in_one_line(cell, art, results):
    result, out = results[repr(cell)]
    assert_cell(cell, art, result, out)


@pytest.mark.parametrize("argv, refusal", [
    (lambda art, out: ["sample", "--model", artefact(art, "pix2pix", "model"), "--out", out], "--input-folder"),
    (lambda art, out: ["sample", "--model", artefact(art, DIGITS_TRANSLATOR, "export"), "--out", out], None),
], ids=["refused", "works"])
def test_the_console_script_behaves_as_the_cells(argv, refusal, art, tmp_path):
    out = str(tmp_path / "grid.png")
    args = argv(art, out)
    completed = subprocess.run(["keras-gan", *args], capture_output=True, text=True, env=_env(), timeout=300)
    result = {"argv": args, "code": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr}
    check = None if refusal else check_translation(8, (8, 8, 1))
    assert_cell(Cell(args[0], "console", argv, check, refusal), art, result, out)


# ------------------------------------------------------------- toy pictures
@pytest.mark.parametrize("kind", TOYS)
def test_toy_runs_draw_g_samples_from_fixed_noise_over_the_target(kind, art):
    import tensorflow as tf

    import keras_gan

    run = artefact(art, kind, "run")
    gan = keras_gan.load_gan(os.path.join(run, "model.keras"), compile=False)
    z = tf.random.stateless_normal((cli.TOY_PICTURE_SAMPLES, gan.latent_dim), seed=[0, 0])  # --seed 0
    expected = plots.toy_picture(gan.generate_from_noise(z), plots.toy_target(kind))
    np.testing.assert_array_equal(_png(os.path.join(run, "samples", "epoch_001.png"))[2], expected)


def test_toy_run_pictures_go_to_tensorboard(art):
    import tensorflow as tf

    folder = os.path.join(artefact(art, "ring_2d", "run"), "tensorboard")
    tags = set()
    for directory, _, names in os.walk(folder):
        for name in names:
            if "tfevents" in name:
                for event in tf.compat.v1.train.summary_iterator(os.path.join(directory, name)):
                    tags.update((v.tag, event.step) for v in event.summary.value)
    assert ("samples", 1) in tags


# ------------------------------------------------------------- the Python API
def _api_cases():
    import keras_gan
    from keras_gan import inference, saving

    return [
        # (loader, artefact, what the message says was found)
        (keras_gan.load_gan, ("mlp", "generator"), "found a Functional"),
        (keras_gan.load_gan, ("pix2pix", "model"), "found a keras_gan.Pix2Pix"),
        (keras_gan.load_gan, ("cyclegan", "model"), "found a keras_gan.CycleGAN"),
        (keras_gan.load_gan, ("mlp", "export"), "SavedModel directory"),
        (keras_gan.load_gan, "foreign", "found a Sequential"),
        (saving.load_model, ("mlp", "export"), "SavedModel directory"),
        (keras_gan.load_generator, ("mlp", "model"), "found a file (a .keras model"),
        (keras_gan.load_generator, "foreign_export", "not written by keras_gan"),
        (inference.ExportedGenerator, ("pix2pix", "export"), "found an image-to-image generator"),
        (inference.ExportedImageToImage, ("dcgan", "export"), "found a generator from noise"),
        (inference.ExportedImageToImage, "foreign_export", "not written by keras_gan"),
    ]


@pytest.mark.parametrize("case", range(len(_api_cases())))
def test_api_loaders_refuse_a_wrong_kind_in_one_line(case, art):
    load, which, found = _api_cases()[case]
    path = art[which] if isinstance(which, str) else artefact(art, *which)
    with pytest.raises(ValueError) as error:
        load(path)
    message = str(error.value)
    assert len(message.splitlines()) == 1, message
    assert "expected" in message and found in message, message
