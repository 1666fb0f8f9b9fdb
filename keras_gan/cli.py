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
# Samples in the picture of a toy model (`train`'s samples/ and `sample`): a scatter or histogram.
TOY_PICTURE_SAMPLES = 1000


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
    from keras_gan import losses

    return losses.names()


def _image_network_kinds():
    """The `--network` choices: every registered generator kind for images (not the toy MLPs)."""
    from keras_gan import networks

    return [kind for kind in networks.generator_kinds() if kind != "toy"]


def _add_train(sub):
    p = sub.add_parser(
        "train",
        help="train a GAN (default: the MLP GAN on scikit-learn's 8x8 digits, a few minutes on 2 CPU cores)",
        description=(
            "Train a GAN with Keras's fit(). Writes under --out: samples/epoch_NNN.png (a grid from "
            "the same fixed noise every --sample-every epochs and at the last; for toy data a scatter "
            "(2D) of G's samples over the mixture's modes or a histogram (1D) over the target density), "
            "log.csv (a row per epoch), model.keras (the whole GAN, both optimizers) and the resume state "
            "(saved atomically at most every --save-interval seconds, at the end and on Ctrl-C/SIGTERM), "
            "generator.keras, and tensorboard/ with --tensorboard. Rerunning the same command "
            "continues from the last save."
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
    p.add_argument("--network", default="mlp", choices=_image_network_kinds(),
                   help="networks for image data: the MLP GAN (G 128-256-512-1024, D 512-256-1), "
                        "a DCGAN, or StyleGAN2 (CPU-sized widths, 32 channels per block; square images "
                        "whose side is a power of two from 32 to 1024, smaller ones such as the 8x8 "
                        "digits upscaled to 32x32; Adam beta_1=0, beta_2=0.99 and lazy R1 with "
                        "gamma=0.0002*side^2/batch every 16 D updates, as StyleGAN2-ADA's auto "
                        "config) (default: mlp)")
    p.add_argument("--ada", action="store_true",
                   help="adaptive discriminator augmentation (keras_gan.augment.Adaptive: the 'bgc' "
                        "transforms on everything D sees, with a probability p moved towards "
                        "E[sign(D(real))] = 0.6; p is logged as augment_p)")
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
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_float16", "mixed_bfloat16"),
                   help="Keras dtype policy of the networks: mixed_float16 (GPUs; both optimizers "
                        "loss-scaled) or mixed_bfloat16 (TPUs, recent CPUs) compute in 16 bits with "
                        "float32 weights; exports stay float32 (default: float32)")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="progress output: 0 silent, 1 one line for the whole run with an ETA "
                        "(default), 2 Keras' line per epoch")
    p.add_argument("--export-to", metavar="DIR", default=None,
                   help="at the end of training, export the generator for TF Serving to DIR/<next version>/")
    p.add_argument("--save-every", type=_positive_int, default=None, metavar="N",
                   help="also save the resume state every N steps, mid-epoch included (default: at "
                        "epoch ends only). Rerunning the same command continues from the last saved point")
    p.add_argument("--save-interval", type=_non_negative_float, default=60.0, metavar="SECONDS",
                   help="save model.keras and the resume state at the first epoch end at least "
                        "SECONDS after the last save, at the end and on Ctrl-C/SIGTERM; 0 saves every "
                        "epoch. A kill -9 loses at most the epochs since the last save (default: 60)")
    p.add_argument("--sample-every", type=_positive_int, default=None, metavar="N",
                   help="write a sample grid every N epochs and at the last (default: about 30 "
                        "grids a run, e.g. every 10 epochs of 300)")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in --out, discarding its resume state (default: resume)")
    p.set_defaults(func=cmd_train)


