"""The `keras-gan` command line: `train`, `sample`, `export` and `serving-config`.

Nothing in the package imports this module; it imports the rest.
"""

import argparse
import os
import sys

EXIT_USAGE = 2

IMAGE_DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")
TOY_DATASETS = ("gaussian_1d", "ring_2d", "grid_2d")
# Datasets that yield (x, y) with y in [0, 10): usable with --conditional.
LABELLED_DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")


class UsageError(Exception):
    """A flag value that parsed but makes no sense; exits with code 2."""


class _Parser(argparse.ArgumentParser):
    """Reports a usage error in one line (exit code 2), not after the whole usage text."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, received {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, received {text!r}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, received {text!r}")
    return value


def _image_size(text):
    try:
        h, w = (int(v) for v in text.lower().split("x"))
        assert h > 0 and w > 0
    except (ValueError, AssertionError):
        raise argparse.ArgumentTypeError(f"expected HxW such as 64x64, received {text!r}") from None
    return h, w


def _loss_names():
    # Kept in sync with keras_gan.losses without importing TensorFlow for --help.
    return ["minimax", "non_saturating", "least_squares", "hinge", "wasserstein", "relativistic_average"]


def _add_train(sub):
    p = sub.add_parser(
        "train",
        help="train a GAN (default: the MLP GAN on scikit-learn's 8x8 digits, about 5 minutes on 2 CPU cores)",
        description=(
            "Train a GAN with Keras's fit(). Writes under --out: samples/epoch_NNN.png (a grid from "
            "the same fixed noise each epoch), log.csv, model.keras (the whole GAN, both optimizers; "
            "written atomically each epoch), generator.keras, and tensorboard/ with --tensorboard."
        ),
    )
    p.add_argument("--dataset", default="digits", choices=IMAGE_DATASETS + TOY_DATASETS + ("folder",),
                   help="training data (default: digits, bundled with scikit-learn, works offline); "
                        "'folder' reads --image-folder")
    p.add_argument("--image-folder", help="folder of images for --dataset folder")
    p.add_argument("--task", default="gan", choices=("gan", "pix2pix", "cyclegan"),
                   help="gan: a GAN from noise (default); pix2pix: paired image-to-image translation; "
                        "cyclegan: unpaired. pix2pix and cyclegan train on --dataset digits (the offline "
                        "demo chosen by --translation) or folder (--image-folder with A/ and B/ inside, "
                        "same file names in both for pix2pix), with each model's own loss "
                        "(pix2pix: non-saturating, cyclegan: least squares, D loss halved), 20 epochs "
                        "unless --epochs; they write samples/epoch_NNN.png grids of input | output | target")
    p.add_argument("--translation", default="edges", choices=("edges", "colorize"),
                   help="the digits demo of --task pix2pix|cyclegan, 32x32: edges (a digit to its edge "
                        "map) or colorize (a grey digit to the digit in a random colour) (default: edges)")
    p.add_argument("--norm", default=None, choices=("batch", "instance", "none"),
                   help="normalisation in the networks of --task pix2pix|cyclegan (default: batch for "
                        "pix2pix, instance for cyclegan, as in the papers)")
    p.add_argument("--image-size", type=_image_size, default=(32, 32),
                   help="HxW for --dataset folder (default: 32x32)")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help="epochs (default: 300 for digits, 20 otherwise)")
    p.add_argument("--batch-size", type=_positive_int, default=64, help="batch size (default: 64)")
    p.add_argument("--loss", default="non_saturating", choices=_loss_names(),
                   help="adversarial loss (default: non_saturating)")
    p.add_argument("--d-steps", type=_positive_int, default=1,
                   help="D updates per batch, each on its own slice of the batch (default: 1)")
    p.add_argument("--g-steps", type=_positive_int, default=1, help="G updates per batch (default: 1)")
    p.add_argument("--latent-dim", type=_positive_int, default=64, help="size of z (default: 64)")
    p.add_argument("--network", default="mlp", choices=("mlp", "dcgan"),
                   help="networks for image data: the MLP GAN (G 128-256-512-1024, D 512-256-1) or "
                        "a DCGAN (default: mlp)")
    p.add_argument("--learning-rate", type=_positive_float, default=2e-4,
                   help="Adam learning rate (beta_1=0.5) of both D and G (default: 2e-4)")
    p.add_argument("--conditional", action="store_true",
                   help="class-conditional GAN trained on (image, label): G and D both see the label "
                        f"(labelled datasets: {', '.join(LABELLED_DATASETS)}); sample grids cycle "
                        "through the classes")
    p.add_argument("--categories", type=_positive_int, default=None,
                   help="an InfoGAN categorical code of this many categories, with a Q built like D: "
                        "for toy data the number of modes (e.g. 8 for ring_2d), so G can jump between "
                        "modes instead of leaving samples between them; for images e.g. 10 for digits "
                        "(keras_gan.codes; default: none)")
    p.add_argument("--info-weight", type=_non_negative_float, default=None,
                   help="weight of the InfoGAN term with --categories (default: 1.0, InfoGAN's; the "
                        "ring benchmark's recipe uses 0.3)")
    p.add_argument("--spectral-norm", action="store_true",
                   help="spectral normalization on every layer of D (keras_gan.layers.SpectralNorm; "
                        "both Ds of --task cyclegan)")
    p.add_argument("--ema-decay", type=float, default=0.995,
                   help="keep an EMA copy of G with this decay for samples and export; 0 disables "
                        "(default: 0.995)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--out", default=None, help="output folder (default: runs/<dataset>)")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard logs (losses, sample grids) to OUT/tensorboard")
    xla = p.add_mutually_exclusive_group()
    xla.add_argument("--xla", dest="xla", action="store_true", default=None,
                     help="compile the train step with XLA (default: GAN.compile's jit_compile='auto', "
                          "on for float32 dense networks of 100k+ weights on one CPU device, where it "
                          "was measured faster; off for toy nets and convolutions)")
    xla.add_argument("--no-xla", dest="xla", action="store_false",
                     help="do not use XLA (always off under --strategy, where it fails)")
    p.add_argument("--strategy", default="default", choices=("default", "mirrored", "multiworker"),
                   help="tf.distribute strategy: default (one device), mirrored (all local GPUs), "
                        "multiworker (one process per machine; reads TF_CONFIG). XLA is off under "
                        "mirrored and multiworker (default: default)")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="Keras progress output: 0 silent, 1 progress bar (default), 2 one line per epoch")
    p.add_argument("--export-to", metavar="DIR", default=None,
                   help="at the end of training, export the generator for TF Serving to DIR/<next version>/")
    p.add_argument("--save-every", type=_positive_int, default=None, metavar="N",
                   help="also save the resume state every N steps (default: at epoch ends only). "
                        "Rerunning the same command continues from the last saved point")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in --out, discarding its resume state (default: resume)")
    p.set_defaults(func=cmd_train)


def _add_sample(sub):
    p = sub.add_parser(
        "sample",
        help="write a PNG grid of samples from a trained model",
        description="Generate samples from a .keras GAN checkpoint or generator and write a PNG grid.",
    )
    p.add_argument("--model", required=True,
                   help="a model.keras (GAN) or generator.keras from `keras-gan train`, or an exported "
                        "SavedModel directory (saved_models/NAME: its latest version, or NAME/VERSION)")
    p.add_argument("--n", type=_positive_int, default=64, help="number of samples (default: 64)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: 0)")
    p.add_argument("--out", default="grid.png", help="output PNG (default: grid.png)")
    p.set_defaults(func=cmd_sample)


def _add_export(sub):
    p = sub.add_parser(
        "export",
        help="export a trained generator as a TF Serving SavedModel",
        description=(
            "Export the generator of a GAN checkpoint (its EMA copy when it keeps one) to "
            "TO/<version>/ for TensorFlow Serving. The version directory appears complete or not at all."
        ),
    )
    p.add_argument("--checkpoint", required=True, help="a model.keras (GAN) or generator.keras from `keras-gan train`")
    p.add_argument("--to", required=True, help="the model's base directory, e.g. saved_models/digits")
    p.add_argument("--version", type=_positive_int, default=None,
                   help="version number (default: the next after the highest present)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version")
    p.set_defaults(func=cmd_export)


def _add_serving_config(sub):
    p = sub.add_parser(
        "serving-config",
        help="print a TF Serving model config file serving every export in a directory",
        description="Print a TF Serving --model_config_file for every NAME/<version>/ export under DIR.",
    )
    p.add_argument("directory", metavar="DIR", help="a directory of exports, e.g. saved_models/")
    p.add_argument("--base-path", default=None,
                   help="DIR as the server sees it, e.g. /models inside the tensorflow/serving "
                        "container (default: DIR's absolute path)")
    p.set_defaults(func=cmd_serving_config)


def build_parser():
    """The `keras-gan` argument parser."""
    parser = _Parser(
        prog="keras-gan",
        description="Train GANs with Keras 3 and ship the generator. Run `keras-gan COMMAND --help`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train(sub)
    _add_sample(sub)
    _add_export(sub)
    _add_serving_config(sub)
    return parser


# --------------------------------------------------------------------- train
def _load_data(args):
    from keras_gan import data

    # The flags were checked by _check_gan_flags.
    if args.dataset == "folder":
        return data.image_folder(args.image_folder, args.image_size, batch_size=args.batch_size, seed=args.seed)
    return data.DATASETS[args.dataset](batch_size=args.batch_size, seed=args.seed)


def _sample_shape(dataset):
    spec = dataset.element_spec
    spec = spec[0] if isinstance(spec, tuple) else spec
    return tuple(spec.shape[1:])


def _reference_kind(sample_shape, network):
    """The reference networks' kind for samples of `sample_shape`, and the widths G, D and Q share."""
    if len(sample_shape) == 1:
        return "toy", {"units": (128, 128)}
    if network == "mlp":
        return "mlp", {}
    return "dcgan", {"filters": 32 if sample_shape[0] <= 16 else 64}


