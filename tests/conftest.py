import os

# Quiet TensorFlow's C++ logs before it is imported anywhere.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from the same seeds, a float32 policy and a clean session."""
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(1234)
    yield
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session()


# The longest test files, started first: with two workers (setup.cfg), a long
# file collected last would otherwise run alone at the end.
_LONGEST_FIRST = ("test_cli_matrix.py", "test_quality_smoke.py", "test_resume.py", "test_distribute.py",
                  "test_cli.py", "test_docs.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return _LONGEST_FIRST.index(name) if name in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file is kept