def _add_sample(sub):
    p = sub.add_parser(
        "sample",
        help="write a PNG of samples (or translations) from a trained model",
        description=(
            "Draw from a trained model into a PNG: a grid of images from a GAN; a scatter (2D) or "
            "histogram (1D) of samples from a toy GAN, over the target when --model sits in its run "
            "folder; from a Pix2Pix or CycleGAN, a grid of input | output rows translating "
            "--input-folder's images or the digits demo inputs."
        ),
    )
    p.add_argument("--model", required=True,
                   help="a model.keras or generator.keras from `keras-gan train` (a GAN, Pix2Pix or "
                        "CycleGAN), or an exported SavedModel directory (saved_models/NAME: its latest "
                        "version, or NAME/VERSION)")
    p.add_argument("--n", type=_positive_int, default=None,
                   help=f"number of samples (default: 64, {TOY_PICTURE_SAMPLES} for toy data), or of "
                        "inputs to translate (default: 8)")
    p.add_argument("--seed", type=int, default=0, help="noise seed of a GAN (default: 0)")
    p.add_argument("--input-folder", metavar="DIR", default=None,
                   help="image-to-image models: translate the images in DIR, first --n by name, resized "
                        "to the model's input (default: the digits demo inputs of `keras-gan train "
                        "--task pix2pix|cyclegan`)")
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


def _stylegan2_side(shape):
    """The side StyleGAN2 trains at for images of `shape`: a power of two from 32 to 1024."""
    side = max(32, 1 << (max(shape[0], shape[1]) - 1).bit_length())
    if side > 1024:
        raise UsageError(f"--network stylegan2: images up to 1024x1024; received {shape[0]}x{shape[1]}")
    return side


def _resized(dataset, side):
    """The dataset's images resized (bilinear) to side x side; labels, if any, kept."""
    import tensorflow as tf

    def resize(x, *rest):
        x = tf.image.resize(x, (side, side), method="bilinear")
        return (x, *rest) if rest else x

    return dataset.map(resize, num_parallel_calls=tf.data.AUTOTUNE)


def _sample_shape(dataset):
    spec = dataset.element_spec
    spec = spec[0] if isinstance(spec, tuple) else spec
    return tuple(spec.shape[1:])


def _reference_kind(sample_shape, network):
    """The reference networks' kind for samples of `sample_shape`, and the widths G, D and Q share."""
    if len(sample_shape) == 1:
        return "toy", {"units": (128, 128)}
    if network == "stylegan2":
        return "stylegan2", {"channel_base": 32 * sample_shape[0], "channel_max": 32}
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
    return (networks.generator(kind, latent_dim, sample_shape, categories=categories, **widths),
            networks.discriminator(kind, sample_shape, spectral_norm=spectral_norm, **widths))


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
        return False  # forcing XLA under MirroredStrategy fails (docs/design.md, "XLA")
    if args.xla is not None:
        return args.xla
    return "auto"