def build_networks(sample_shape, latent_dim, network="dcgan", num_classes=None, spectral_norm=False,
                   categories=None):
    """Reference G and D for samples of `sample_shape` (images or toy vectors).

    With `num_classes`, class-conditional ones: G takes [z, label], D [x, label].
    `spectral_norm` wraps every layer of D in `keras_gan.layers.SpectralNorm`.
    `categories`: G starts from an InfoGAN categorical code (its Q:
    `build_code_classifier`).
    """
    from keras_gan import networks

    kind, widths = _reference_kind(sample_shape, network)
    if num_classes:
        return (networks.conditional_generator(kind, latent_dim, sample_shape, num_classes, **widths),
                networks.conditional_discriminator(kind, sample_shape, num_classes, spectral_norm=spectral_norm,
                                                   **widths))
    return (networks._build_generator(kind, latent_dim, sample_shape, categories=categories, **widths),
            networks._build_discriminator(kind, sample_shape, spectral_norm=spectral_norm, **widths))


def build_code_classifier(sample_shape, network, categories):
    """InfoGAN's Q for `build_networks(..., categories=categories)`: D's body, as wide, its own weights."""
    from keras_gan import networks

    kind, widths = _reference_kind(sample_shape, network)
    return networks.code_classifier(kind, sample_shape, categories, **widths)


