"""Smoke runs of the speed benchmarks (benchmarks/throughput.py, inference.py, pipeline.py).

Each script's `main(["--smoke"])` runs in this process (no second TensorFlow
start-up), exactly as `python benchmarks/<script> --smoke` would.
"""

import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_smoke(script, capsys):
    spec = importlib.util.spec_from_file_location(script[:-3], os.path.join(REPO, "benchmarks", script))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--smoke"])
    return capsys.readouterr().out


def table_rows(stdout, first_column):
    return [[cell.strip() for cell in line.strip("|").split("|")]
            for line in stdout.splitlines() if line.startswith(f"| {first_column} ")]


def test_throughput_smoke_run_measures_every_variant_against_the_baseline(capsys):
    stdout = run_smoke("throughput.py", capsys)
    rows = [r for r in table_rows(stdout, "toy2d") if len(r) == 11]
    assert [r[3] for r in rows] == ["baseline", "default", "keras_adam", "fast", "fast_bf16", "pipeline"], stdout
    by_variant = {r[3]: r for r in rows}
    assert by_variant["baseline"][7] == "1.00"
    assert by_variant["default"][4] == "off"  # no XLA by default for the toy nets
    for row in rows:
        assert float(row[5]) > 0 and float(row[8]) > 0  # img/s, img/CPU-s
    summary = [r for r in table_rows(stdout, "toy2d") if len(r) == 8]
    # The fastest float32 and bfloat16 variants, each with its ratio to the baseline.
    assert len(summary) == 1 and summary[0][4:] == [
        "fast", by_variant["fast"][7], "fast_bf16", by_variant["fast_bf16"][7]], stdout


def test_inference_smoke_run_times_every_path_and_the_batch_1_latency(capsys):
    stdout = run_smoke("inference.py", capsys)
    rows = table_rows(stdout, "mlp28")
    paths = ["load_generator", "serving_default", "keras G(z)", "keras predict_on_batch"]
    assert [(r[1], r[2]) for r in rows] == [(p, b) for b in ("1", "8") for p in paths], stdout
    for row in rows:
        assert float(row[3]) > 0
        if row[2] == "1":
            assert 0 < float(row[5]) <= float(row[6])  # p50 <= p99


def test_pipeline_smoke_run_times_both_pipelines_against_the_in_memory_floor(capsys):
    stdout = run_smoke("pipeline.py", capsys)
    names = ("in-memory batch", "keras_gan.data.pipeline", "per-sample tf.data")
    rows = sum((table_rows(stdout, name) for name in names), [])
    assert sorted((r[0], r[1]) for r in rows) == sorted((n, b) for n in names for b in ("64", "256")), stdout
    for row in rows:
        assert float(row[2]) > 0 and float(row[3]) > 0
    floor = {r[1]: float(r[3]) for r in table_rows(stdout, "in-memory batch")}
    # The last column is a row's CPU per batch over the in-memory batch's, at the same batch size.
    # (Both are printed rounded: equal to within 1 us.)
    assert all(abs(float(r[4]) - (float(r[3]) - floor[r[1]])) <= 1 for r in rows), stdout
