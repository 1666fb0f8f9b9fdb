"""The benchmark scripts (`benchmarks/*.py`) as modules, for the tests that run or check them."""

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmark(script):
    """Imports `benchmarks/<script>` (e.g. "throughput.py") as a module of its own."""
    path = BENCHMARKS / script
    spec = importlib.util.spec_from_file_location(f"{path.stem}_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