def _adam(args):
    import keras

    if args.network == "stylegan2":
        return keras.optimizers.Adam(args.learning_rate, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
    return keras.optimizers.Adam(args.learning_rate, beta_1=0.5)


def _ada(args):
    from keras_gan.components.ada import Adaptive

    return Adaptive(seed=args.seed) if args.ada else None


def _stylegan2_penalties(args, shape):
    """StyleGAN2-ADA's auto config: lazy R1, gamma = 0.0002 * side^2 / batch, every 16 D updates."""
    from keras_gan.components.penalties import R1

    if args.network != "stylegan2" or len(shape) != 3:
        return None
    return [R1(weight=0.0002 * shape[0] ** 2 / args.batch_size, interval=16)]


def _stylegan2_terms(args, shape):
    """StyleGAN2's lazy path length penalty (weight 2, every 4 G updates) for --network stylegan2."""
    from keras_gan.components.path_length import PathLength

    return [PathLength()] if args.network == "stylegan2" and len(shape) == 3 else None


def cmd_train(args):
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(args.precision)
    try:
        return _train_gan(args) if args.task == "gan" else _train_image_to_image(args)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _sample_every(args, epochs):
    """--sample-every, or about 30 grids a run (and always the last epoch's)."""
    return args.sample_every or max(1, round(epochs / 30))


def _progress(args, epochs):
    """`(callbacks, verbose)`: --verbose 1 is one line for the whole run, not Keras' bar per epoch."""
    from keras_gan.training import callbacks as gan_callbacks

    if args.verbose == 1:
        return [gan_callbacks.RunProgress(epochs)], 0
    return [], args.verbose


def _fit_resumable(model, data, epochs, directory, args, callbacks, config, out):
    """`resume.fit`; on Ctrl-C/SIGTERM, saves model.keras too and returns the exit code (else None)."""
    from keras_gan.training import callbacks as gan_callbacks
    from keras_gan.training import resume

    progress, verbose = _progress(args, epochs)
    try:
        resume.fit(model, data, epochs, directory, save_every=args.save_every, callbacks=callbacks + progress,
                   config=config, save_interval=args.save_interval, verbose=verbose)
    except resume.TrainingInterrupted as e:
        if gan_callbacks.non_finite_state(model) is None:
            gan_callbacks.save_atomic(model, os.path.join(out, "model.keras"))
        print(f"\nkeras-gan: {e}; rerun the same command to continue")
        return 128 + e.signal_number
    return None


def _check_gan_flags(args):
    """Checks the flags of `--task gan` without TensorFlow; returns `num_classes` (None or 10)."""
    if args.dataset == "folder" and not args.image_folder:
        raise UsageError("--dataset folder needs --image-folder PATH")
    if args.image_folder and args.dataset != "folder":
        raise UsageError("--image-folder is only used with --dataset folder")
    if args.network == "stylegan2" and (args.conditional or args.categories or args.spectral_norm):
        raise UsageError("--network stylegan2 takes no --conditional, --categories or --spectral-norm")
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


def _train_gan(args):
    import keras

    from keras_gan.training import callbacks as gan_callbacks
    from keras_gan.training import resume
    from keras_gan.training.distribute import is_chief, strategy_from_name
    from keras_gan.models.gan import GAN

    num_classes = _check_gan_flags(args)
    # First, before any TensorFlow op (seeding, data): MultiWorkerMirroredStrategy
    # configures collective ops, which TensorFlow accepts only at program startup.
    strategy = strategy_from_name(args.strategy)
    keras.utils.set_random_seed(args.seed)
    out = args.out or os.path.join("runs", args.dataset)
    dataset = _load_data(args)
    shape = _sample_shape(dataset)
    if args.network == "stylegan2" and len(shape) == 3:
        side = _stylegan2_side(shape)
        if shape[:2] != (side, side):
            dataset = _resized(dataset, side)
            shape = _sample_shape(dataset)
    epochs = args.epochs or (300 if args.dataset == "digits" else 20)
    # Networks, GAN and optimizers are built in the strategy's scope; then plain fit.
    with strategy.scope():
        generator, discriminator = build_networks(shape, args.latent_dim, args.network, num_classes,
                                                  spectral_norm=args.spectral_norm, categories=args.categories)
        code_classifier = build_code_classifier(shape, args.network, args.categories) if args.categories else None
        gan = GAN(generator, discriminator, seed=args.seed, ema_decay=args.ema_decay or None,
                  num_classes=num_classes, code_classifier=code_classifier, info_weight=args.info_weight,
                  augment=_ada(args))
        gan.compile(
            d_optimizer=_adam(args), g_optimizer=_adam(args),
            loss=args.loss, d_steps=args.d_steps, g_steps=args.g_steps,
            jit_compile=use_xla(args, shape), penalties=_stylegan2_penalties(args, shape),
            terms=_stylegan2_terms(args, shape),
        )
    tb_dir = os.path.join(out, "tensorboard") if args.tensorboard else None
    directory, data, config = _resume_setup(args, out, dataset)
    callbacks = [
        gan_callbacks.TerminateOnNonFinite(),
        _sample_pictures(out, args, shape, tb_dir, every=_sample_every(args, epochs)),
        gan_callbacks.AtomicCheckpoint(os.path.join(out, "model.keras"), save_interval=args.save_interval),
    ]
    if is_chief():
        os.makedirs(out, exist_ok=True)
        callbacks.append(gan_callbacks.CSVLog(os.path.join(out, "log.csv"), append=not args.overwrite))
    if tb_dir and is_chief():  # Keras' own callbacks have no chief logic
        callbacks.append(keras.callbacks.TensorBoard(tb_dir, write_graph=False))
    interrupted = _fit_resumable(gan, data, epochs, directory, args, callbacks, config, out)
    if interrupted:
        return interrupted
    if is_chief():
        gan_callbacks.save_atomic(gan.inference_generator, os.path.join(out, "generator.keras"))
        _report_toy(gan, args.dataset)
        print(f"keras-gan: wrote {out}/ (model.keras, generator.keras, log.csv, samples/)")
        if args.export_to:
            from keras_gan.deploy.export import export_generator

            print(f"keras-gan: exported the generator to {export_generator(gan, args.export_to)}")
    return 0


def _sample_pictures(out, args, sample_shape, tensorboard_dir, every=1):
    """The callback drawing `samples/epoch_NNN.png`: an image grid, or for toy data a scatter
    (2D) or histogram (1D) of G's samples over the target (`keras_gan.plots`)."""
    from keras_gan.data import plots
    from keras_gan.training import callbacks as gan_callbacks

    toy = len(sample_shape) == 1
    return gan_callbacks.SampleGrid(os.path.join(out, "samples"), n=TOY_PICTURE_SAMPLES if toy else 64,
                                    seed=args.seed, tensorboard_dir=tensorboard_dir, every=every,
                                    target=plots.toy_target(args.dataset) if toy else None)


# Flags that must match for a rerun to continue a run (--epochs may grow), per --task.
_RUN_FLAGS = ("task", "dataset", "image_folder", "image_size", "batch_size", "loss", "d_steps", "g_steps",
              "latent_dim", "network", "learning_rate", "conditional", "ema_decay", "seed", "strategy",
              "spectral_norm", "categories", "info_weight", "precision", "ada")
_IMAGE_TO_IMAGE_RUN_FLAGS = ("task", "dataset", "translation", "image_folder", "image_size", "batch_size",
                             "learning_rate", "norm", "seed", "spectral_norm", "precision")
# Flags a saved resume config may lack, with the value such a run used.
_LATER_FLAGS = {"spectral_norm": False, "task": "gan", "categories": None, "info_weight": 1.0,
                "precision": "float32", "ada": False}


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

    if args.dataset not in ("digits", "folder"):
        raise UsageError(f"--task {args.task} trains on --dataset digits or folder; received --dataset {args.dataset}")
    if args.dataset == "folder" and not args.image_folder:
        raise UsageError("--dataset folder needs --image-folder PATH (holding A/ and B/)")
    # First, before any TensorFlow op: see _train_gan.
    strategy = strategy_from_name(args.strategy)
    for flag, value in (("--conditional", args.conditional), ("--categories", args.categories),
                        ("--info-weight", args.info_weight is not None)):
        if value:
            raise UsageError(f"{flag} is for --task gan; received --task {args.task}")
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

    every = _sample_every(args, epochs)

    def grid(epoch, logs=None):
        if (epoch + 1) % every and epoch + 1 != epochs:
            return
        save_translation_grid(inputs, model.translate(inputs), targets,
                              os.path.join(out, "samples", f"epoch_{epoch + 1:03d}.png"))

    callbacks = [gan_callbacks.TerminateOnNonFinite(),
                 gan_callbacks.AtomicCheckpoint(os.path.join(out, "model.keras"), save_interval=args.save_interval)]
    if is_chief():  # only the chief writes (AtomicCheckpoint asks is_chief itself)
        os.makedirs(out, exist_ok=True)
        callbacks += [keras.callbacks.LambdaCallback(on_epoch_end=grid),
                      gan_callbacks.CSVLog(os.path.join(out, "log.csv"), append=not args.overwrite)]
    data = resume.SeededEpochs(a, b, batch_size=args.batch_size, seed=args.seed, paired=paired)
    interrupted = _fit_resumable(model, data, epochs, directory, args, callbacks, config, out)
    if interrupted:
        return interrupted
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
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# What `keras-gan sample` and `export` take, for the messages refusing anything else.
_TAKES = ("a model.keras or generator.keras from `keras-gan train` (a GAN, Pix2Pix or CycleGAN), "
          "or for `sample` an export from `keras-gan export`")


def _shapes(tensors):
    return [tuple(t.shape) for t in (tensors or [])]


def _model_kind(model):
    """What a loaded `.keras` model is to `sample` and `export`: `(kind, words)`.

    `kind` is "gan" (a `keras_gan.GAN`), "translator" (a Pix2Pix or
    CycleGAN), "generator" (noise, and a label when class-conditional, to
    samples), "image_generator" (an image-to-image generator: one image in,
    one image out), or None for anything else; `words` names it for messages.
    """
    from keras_gan.models.gan import GAN
    from keras_gan.models.image_to_image import ImageToImageGAN

    if isinstance(model, ImageToImageGAN):
        return "translator", f"a {type(model).__name__} checkpoint"
    if isinstance(model, GAN):
        return "gan", "a GAN checkpoint"
    ins, outs = _shapes(getattr(model, "inputs", None)), _shapes(getattr(model, "outputs", None))
    if len(outs) == 1 and len(ins) == 1 and len(ins[0]) == 4 and len(outs[0]) == 4:
        return "image_generator", "an image-to-image generator (a Pix2Pix or CycleGAN generator.keras)"
    if (len(outs) == 1 and 1 <= len(ins) <= 2 and len(ins[0]) == 2 and ins[0][1]
            and (len(ins) == 1 or len(ins[1]) <= 2)):
        return "generator", "a generator"
    mapping = f" mapping {ins[0] if len(ins) == 1 else ins} to {outs[0] if len(outs) == 1 else outs}" if ins else ""
    return None, f"a {type(model).__name__}{mapping}, not a model from `keras-gan train`"


def _load_keras(path, flag):
    """`(model, kind, words)` of a `.keras` file given to `flag`, or a one-line UsageError."""
    from keras_gan.training.saving import load_model

    try:
        model = load_model(path, compile=False)
    except ValueError as e:
        raise UsageError(f"{flag}: {_one_line(e)}") from None
    return (model, *_model_kind(model))


class _Source:
    """What `keras-gan sample` draws from: `generate(n, seed)` or `translate(images)`.

    Attributes:
        words: the model's kind for messages ("a Pix2Pix checkpoint").
        generate: `generate(n, seed)` for models from noise, else None.
        translate: `translate(images)` for image-to-image models, else None.
        input_shape: `(H, W, C)` of `translate`'s inputs.
        target: what toy samples are drawn over (`keras_gan.plots.toy_target`), or None.
    """

    def __init__(self, words, generate=None, translate=None, input_shape=None, target=None):
        self.words, self.generate, self.translate = words, generate, translate
        self.input_shape, self.target = input_shape, target


def _in_batches(fn, array, batch_size=64):
    import numpy as np

    return np.concatenate([np.asarray(fn(array[i: i + batch_size]), "float32")
                           for i in range(0, len(array), batch_size)])


def _run_target(path):
    """The toy target of the run folder holding `path` (its resume state names the dataset), or None."""
    from keras_gan.data import plots
    from keras_gan.training import resume

    try:
        progress = resume.load_progress(os.path.join(os.path.dirname(os.path.abspath(path)), "resume"))
    except (OSError, ValueError):  # a damaged resume folder: draw the samples alone
        return None
    return plots.toy_target(((progress or {}).get("config") or {}).get("dataset"))


def _load_source(path):
    """The `_Source` of `keras-gan sample --model path`."""
    import keras
    import numpy as np
    import tensorflow as tf

    if not os.path.exists(path):
        raise UsageError(f"--model: no such file or folder: {path!r}")
    if os.path.isdir(path):
        return _export_source(path)
    if not path.endswith(".keras"):
        raise UsageError(f"--model: expected {_TAKES}; received {path!r}")
    model, kind, words = _load_keras(path, "--model")
    if kind is None:
        raise UsageError(f"--model: {path} holds {words}: `keras-gan sample` takes {_TAKES}")
    if kind == "translator":
        from keras_gan.models.image_to_image import image_shape

        return _Source(words, translate=model.translate, input_shape=image_shape(model.inference_generator))
    if kind == "image_generator":
        return _Source(words, translate=lambda x: _in_batches(
            lambda b: keras.ops.convert_to_numpy(model(b, training=False)), x),
            input_shape=_shapes(model.inputs)[0][1:])
    target = _run_target(path)
    if kind == "gan":
        return _Source(words, generate=model.generate, target=target)
    latent_dim = _shapes(model.inputs)[0][1]
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    num_classes = embeddings[0].input_dim if embeddings else 1

    def generate(n, seed):
        z = tf.random.stateless_normal((n, latent_dim), seed=[seed, 0])
        # A conditional generator's classes cycle as in GAN.generate.
        inputs = z if len(model.inputs) == 1 else [z, tf.constant(np.arange(n) % num_classes, tf.int32)]
        return keras.ops.convert_to_numpy(model(inputs, training=False))

    return _Source(words + " (generator.keras)", generate=generate, target=target)


def _export_source(path):
    """The `_Source` of an exported SavedModel: the same noise as a .keras GAN's."""
    import numpy as np
    import tensorflow as tf

    from keras_gan.deploy.inference import ExportedImageToImage, load_generator

    try:
        g = load_generator(path)
    except (FileNotFoundError, ValueError) as e:
        raise UsageError(f"--model: {_one_line(e)}") from None
    if isinstance(g, ExportedImageToImage):
        return _Source("an exported image-to-image generator", translate=lambda x: _in_batches(g, x),
                       input_shape=g.input_shape)

    def generate(n, seed):
        z = tf.random.stateless_normal((n, g.latent_dim), seed=[seed, 0]).numpy()
        # Classes cycle as in GAN.generate (all 0 when the export does not know them).
        labels = np.arange(n) % (g.num_classes or 1) if g.conditional else None
        return g(z, labels=labels)

    return _Source("an exported generator", generate=generate)


def _translation_inputs(args, source):
    """The images `keras-gan sample` translates: --input-folder's, or the digits demo inputs."""
    import numpy as np

    h, w, c = source.input_shape
    n = args.n or 8
    if args.input_folder:
        return _read_images(args.input_folder, (h, w, c), n)
    if c != 1 or h != w:
        raise UsageError(
            f"--model is {source.words} translating {h}x{w}x{c} images, and the default inputs (the digits "
            f"demo of `keras-gan train --task pix2pix|cyclegan`) are square grey digits: pass "
            f"--input-folder DIR of images to translate"
        )
    from keras_gan import data

    inputs, _ = data.digits_translation_samples("edges", image_size=h)
    return np.asarray(inputs[:n], "float32")


def _read_images(folder, shape, n):
    """The first `n` images of `folder` (sorted by name) as `(n, H, W, C)` floats in [-1, 1]."""
    import numpy as np
    from PIL import Image

    h, w, c = shape
    if not os.path.isdir(folder):
        raise UsageError(f"--input-folder: no such folder: {folder!r}")
    if c not in (1, 3):
        raise UsageError(f"--input-folder: the model takes {c}-channel images; image files give 1 (grey) or 3 (RGB)")
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(_IMAGE_EXTENSIONS))[:n]
    if not names:
        raise UsageError(f"--input-folder: no images ({', '.join(_IMAGE_EXTENSIONS)}) in {folder!r}")
    images = []
    for name in names:
        try:
            with Image.open(os.path.join(folder, name)) as image:
                image = image.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
        except OSError as e:
            raise UsageError(f"--input-folder: cannot read {name!r} ({_one_line(e)})") from None
        images.append(np.asarray(image, "float32").reshape(h, w, c) / 127.5 - 1.0)
    return np.stack(images)