def use_xla(args, sample_shape):
    """`jit_compile` for `keras-gan train`: True/False from --xla/--no-xla, else "auto".

    "auto" defers to `GAN.compile`, which turns XLA on only where it was
    measured faster (large dense networks on CPU), not for toy nets (nothing
    gained, 2-3 s of compiling per fit) nor convolutions. `sample_shape` is
    unused; kept for callers.
    """
    if args.strategy != "default":
        return False  # forcing XLA under MirroredStrategy fails (KERAS3_GAN_NOTES: "XLA")
    if args.xla is not None:
        return args.xla
    return "auto"


def _check_gan_flags(args):
    """Checks the flags of `--task gan` without TensorFlow; returns `num_classes` (None or 10)."""
    if args.dataset == "folder" and not args.image_folder:
        raise UsageError("--dataset folder needs --image-folder PATH")
    if args.image_folder and args.dataset != "folder":
        raise UsageError("--image-folder is only used with --dataset folder")
    num_classes = None
    if args.conditional:
        if args.dataset not in LABELLED_DATASETS:
            raise UsageError(
                f"--conditional needs labelled data ({', '.join(LABELLED_DATASETS)}); "
                f"received --dataset {args.dataset}"
            )
        num_classes = 10
    if not 0.0 <= args.ema_decay < 1.0:
        raise UsageError(f"--ema-decay: expected a number in [0, 1), received {args.ema_decay}")
    if args.categories is not None and (num_classes or args.categories < 2):
        raise UsageError(
            f"--categories: expected an int >= 2 and no --conditional; received --categories "
            f"{args.categories}" + (" with --conditional" if num_classes else "")
        )
    if args.info_weight is not None and args.categories is None:
        raise UsageError(f"--info-weight: weights the InfoGAN term, so it needs --categories; received "
                         f"--info-weight {args.info_weight} without --categories")
    if args.info_weight is None:
        args.info_weight = 1.0  # also what the resume config of a run without a code holds
    return num_classes


