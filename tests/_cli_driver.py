"""Runs many `keras-gan` command lines in one process, as `keras-gan` would run each.

Usage: `python tests/_cli_driver.py CELLS.json RESULTS.json`, where CELLS.json
holds a list of argv lists. For each, `keras_gan.cli.main(argv)` runs with
file descriptors 1 and 2 redirected to files (so everything the command
prints is captured, Python's `warnings` and TensorFlow's C++ logs included);
an exception escaping `main` is written to the captured stderr as the
traceback Python would print, with exit code 1. RESULTS.json gets one
`{"argv", "code", "stdout", "stderr"}` per command line.

TensorFlow is imported once for all the command lines, which saves the 3-5 s
of start-up each `keras-gan` process pays (tests/test_cli_matrix.py).
"""

import json
import os
import sys
import tempfile
import traceback
import warnings


def _run(argv):
    import keras

    from keras_gan import cli

    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("float32")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        sys.stdout.flush(), sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1), os.dup2(err.fileno(), 2)
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # what the interpreter would print and exit 1 with
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])
        out.seek(0), err.seek(0)
        return {"argv": argv, "code": 0 if code is None else code, "stdout": out.read(), "stderr": err.read()}


def main(cells_path, results_path):
    # Each command is a fresh process for a user: every warning shows, not only a location's first.
    warnings.simplefilter("always")
    with open(cells_path) as f:
        cells = json.load(f)
    results = [_run(argv) for argv in cells]
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