def cmd_sample(args):
    from keras_gan.data import images, plots

    source = _load_source(args.model)
    if source.translate is not None:
        from keras_gan.models.image_to_image import save_translation_grid

        inputs = _translation_inputs(args, source)
        save_translation_grid(inputs, source.translate(inputs), None, args.out)
        print(f"keras-gan: wrote {args.out} ({len(inputs)} rows of input | output)")
        return 0
    if args.input_folder:
        raise UsageError(f"--input-folder is for image-to-image models (Pix2Pix, CycleGAN); --model is "
                         f"{source.words}, which generates from noise: drop --input-folder")
    samples = source.generate(args.n or 64, seed=args.seed)
    if samples.ndim == 2 and samples.shape[1] in (1, 2):
        if args.n is None:  # a picture of toy samples needs more than a grid's 64
            samples = source.generate(TOY_PICTURE_SAMPLES, seed=args.seed)
        plots.save_toy_picture(samples, args.out, source.target)
        drawn = "scatter" if samples.shape[1] == 2 else "histogram"
        print(f"keras-gan: wrote {args.out} (a {drawn} of {len(samples)} samples)")
        return 0
    if samples.ndim != 4:
        raise UsageError(f"--model is {source.words} of samples of shape {samples.shape[1:]}: neither "
                         "images nor 1D/2D points, so there is no picture to draw")
    images.save_grid(samples, args.out)
    print(f"keras-gan: wrote {args.out} ({len(samples)} samples)")
    return 0