def cmd_train(args):
    import keras

    from keras_gan.training import callbacks as gan_callbacks
    from keras_gan.training import resume
    from keras_gan.training.distribute import is_chief, strategy_from_name
    from keras_gan.models.gan import GAN

    if args.task != "gan":
        return _train_image_to_image(args)
    num_classes = _check_gan_flags(args)
    # First, before any TensorFlow op (seeding, data): MultiWorkerMirroredStrategy
    # configures collective ops, which TensorFlow accepts only at program startup.
    strategy = strategy_from_name(args.strategy)
    keras.utils.set_random_seed(args.seed)
    out = args.out or os.path.join("runs", args.dataset)
    dataset = _load_data(args)
    shape = _sample_shape(dataset)
    epochs = args.epochs or (300 if args.dataset == "digits" else 20)
    # Networks, GAN and optimizers are built in the strategy's scope; then plain fit.
    with strategy.scope():
        generator, discriminator = build_networks(shape, args.latent_dim, args.network, num_classes,
                                                  spectral_norm=args.spectral_norm, categories=args.categories)
        code_classifier = build_code_classifier(shape, args.network, args.categories) if args.categories else None
        gan = GAN(generator, discriminator, seed=args.seed, ema_decay=args.ema_decay or None,
                  num_classes=num_classes, code_classifier=code_classifier, info_weight=args.info_weight)
        gan.compile(
            d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5),
            loss=args.loss, d_steps=args.d_steps, g_steps=args.g_steps,
            jit_compile=use_xla(args, shape),
        )
    tb_dir = os.path.join(out, "tensorboard") if args.tensorboard else None
    directory, data, config = _resume_setup(args, out, dataset)
    callbacks = [
        gan_callbacks.TerminateOnNonFinite(),
        gan_callbacks.SampleGrid(os.path.join(out, "samples"), seed=args.seed, tensorboard_dir=tb_dir),
        gan_callbacks.AtomicCheckpoint(os.path.join(out, "model.keras")),
    ]
    if is_chief():
        os.makedirs(out, exist_ok=True)
        callbacks.append(gan_callbacks.CSVLog(os.path.join(out, "log.csv"), append=not args.overwrite))
    if tb_dir and is_chief():  # Keras' own callbacks have no chief logic
        callbacks.append(keras.callbacks.TensorBoard(tb_dir, write_graph=False))
    resume.fit(gan, data, epochs, directory, save_every=args.save_every, callbacks=callbacks,
               config=config, verbose=args.verbose)
    if is_chief():
        gan_callbacks.save_atomic(gan.inference_generator, os.path.join(out, "generator.keras"))
        _report_toy(gan, args.dataset)
        print(f"keras-gan: wrote {out}/ (model.keras, generator.keras, log.csv, samples/)")
        if args.export_to:
            from keras_gan.deploy.export import export_generator

            print(f"keras-gan: exported the generator to {export_generator(gan, args.export_to)}")
    return 0


# Flags that must match for a rerun to continue a run (--epochs may grow), per --task.
_RUN_FLAGS = ("task", "dataset", "image_folder", "image_size", "batch_size", "loss", "d_steps", "g_steps",
              "latent_dim", "network", "learning_rate", "conditional", "ema_decay", "seed", "strategy",
              "spectral_norm", "categories", "info_weight")
_IMAGE_TO_IMAGE_RUN_FLAGS = ("task", "dataset", "translation", "image_folder", "image_size", "batch_size",
                             "learning_rate", "norm", "seed", "spectral_norm")
# Flags added to _RUN_FLAGS later, with the value a run saved before them had.
_LATER_FLAGS = {"spectral_norm": False, "task": "gan", "categories": None, "info_weight": 1.0}


