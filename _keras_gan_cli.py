"""The `keras-gan` console script: quiets TensorFlow's C++ start-up logs, then runs `keras_gan.cli`.

TensorFlow writes its start-up lines (oneDNN, CPU instructions, "Could not find
cuda drivers", cuInit) to stderr while it loads, before its C++ logging is
initialised, so `TF_CPP_MIN_LOG_LEVEL` does not reach them: the launcher sets
`TF_CPP_MIN_LOG_LEVEL=2` for the lines that come later and sends stderr to
/dev/null while `keras_gan` (and so TensorFlow) is imported and the devices are
listed. It lives outside the `keras_gan` package because importing
`keras_gan.cli` imports `keras_gan`, which imports TensorFlow. When the user
set `TF_CPP_MIN_LOG_LEVEL`, nothing is hidden.
"""

import os
import sys


def _import_quietly():
    """Imports TensorFlow and lists its devices with stderr (file descriptor 2) sent to /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            import keras_gan  # noqa: F401

            tf.config.list_physical_devices()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def main():
    """Entry point of the `keras-gan` command."""
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        _import_quietly()
    from keras_gan.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