# -------------------------------------------------------------------- export
def cmd_export(args):
    from keras_gan.deploy.export import export_generator, export_image_to_image

    path = args.checkpoint
    if os.path.isdir(path):
        raise UsageError(f"--checkpoint: {path!r} is a folder, e.g. an export (already a SavedModel: "
                         "`keras-gan serving-config` lists exports for TF Serving); `keras-gan export` "
                         "takes a model.keras or generator.keras from `keras-gan train`")
    if not os.path.isfile(path):
        raise UsageError(f"--checkpoint: no such file: {path!r}")
    model, kind, words = _load_keras(path, "--checkpoint")
    if kind is None:
        raise UsageError(f"--checkpoint: {path} holds {words}: `keras-gan export` takes a model.keras "
                         "or generator.keras from `keras-gan train`")
    export = export_image_to_image if kind in ("translator", "image_generator") else export_generator
    try:
        exported = export(model, args.to, version=args.version, overwrite=args.overwrite)
    except FileExistsError:
        raise UsageError(f"--version {args.version}: {os.path.join(args.to, str(args.version))} already "
                         "exists: pass --overwrite to replace it, or omit --version to write the next "
                         "version") from None
    except ValueError as e:
        raise UsageError(f"--checkpoint: {words} cannot be exported: {_one_line(e)}") from None
    print(f"keras-gan: exported the generator to {exported}")
    return 0