def _check_resume_config(args, out, flags):
    """`(directory, config, progress)`: the resume folder of `out`, this run's settings, and
    the saved state's progress record (None when there is none, or with --overwrite).

    A saved state started with other settings is refused (exit code 2),
    naming the flags; --overwrite deletes it instead.
    """
    import shutil

    from keras_gan.training import resume

    directory = os.path.join(out, "resume")
    config = _json_safe({k: getattr(args, k) for k in flags if hasattr(args, k)})
    if args.overwrite:
        shutil.rmtree(directory, ignore_errors=True)
        return directory, config, None
    progress = resume.load_progress(directory)
    later = {k: v for k, v in _LATER_FLAGS.items() if k in flags}  # this task's flags only
    old = None if progress is None else {**later, **(progress.get("config") or {})}
    if old is not None and old != config:
        changed = sorted(k for k in set(config) | set(old) if old.get(k) != config.get(k))
        flags = ", ".join(f"--{k.replace('_', '-')} {old.get(k)!r} -> {config.get(k)!r}" for k in changed)
        raise UsageError(
            f"{out} holds a run started with other settings ({flags or 'unknown'}): rerun the "
            "same command to resume it, or pass --overwrite (or another --out) to start afresh"
        )
    return directory, config, progress


def _resume_setup(args, out, dataset):
    """`(directory, data, config)` of the resume state of `keras-gan train`.

    The data is held in memory as `SeededEpochs` (each epoch's order fixed
    by --seed), so a rerun resumes exactly, mid-epoch included, under every
    --strategy: the order is the same in every process, and `fit` splits
    each global batch across the replicas the same way each time. Only the
    chief writes the state: under multiworker, every worker resumes from it
    only if every worker reads the chief's --out (shared storage).
    """
    from keras_gan.training import resume

    directory, config, _ = _check_resume_config(args, out, _RUN_FLAGS)
    x, *y = _in_memory(dataset)
    return directory, resume.SeededEpochs(x, *y, batch_size=args.batch_size, seed=args.seed), config


def _in_memory(dataset):
    """A finite dataset's batches concatenated: one numpy array per component (`x`, or `x, y`)."""
    import numpy as np

    batches = list(dataset.as_numpy_iterator())
    if not isinstance(batches[0], tuple):
        return [np.concatenate(batches)]
    return [np.concatenate(parts) for parts in zip(*batches)]


