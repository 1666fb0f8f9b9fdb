"""Loading `.keras` files with clear errors and Keras's safe mode on.

`keras.models.load_model` reports a truncated or corrupted file as "File not
found", and a file with a `Lambda` layer as a deep deserialisation error.
`load_model` here checks the archive first (a zip whose every member passes
its CRC check, holding `config.json` and `model.weights.h5`) and always
loads with `safe_mode=True`: a `.keras` file can never run code stored in
it. Nothing in keras_gan uses pickle (weights are HDF5, configs JSON).
"""

import os
import zipfile

import keras

_REQUIRED_MEMBERS = ("config.json", "model.weights.h5")


def _invalid(path, problem):
    return ValueError(f"Invalid value for argument `path`: {problem}. Received: path={path!r}")


def check_keras_archive(path):
    """Raises a clear error unless `path` is a complete, uncorrupted `.keras` archive.

    Args:
        path: a `.keras` file.

    Returns:
        `path` as a string.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"Invalid value for argument `path`: expected a .keras file. Received: path={path!r}, "
            "which does not exist"
        )
    if os.path.isdir(path) or not path.endswith(".keras"):
        raise _invalid(path, "expected a file ending in .keras (an exported SavedModel directory "
                             "loads with keras_gan.load_generator)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _invalid(path, f"expected a .keras archive; the file is truncated or corrupted ({e})") from None
    if damaged is not None:
        raise _invalid(path, f"the .keras archive is corrupted (member {damaged!r} fails its checksum)")
    missing = [m for m in _REQUIRED_MEMBERS if m not in names]
    if missing:
        raise _invalid(path, f"expected a Keras model archive; {', '.join(missing)} missing")
    return path


def load_model(path, compile=True):
    """Loads a `.keras` model written by keras_gan (a GAN or a generator), safely.

    Args:
        path: a `.keras` file, e.g. `runs/digits/model.keras` or
            `runs/digits/generator.keras`.
        compile: restore a GAN's optimizers and loss (needed to keep
            training); False to only generate.

    Returns:
        The `keras.Model` (a `keras_gan.GAN` for `model.keras`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a `.keras` file, a truncated or corrupted one, or one
            that needs code execution (a `Lambda` layer: refused by safe mode).

    Example:

    ```python
    generator = keras_gan.saving.load_model("runs/digits/generator.keras", compile=False)
    ```
    """
    path = check_keras_archive(path)
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except Exception as e:  # Keras raises ValueError, TypeError, KeyError, OSError...
        text = str(e)
        if "safe_mode" in text or "Lambda" in text:
            raise _invalid(path, "the model holds Python code (a Lambda layer), which keras_gan never "
                                 "runs from a file (Keras safe_mode)") from None
        raise _invalid(path, f"could not load the model ({type(e).__name__}: {text.splitlines()[0] if text else ''})"
                       ) from None


def load_gan(path, compile=True):
    """Loads a whole `keras_gan.GAN` (`model.keras` from `keras-gan train`), safely.

    Like `load_model`, and checks that the file holds a GAN.

    Args:
        path: a `.keras` file holding a GAN.
        compile: restore both optimizers' state and the loss (to keep training).

    Returns:
        The `keras_gan.GAN`.

    Example:

    ```python
    gan = keras_gan.load_gan("runs/digits/model.keras")
    images = gan.generate(16, seed=0)
    ```
    """
    from keras_gan.models.gan import GAN

    model = load_model(path, compile=compile)
    if not isinstance(model, GAN):
        if hasattr(model, "inference_generator"):
            found = f"a keras_gan.{type(model).__name__} (an image-to-image model: it loads with keras_gan.saving.load_model)"
        else:
            found = f"a {type(model).__name__} (a generator loads with keras_gan.saving.load_model)"
        raise _invalid(os.fspath(path), f"expected a file holding a keras_gan.GAN; found {found}")
    return model
