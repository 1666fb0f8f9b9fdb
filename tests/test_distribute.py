"""tf.distribute: strategies by name, the chief, MirroredStrategy on 2 logical
CPUs and MultiWorkerMirroredStrategy over loopback (both in subprocesses:
devices must be split before TensorFlow initialises)."""

import json
import os
import socket
import subprocess
import sys
import types

import numpy as np
import pytest
import tensorflow as tf

from keras_gan import distribute

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _last_json_line(text):
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


# ----------------------------------------------------------- strategy by name
def test_strategy_from_name_default_is_the_current_strategy():
    assert distribute.strategy_from_name("default") is tf.distribute.get_strategy()


def test_strategy_from_name_mirrored_is_a_mirrored_strategy():
    assert isinstance(distribute.strategy_from_name("mirrored"), tf.distribute.MirroredStrategy)


def test_strategy_from_name_rejects_an_unknown_name():
    with pytest.raises(ValueError, match=r"argument `strategy`: expected one of \['default', "
                       r"'mirrored', 'multiworker'\]. Received: strategy='tpu'"):
        distribute.strategy_from_name("tpu")


def test_multiworker_without_tf_config_says_what_to_set(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG environment variable.*Received: TF_CONFIG is not set"):
        distribute.strategy_from_name("multiworker")


@pytest.mark.parametrize("bad", ["not json", '{"cluster": {"worker": ["h:1"]}}', "[1, 2]"])
def test_multiworker_with_a_malformed_tf_config_is_rejected(monkeypatch, bad):
    monkeypatch.setenv("TF_CONFIG", bad)
    with pytest.raises(ValueError, match="Invalid value for environment variable `TF_CONFIG`"):
        distribute.strategy_from_name("multiworker")


# -------------------------------------------------------------------- chief
def _cluster(task_type, index, chief=False):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    if chief:
        cluster["chief"] = ["127.0.0.1:3"]
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.mark.parametrize("config, chief", [
    (None, True),
    (_cluster("worker", 0), True),
    (_cluster("worker", 1), False),
    (_cluster("worker", 0, chief=True), False),
    (_cluster("chief", 0, chief=True), True),
    (_cluster("evaluator", 0), False),
])
def test_is_chief_outside_a_strategy_scope_follows_tf_config(monkeypatch, config, chief):
    # Keras callbacks run outside strategy.scope(): TF_CONFIG tells the role.
    if config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", config)
    assert distribute.is_chief() is chief


@pytest.mark.parametrize("task_type, task_id, chief", [("worker", 0, True), ("worker", 1, False), ("chief", 0, True)])
def test_is_chief_reads_the_strategys_cluster_resolver(monkeypatch, task_type, task_id, chief):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = types.SimpleNamespace(
        cluster_resolver=types.SimpleNamespace(task_type=task_type, task_id=task_id))
    assert distribute.is_chief(strategy) is chief


# --------------------------------------------------- MirroredStrategy, 2 CPUs
@pytest.fixture(scope="module")
def mirrored():
    """Results of tests/_mirrored_worker.py (one subprocess for all checks)."""
    result = subprocess.run(
        [sys.executable, os.path.join(TESTS, "_mirrored_worker.py")],
        capture_output=True, text=True, timeout=240, env=_env(), cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    results = _last_json_line(result.stdout)
    assert results["replicas"] == 2
    return results


@pytest.mark.parametrize("policy, tolerance", [("float32", 1e-6), ("mixed_float16", 1e-4)])
def test_one_step_on_two_replicas_equals_one_step_on_one_device(mirrored, policy, tolerance):
    # Same global batch of 16, same noise, BatchNorm-free nets, SGD(0.1), with
    # an EMA of G and the R1 penalty (compared too).
    # float32: only the summation order differs (1e-6); mixed_float16: the
    # replicas' float16 rounding differs too (1e-4), on a step of norm ~0.1.
    assert mirrored[f"{policy}_update_norm"] > 0.05
    assert mirrored[f"{policy}_max_diff"] < tolerance


def test_reuse_fakes_on_two_replicas_equals_one_device(mirrored):
    assert mirrored["reuse_update_norm"] > 0.05
    assert mirrored["reuse_max_diff"] < 1e-6


def test_an_infogan_step_on_two_replicas_equals_one_device(mirrored):
    # G, D, the EMA copy and Q (code_classifier), one step of the same global batch and noise.
    assert mirrored["info_update_norm"] > 0.05
    assert mirrored["info_max_diff"] < 1e-6


def test_a_feature_matching_step_on_two_replicas_equals_one_device(mirrored):
    # The term's batch means are all-reduced: each replica's half-batch mean would differ.
    assert mirrored["feature_matching_update_norm"] > 0.05
    assert mirrored["feature_matching_max_diff"] < 1e-6


def test_mixed_float16_under_a_strategy_uses_loss_scaling(mirrored):
    assert mirrored["mixed_float16_loss_scaled"] and not mirrored["float32_loss_scaled"]


def test_each_replica_draws_different_noise(mirrored):
    assert mirrored["replica_noise_max_diff"] > 0.1


def test_fit_on_two_replicas_with_the_gans_own_noise_stays_finite(mirrored):
    assert mirrored["fit_finite"]


def test_an_overflow_on_one_replica_skips_the_step_on_every_replica(mirrored):
    # Keras' LossScaleOptimizer decides from replica 0 alone; without
    # keras_gan's agreement the overflow reaches the weights as NaN.
    assert mirrored["overflow_weights_finite"]
    assert mirrored["overflow_max_change"] == 0.0
    assert mirrored["overflow_scales"] == [mirrored["initial_scale"] / 2] * 2


# ------------------------------------------- MultiWorkerMirroredStrategy
def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_end_with_identical_weights_and_only_the_chief_writes(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    workers = []
    for index in range(2):
        out = tmp_path / f"worker{index}"
        out.mkdir()
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            [sys.executable, os.path.join(TESTS, "_multiworker_worker.py"), str(out), str(results_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_env(TF_CONFIG=config), cwd=REPO,
        ))
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=240))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for worker, (stdout, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-4000:]
    reports = [_last_json_line(stdout) for stdout, _ in outputs]
    assert [r["is_chief"] for r in reports] == [True, False]
    assert all(r["replicas"] == 2 for r in reports)
    # 64 samples in global batches of 16 for 2 epochs: 8 synchronised D updates.
    assert all(r["d_updates"] == 8 for r in reports)
    weights = [np.load(results_dir / f"weights_{index}.npz") for index in range(2)]
    for name in weights[0].files:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])
    chief, other = tmp_path / "worker0", tmp_path / "worker1"
    assert (chief / "model.keras").is_file()
    assert (chief / "export" / "1" / "saved_model.pb").is_file()
    assert sorted(os.listdir(other)) == []


# ---------------------------------------------------------------------- CLI
def test_cli_train_with_the_mirrored_strategy_trains_and_writes(tmp_path, capsys):
    from keras_gan import cli

    out = tmp_path / "run"
    code = cli.main(["train", "--strategy", "mirrored", "--dataset", "gaussian_1d", "--epochs", "1",
                     "--batch-size", "2048", "--out", str(out), "--verbose", "0"])
    assert code == 0
    assert (out / "model.keras").is_file() and (out / "generator.keras").is_file()
    assert "keras-gan: wrote" in capsys.readouterr().out


def test_cli_multiworker_without_tf_config_exits_with_a_clear_error(tmp_path, monkeypatch, capsys):
    from keras_gan import cli

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--strategy", "multiworker", "--dataset", "gaussian_1d", "--epochs", "1",
                  "--out", str(tmp_path / "run"), "--verbose", "0"])
    assert exit_info.value.code == 1
    assert "TF_CONFIG is not set" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