def _json_safe(config):
    """`config` with tuples as lists (as JSON reads them back), for comparisons."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def _image_to_image_data(args, paired):
    """`(a, b, name)`: the two domains of --task pix2pix|cyclegan as arrays, and the run's name.

    Held in memory (as `keras-gan train` holds its data), so that
    `resume.SeededEpochs` fixes each epoch's order and a rerun resumes
    exactly. Unpaired folders keep all of each domain (A/ and B/ may differ
    in size).
    """
    from keras_gan import data

    if args.dataset == "folder":
        if not args.image_folder:
            raise UsageError("--dataset folder needs --image-folder PATH (holding A/ and B/)")
        # image_folder_pairs checks the folders and, when paired, the file names.
        pairs = data.image_folder_pairs(args.image_folder, args.image_size, 256, paired=paired, shuffle=False)
        if paired:
            a, b = _in_memory(pairs)
        else:
            (a,), (b,) = (_in_memory(data.image_folder(os.path.join(args.image_folder, d), args.image_size, 256,
                                                       shuffle=False)) for d in ("A", "B"))
        return a, b, os.path.basename(os.path.normpath(args.image_folder))
    if args.dataset == "digits":
        make = data.paired_digits if paired else data.unpaired_digits
        a, b = _in_memory(make(args.translation, 32, batch_size=256, shuffle=False, seed=args.seed))
        return a, b, f"digits_{args.translation}"
    raise UsageError(f"--task {args.task} trains on --dataset digits or folder; received --dataset {args.dataset}")


def _train_image_to_image(args):
    """`keras-gan train --task pix2pix|cyclegan`: the digits demo, or A/ and B/ image folders.

    Resumable as `--task gan` is: a rerun of the same command continues from
    the last saved state (epoch ends, and every --save-every steps).
    """
    import keras

    from keras_gan.training import callbacks as gan_callbacks
    from keras_gan import networks
    from keras_gan.training import resume
    from keras_gan.models.cyclegan import CycleGAN
    from keras_gan.models.image_to_image import save_translation_grid
    from keras_gan.pix2pix import Pix2Pix
    from keras_gan.training.distribute import is_chief, strategy_from_name

    for flag, value in (("--conditional", args.conditional), ("--categories", args.categories),
                        ("--info-weight", args.info_weight is not None)):
        if value:
            raise UsageError(f"{flag} is for --task gan; received --task {args.task}")
    if args.dataset not in ("digits", "folder"):
        raise UsageError(f"--task {args.task} trains on --dataset digits or folder; received --dataset {args.dataset}")
    if args.dataset == "folder" and not args.image_folder:
        raise UsageError("--dataset folder needs --image-folder PATH (holding A/ and B/)")
    # First, before any TensorFlow op: see cmd_train.
    strategy = strategy_from_name(args.strategy)
    paired = args.task == "pix2pix"
    keras.utils.set_random_seed(args.seed)
    a, b, name = _image_to_image_data(args, paired)
    out = args.out or os.path.join("runs", f"{args.task}_{name}")
    directory, config, progress = _check_resume_config(args, out, _IMAGE_TO_IMAGE_RUN_FLAGS)
    if os.path.exists(os.path.join(out, "model.keras")) and not args.overwrite and progress is None:
        # A run saved before these tasks resumed: never train over its checkpoint.
        raise UsageError(f"{out} already holds a --task {args.task} run (model.keras) without a resume "
                         "state: pass --overwrite (or another --out) to start afresh")
    epochs = args.epochs or 20
    shape_a, shape_b = a.shape[1:], b.shape[1:]
    filters = 16 if max(shape_a[:2]) <= 32 else 32
    depth = min(4, (min(shape_a[:2]) & -min(shape_a[:2])).bit_length() - 1)  # levels that divide H and W

    norm = args.norm or ("batch" if paired else "instance")

    def unet(a, b, label):
        return networks.unet_generator(a, b[-1], filters=filters, depth=depth, norm=norm, name=f"generator_{label}")

    n_layers = min(3, depth)
    # Networks, model and optimizers are built in the strategy's scope; then plain fit.
    with strategy.scope():
        if paired:
            model = Pix2Pix(unet(shape_a, shape_b, "ab"),
                            networks.pix2pix_discriminator(shape_a, shape_b, filters=filters, n_layers=n_layers,
                                                           norm=norm, spectral_norm=args.spectral_norm),
                            seed=args.seed)
        else:
            model = CycleGAN(
                unet(shape_a, shape_b, "ab"), unet(shape_b, shape_a, "ba"),
                networks.patchgan_discriminator(shape_a, filters=filters, n_layers=n_layers, norm=norm,
                                                spectral_norm=args.spectral_norm, name="discriminator_a"),
                networks.patchgan_discriminator(shape_b, filters=filters, n_layers=n_layers, norm=norm,
                                                spectral_norm=args.spectral_norm, name="discriminator_b"),
                identity_weight=None if shape_a == shape_b else 0.0, seed=args.seed,
            )
        model.compile(d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5),
                      g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5),
                      jit_compile=use_xla(args, None) is True)
    inputs = a[:8]
    targets = b[:8] if paired else None  # unpaired: B images are not the inputs' targets

    def grid(epoch, logs=None):
        save_translation_grid(inputs, model.translate(inputs), targets,
                              os.path.join(out, "samples", f"epoch_{epoch + 1:03d}.png"))

    callbacks = [gan_callbacks.TerminateOnNonFinite(),
                 gan_callbacks.AtomicCheckpoint(os.path.join(out, "model.keras"))]
    if is_chief():  # only the chief writes (AtomicCheckpoint asks is_chief itself)
        os.makedirs(out, exist_ok=True)
        callbacks += [keras.callbacks.LambdaCallback(on_epoch_end=grid),
                      gan_callbacks.CSVLog(os.path.join(out, "log.csv"), append=not args.overwrite)]
    data = resume.SeededEpochs(a, b, batch_size=args.batch_size, seed=args.seed, paired=paired)
    resume.fit(model, data, epochs, directory, save_every=args.save_every, callbacks=callbacks,
               config=config, verbose=args.verbose)
    if is_chief():
        gan_callbacks.save_atomic(model.inference_generator, os.path.join(out, "generator.keras"))
        print(f"keras-gan: wrote {out}/ (model.keras, generator.keras, log.csv, samples/ of input | output"
              f"{' | target' if paired else ''})")
        if args.export_to:
            from keras_gan.deploy.export import export_image_to_image

            print(f"keras-gan: exported the generator to {export_image_to_image(model, args.export_to)}")
    return 0


def _report_toy(gan, dataset):
    if dataset != "gaussian_1d":
        return
    s = gan.generate(10000, seed=0)
    print(f"keras-gan: generated mean {s.mean():.3f}, std {s.std():.3f} (target 4.000, 1.250)")


# -------------------------------------------------------------------- sample
def _load_sampler(path):
    """Returns `generate(n, seed)` for a .keras GAN or generator."""
    import keras
    import tensorflow as tf

    if not os.path.exists(path):
        raise UsageError(f"--model: no such file or folder: {path!r}")
    if os.path.isdir(path):
        return _export_sampler(path)
    if not path.endswith(".keras"):
        raise UsageError(f"--model: expected a .keras file from `keras-gan train`, received {path!r}")
    from keras_gan.training.saving import load_model

    try:
        model = load_model(path, compile=False)
    except ValueError as e:
        raise UsageError(f"--model: {e}") from None
    if hasattr(model, "generate"):
        return model.generate
    latent_dim = model.input_shape[-1]

    def generate(n, seed):
        z = tf.random.stateless_normal((n, latent_dim), seed=[seed, 0])
        return keras.ops.convert_to_numpy(model(z, training=False))

    return generate


def _export_sampler(path):
    """`generate(n, seed)` for an exported SavedModel: the same noise as a .keras GAN's."""
    import numpy as np
    import tensorflow as tf

    from keras_gan.deploy.inference import load_generator

    try:
        g = load_generator(path)
    except (FileNotFoundError, ValueError) as e:
        raise UsageError(f"--model: {e}") from None

    def generate(n, seed):
        z = tf.random.stateless_normal((n, g.latent_dim), seed=[seed, 0]).numpy()
        # Classes cycle as in GAN.generate (all 0 when the export does not know them).
        labels = np.arange(n) % (g.num_classes or 1) if g.conditional else None
        return g(z, labels=labels)

    return generate


