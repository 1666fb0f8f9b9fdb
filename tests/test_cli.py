"""The `keras-gan` command line: train, sample, help and bad flags."""

import csv
import glob
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_gan
from keras_gan import cli, losses


def run(*argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    return exit_info.value.code


def test_help_works_for_every_command(capsys):
    for argv in ([], ["train"], ["sample"], ["export"], ["serving-config"]):
        assert run(*argv, "--help") == 0
        assert "usage: keras-gan" in capsys.readouterr().out


def test_console_script_is_installed():
    result = subprocess.run(["keras-gan", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "train" in result.stdout


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "--epochs: expected a positive integer, received '0'"),
    (["train", "--d-steps", "x"], "--d-steps: expected a positive integer, received 'x'"),
    (["train", "--loss", "bogus"], "--loss: invalid choice: 'bogus'"),
    (["train", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["train", "--dataset", "folder"], "--dataset folder needs --image-folder PATH"),
    (["sample", "--model", "missing.keras"], "no such file or folder"),
    (["train", "--info-weight", "-1"], "--info-weight: expected a non-negative number, received '-1'"),
    (["train", "--categories", "8", "--conditional"], "--categories: expected an int >= 2 and no "
                                                      "--conditional; received --categories 8 with --conditional"),
    (["train", "--dataset", "ring_2d", "--categories", "1"], "--categories: expected an int >= 2"),
    (["train", "--task", "pix2pix", "--categories", "8"], "--categories is for --task gan; received --task pix2pix"),
    (["train", "--info-weight", "0.3"], "--info-weight: weights the InfoGAN term, so it needs --categories; "
                                        "received --info-weight 0.3 without --categories"),
    (["train", "--task", "cyclegan", "--info-weight", "0"], "--info-weight is for --task gan; received --task cyclegan"),
])
def test_bad_flags_exit_2_with_a_clear_message(argv, message, capsys):
    assert run(*argv) == 2
    assert message in capsys.readouterr().err


def test_loss_choices_match_the_library():
    assert set(cli._loss_names()) <= set(losses.names())
    assert {type(losses.get(n)) for n in losses.names()} == {type(losses.get(n)) for n in cli._loss_names()}


def test_train_writes_grids_logs_checkpoint_generator_and_tensorboard(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--epochs", "2", "--out", str(out), "--verbose", "0", "--no-xla",
                     "--tensorboard", "--d-steps", "2", "--seed", "1"])
    assert code == 0
    assert sorted(os.listdir(out / "samples")) == ["epoch_001.png", "epoch_002.png"]
    assert Image.open(out / "samples" / "epoch_002.png").size[0] > 100
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert len(rows) == 2 and set(rows[0]) == {"epoch", "d_loss", "g_loss", "d_real", "d_fake"}
    assert [r["epoch"] for r in rows] == ["1", "2"] and float(rows[1]["d_loss"]) > 0
    gan = keras_gan.GAN  # registered: the checkpoint loads as a GAN with both optimizers
    import keras

    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model, gan) and model.d_steps == 2
    assert int(model.d_optimizer.iterations) == 2 * int(model.g_optimizer.iterations) == 2 * 2 * 29
    generator = keras.models.load_model(out / "generator.keras")
    assert generator.output_shape == (None, 8, 8, 1)
    # TensorBoard: losses as scalars, the grid as an image.
    tags = set()
    for event_file in glob.glob(str(out / "tensorboard" / "**" / "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(event_file):
            tags.update(v.tag for v in event.summary.value)
    assert {"epoch_d_loss", "epoch_g_loss", "samples"} <= tags, tags


def test_sample_writes_a_grid_from_a_checkpoint_and_a_generator(tmp_path):
    gan = keras_gan.GAN(keras_gan.networks.dcgan_generator(8, (8, 8, 1), filters=4),
                        keras_gan.networks.dcgan_discriminator((8, 8, 1), filters=4))
    gan.compile("adam", "adam")
    gan.save(tmp_path / "model.keras")
    gan.generator.save(tmp_path / "generator.keras")
    for name in ("model.keras", "generator.keras"):
        out = tmp_path / f"{name}.png"
        assert cli.main(["sample", "--model", str(tmp_path / name), "--n", "9", "--out", str(out)]) == 0
        grid = np.asarray(Image.open(out))
        assert grid.shape == (3 * 33 + 1, 3 * 33 + 1)
    # A checkpoint and its generator draw the same samples for the same seed.
    a = np.asarray(Image.open(tmp_path / "model.keras.png"))
    b = np.asarray(Image.open(tmp_path / "generator.keras.png"))
    np.testing.assert_array_equal(a, b)


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "keras_gan", "sample", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--model" in result.stdout


@pytest.mark.parametrize("flags, shape, expected", [
    ([], (8, 8, 1), True),                            # the default MLP GAN (>100k weights): XLA faster
    (["--network", "dcgan"], (8, 8, 1), False),       # XLA slowed the DCGAN's convolutions on CPUs
    (["--network", "dcgan", "--xla"], (8, 8, 1), True),
    (["--no-xla"], (8, 8, 1), False),
    (["--dataset", "ring_2d"], (2,), False),          # toy MLPs: XLA gained nothing, cost 2-3 s compiling
    (["--xla", "--strategy", "mirrored"], (8, 8, 1), False),  # XLA fails under MirroredStrategy
])
def test_xla_default_depends_on_the_network_and_strategy(flags, shape, expected):
    from keras_gan.gan import GAN

    args = cli.build_parser().parse_args(["train"] + flags)
    jit_compile = cli.use_xla(args, shape)
    assert jit_compile == ("auto" if args.xla is None and args.strategy == "default" else bool(expected))
    # What the CLI's GAN.compile makes of it, on the networks the CLI builds.
    gan = GAN(*cli.build_networks(shape, args.latent_dim, args.network))
    gan.compile("adam", "adam", jit_compile=jit_compile)
    assert bool(gan.jit_compile) is expected


def test_xla_flags_are_exclusive(capsys):
    assert run("train", "--xla", "--no-xla") == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("shape, network, num_classes", [
    ((2,), "mlp", None), ((8, 8, 1), "mlp", None), ((8, 8, 1), "dcgan", None), ((8, 8, 1), "dcgan", 10),
])
def test_spectral_norm_wraps_every_d_layer_and_no_g_layer(shape, network, num_classes):
    import keras

    def layers_of(model):
        for layer in model.layers:
            yield from layers_of(layer) if isinstance(layer, keras.Model) else (layer,)

    g, d = cli.build_networks(shape, 4, network, num_classes, spectral_norm=True)
    d_layers = list(layers_of(d))
    assert any(isinstance(l, keras_gan.layers.SpectralNorm) for l in d_layers)
    # Every kernel of D is under the wrapper (the label embedding is not a kernel layer).
    assert not [l for l in d_layers if hasattr(l, "kernel") and not isinstance(l, keras_gan.layers.SpectralNorm)]
    assert not any(isinstance(l, keras_gan.layers.SpectralNorm) for l in layers_of(g))


def test_train_with_spectral_norm_checkpoints_a_spectral_norm_d(tmp_path, capsys):
    import keras

    out = tmp_path / "run"
    assert cli.main(["train", "--epochs", "1", "--out", str(out), "--verbose", "0", "--network", "dcgan",
                     "--spectral-norm"]) == 0
    model = keras.models.load_model(out / "model.keras")
    assert any(isinstance(l, keras_gan.layers.SpectralNorm) for l in model.discriminator.layers)
    # A rerun without the flag is another run: refused, not resumed into the wrong D.
    assert run("train", "--epochs", "2", "--out", str(out), "--verbose", "0", "--network", "dcgan") == 2
    assert "--spectral-norm True -> False" in capsys.readouterr().err


def test_train_with_categories_trains_an_infogan_code_and_resumes_only_with_the_same_code(tmp_path, capsys):
    out = tmp_path / "run"
    flags = ["train", "--dataset", "ring_2d", "--out", str(out), "--verbose", "0", "--categories", "8",
             "--info-weight", "0.3"]
    assert cli.main([*flags, "--epochs", "1"]) == 0
    model = keras_gan.load_gan(str(out / "model.keras"))
    assert model.code_categories == 8 and model.info_weight == 0.3
    assert model.code_classifier.output_shape == (None, 8)
    header = (out / "log.csv").read_text().splitlines()[0].split(",")
    assert "info_loss" in header
    # The exported generator takes plain z: the code is cut from it inside G.
    assert keras_gan.codes.generator_categories(model.inference_generator) == [8]
    before = (out / "model.keras").read_bytes()
    assert run(*flags[:-4], "--categories", "4", "--epochs", "2") == 2
    assert "--categories 8 -> 4, --info-weight 0.3 -> 1.0" in capsys.readouterr().err
    assert (out / "model.keras").read_bytes() == before
    assert cli.main([*flags, "--epochs", "2"]) == 0  # the same flags resume
    assert len((out / "log.csv").read_text().splitlines()) == 3


@pytest.mark.parametrize("network, q_layer", [("dcgan", "Conv2D"), ("mlp", "Dense")])
def test_train_with_categories_on_images_builds_q_like_d_and_logs_info_loss(tmp_path, network, q_layer):
    out = tmp_path / "run"
    assert cli.main(["train", "--out", str(out), "--verbose", "0", "--epochs", "1", "--network", network,
                     "--categories", "10", "--latent-dim", "16"]) == 0
    model = keras_gan.load_gan(str(out / "model.keras"))
    assert model.code_categories == 10 and model.code_classifier.output_shape == (None, 10)
    assert q_layer in {type(layer).__name__ for layer in model.code_classifier.layers}
    assert [tuple(w.shape) for w in model.code_classifier.weights[:-2]] == \
        [tuple(w.shape) for w in model.discriminator.weights[:-2]]
    assert "info_loss" in (out / "log.csv").read_text().splitlines()[0].split(",")
    assert os.path.exists(out / "samples" / "epoch_001.png")


def test_a_run_saved_before_spectral_norm_existed_still_resumes(tmp_path):
    import json

    from keras_gan import resume

    out = tmp_path / "run"

    def setup(*flags):
        args = cli.build_parser().parse_args(["train", "--dataset", "gaussian_1d", "--out", str(out), *flags])
        return cli._resume_setup(args, str(out), cli._load_data(args))

    _, _, config = setup()
    assert config["spectral_norm"] is False
    (out / "resume").mkdir(parents=True)
    (out / "resume" / "checkpoint-000001-000000.weights.h5").write_bytes(b"")
    old = {k: v for k, v in config.items() if k != "spectral_norm"}  # as saved before the flag
    (out / "resume" / resume.PROGRESS_FILE).write_text(json.dumps(
        {"epoch": 1, "batch": 0, "checkpoint": "checkpoint-000001-000000.weights.h5", "config": old}))
    assert setup()[2] == config  # matches: no error
    with pytest.raises(cli.UsageError, match="--spectral-norm False -> True"):
        setup("--spectral-norm")


@pytest.mark.parametrize("task_flags, precision, compute", [
    (["--dataset", "gaussian_1d", "--latent-dim", "4", "--batch-size", "1000"], "mixed_float16", "float16"),
    (["--task", "pix2pix", "--batch-size", "480"], "mixed_bfloat16", "bfloat16"),
])
def test_precision_trains_in_16_bits_is_saved_in_the_resume_config_and_exports_float32(
        tmp_path, capsys, task_flags, precision, compute):
    import keras

    from keras_gan import resume

    out, to = tmp_path / "run", tmp_path / "exported"
    argv = ["train", *task_flags, "--epochs", "1", "--no-xla", "--verbose", "0", "--out", str(out)]
    assert cli.main(argv + ["--precision", precision, "--export-to", str(to)]) == 0
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    assert resume.load_progress(str(out / "resume"))["config"]["precision"] == precision
    generator = keras.models.load_model(out / "generator.keras")
    assert compute in {layer.compute_dtype for layer in generator.layers if layer.weights}  # float32 at the output
    signature = tf.saved_model.load(str(to / "1")).signatures["serving_default"]
    assert {t.dtype for t in signature.structured_outputs.values()} == {tf.float32}
    assert {t.dtype for t in signature.structured_input_signature[1].values()} <= {tf.float32, tf.int32}
    # The run resumes only with the same precision.
    assert run(*argv, "--epochs", "2") == 2
    assert f"--precision '{precision}' -> 'float32'" in capsys.readouterr().err


def test_console_script_hides_tensorflows_start_up_lines_unless_the_user_sets_the_level(tmp_path):
    launcher = [sys.executable, "-c", "import sys, _keras_gan_cli; sys.exit(_keras_gan_cli.main())",
                "train", "--dataset", "gaussian_1d", "--epochs", "1", "--batch-size", "1000", "--no-xla",
                "--verbose", "0", "--out", str(tmp_path / "run")]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = root
    quiet = subprocess.run(launcher, env=env, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and "wrote" in quiet.stdout, quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    loud = subprocess.run(launcher + ["--overwrite"], env=dict(env, TF_CPP_MIN_LOG_LEVEL="0"),
                          capture_output=True, text=True, timeout=300)
    assert loud.returncode == 0
    if "I0000" not in loud.stderr and "absl" not in loud.stderr:
        pytest.skip("this TensorFlow build prints no start-up lines to hide")

def test_train_stylegan2_with_ada_upscales_digits_to_32_and_logs_p(tmp_path, capsys):
    out = tmp_path / "run"
    flags = ["train", "--out", str(out), "--verbose", "0", "--network", "stylegan2", "--latent-dim", "16",
             "--batch-size", "128"]
    assert cli.main([*flags, "--ada", "--epochs", "1"]) == 0
    model = keras_gan.load_gan(str(out / "model.keras"))
    assert isinstance(model.generator, keras_gan.networks.StyleGAN2Generator)
    assert model.generator.output_shape == (None, 32, 32, 1) and model.discriminator.input_shape == (None, 32, 32, 1)
    assert isinstance(model.augment, keras_gan.augment.Adaptive)
    assert [type(p).__name__ for p in model.penalties] == ["R1"] and model.penalties[0].interval == 16
    assert "augment_p" in (out / "log.csv").read_text().splitlines()[0].split(",")
    # Without --ada it is another run: refused, not resumed without the augmentation.
    assert run(*flags, "--epochs", "2") == 2
    assert "--ada True -> False" in capsys.readouterr().err
    assert run(*flags, "--conditional", "--epochs", "1", "--overwrite") == 2
    assert "--network stylegan2 takes no --conditional" in capsys.readouterr().err