# ------------------------------------------------------------ serving-config
def cmd_serving_config(args):
    from keras_gan.deploy.serving import exported_models, model_config

    directory = args.directory
    writes = "NAME/<version>/saved_model.pb, as `keras-gan export --to DIR/NAME` writes"
    if not os.path.isdir(directory):
        raise UsageError(f"DIR: expected a folder of exports ({writes}); received {directory!r}, "
                         f"{'a file' if os.path.exists(directory) else 'which does not exist'}")
    if not exported_models(directory):
        if os.path.isfile(os.path.join(directory, "saved_model.pb")):
            raise UsageError(f"DIR: {directory!r} is one version of one export: pass the folder two levels "
                             f"up, which holds one folder per model ({writes})")
        if exported_models(os.path.join(directory, os.pardir)).get(os.path.basename(os.path.normpath(directory))):
            raise UsageError(f"DIR: {directory!r} is one model's export (its version folders): pass its "
                             f"parent folder, which holds one folder per model ({writes})")
        raise UsageError(f"DIR: {directory!r} holds no exports ({writes})")
    sys.stdout.write(model_config(directory, base_path=args.base_path))
    return 0


def _one_line(error):
    """The first line of an error's message: what `keras-gan` prints (Keras's can run to pages)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def main(argv=None):
    """Entry point of the `keras-gan` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        parser.exit(EXIT_USAGE, f"keras-gan {args.command}: error: {_one_line(e)}\n")
    except (ValueError, RuntimeError) as e:
        parser.exit(1, f"keras-gan {args.command}: error: {_one_line(e)}\n")


if __name__ == "__main__":
    sys.exit(main())