def cmd_export(args):
    from keras_gan.deploy.export import export_generator, export_image_to_image

    if not os.path.isfile(args.checkpoint):
        raise UsageError(f"--checkpoint: no such file: {args.checkpoint!r}")
    from keras_gan.training.saving import load_model

    try:
        model = load_model(args.checkpoint, compile=False)
    except ValueError as e:
        raise UsageError(f"--checkpoint: {e}") from None
    # A Pix2Pix/CycleGAN, or its generator (one image input), exports image to image.
    export = export_image_to_image if _is_image_to_image(model) else export_generator
    try:
        path = export(model, args.to, version=args.version, overwrite=args.overwrite)
    except FileExistsError as e:
        raise UsageError(str(e)) from None
    print(f"keras-gan: exported the generator to {path}")
    return 0


def _is_image_to_image(model):
    if hasattr(model, "generator_ab") or hasattr(model, "l1_weight"):
        return True
    inputs = getattr(model, "inputs", None) or []
    return not hasattr(model, "latent_dim") and len(inputs) == 1 and len(inputs[0].shape) == 4


def cmd_serving_config(args):
    from keras_gan.deploy.serving import model_config

    try:
        text = model_config(args.directory, base_path=args.base_path)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    sys.stdout.write(text)
    return 0


def cmd_sample(args):
    from keras_gan.data import images

    samples = _load_sampler(args.model)(args.n, seed=args.seed)
    if samples.ndim != 4:
        raise UsageError(f"--model generates samples of shape {samples.shape[1:]}, not images: no grid to draw")
    images.save_grid(samples, args.out)
    print(f"keras-gan: wrote {args.out} ({args.n} samples)")
    return 0


def main(argv=None):
    """Entry point of the `keras-gan` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        parser.exit(EXIT_USAGE, f"keras-gan {args.command}: error: {e}\n")
    except (ValueError, RuntimeError) as e:
        parser.exit(1, f"keras-gan {args.command}: error: {e}\n")


if __name__ == "__main__":
    sys.exit(main())
