"""tf.distribute: strategies by name, the chief, MirroredStrategy on 2 logical
CPUs and MultiWorkerMirroredStrategy over loopback (both in subprocesses:
devices must be split before TensorFlow initialises)."""

import json
import os
import socket
import subprocess
import sys
import time
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


def test_a_stylegan2_step_on_two_replicas_equals_one_device(mirrored):
    # Modulated convolutions, lazy R1, the EMA copy and w_avg (in the compared weights).
    assert mirrored["stylegan2_update_norm"] > 0.05 and mirrored["stylegan2_w_avg_norm"] > 0
    assert mirrored["stylegan2_max_diff"] < 1e-5


def test_ada_moves_p_by_the_global_batchs_sign_under_a_strategy(mirrored):
    # r_t over both replicas is 0, below the target 0.6: p goes down by 16 images / 1000.
    # Per-replica r_t (+1 and -1) would move the copies apart and average them back to 0.5.
    assert mirrored["ada_p_one_device"] == pytest.approx(0.5 - 16 / 1000)
    assert mirrored["ada_p_two_replicas"] == pytest.approx(mirrored["ada_p_one_device"], abs=1e-7)


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


# ------------------------------------- Pix2Pix and CycleGAN, 2 CPUs
@pytest.fixture(scope="module")
def image_to_image_mirrored():
    """Results of tests/_image_to_image_mirrored_worker.py (one subprocess for both models)."""
    result = subprocess.run(
        [sys.executable, os.path.join(TESTS, "_image_to_image_mirrored_worker.py")],
        capture_output=True, text=True, timeout=240, env=_env(), cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    results = _last_json_line(result.stdout)
    assert results["replicas"] == 2
    return results


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_image_to_image_steps_on_two_replicas_equal_one_device(image_to_image_mirrored, model):
    # 3 Adam steps of global batches of 8 from the same weights and seed: the
    # networks, both optimizers' moments and (CycleGAN) the pools, filled
    # past their size, so the pool's random swaps ran on both sides. Adam
    # turns summation-order differences of 1e-7 into a few 1e-6.
    assert image_to_image_mirrored[f"{model}_update_norm"] > 1.0
    assert image_to_image_mirrored[f"{model}_max_diff"] < 2e-5


def test_cyclegan_pool_under_two_replicas_holds_the_global_batch(image_to_image_mirrored):
    assert image_to_image_mirrored["cyclegan_pool_count"] == [12, 12]


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


# ------------------------------------------------- the CLI on a cluster
def _run_cluster(argv_for, timeout=300):
    """Runs `argv_for(index)` as workers 0 and 1 of a loopback cluster.

    Returns `[(returncode, stdout, stderr)]` per worker. Both processes are
    killed and reaped whatever happens (timeout included).
    """
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    try:
        for index in range(2):
            config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            processes.append(subprocess.Popen(argv_for(index), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True, env=_env(TF_CONFIG=config), cwd=REPO))
        deadline = time.monotonic() + timeout
        outputs = [p.communicate(timeout=max(1.0, deadline - time.monotonic())) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return [(p.returncode, out, err) for p, (out, err) in zip(processes, outputs)]


def _cli_worker(*options):
    return [sys.executable, os.path.join(TESTS, "_cli_worker.py"), *options, "--"]


@pytest.mark.parametrize("task", ["gan", "cyclegan"])
def test_the_documented_multiworker_command_trains_on_two_loopback_workers(tmp_path, task):
    # docs/scaling.md, "Several machines": every worker runs the same `keras-gan train
    # --strategy multiworker ... --out --export-to`, TF_CONFIG giving its place.
    # Each worker is given its own --out and --export-to, to see who writes;
    # tests/_cli_worker.py dumps each one's final weights outside them.
    # CycleGAN: its pools gather the global batch across the workers.
    flags = _task_flags(task, tmp_path)

    def argv(index):
        return _cli_worker("--dump-weights", str(tmp_path / f"weights_{index}.npz")) + [
            "train", "--strategy", "multiworker", *flags, "--epochs", "2", "--verbose", "0",
            "--out", str(tmp_path / f"run_{index}"), "--export-to", str(tmp_path / f"saved_{index}")]

    results = _run_cluster(argv)
    for code, _, err in results:
        assert code == 0, err[-4000:]
    assert "keras-gan: wrote" in results[0][1] and "keras-gan: wrote" not in results[1][1]
    chief, other = (np.load(tmp_path / f"weights_{index}.npz") for index in range(2))
    assert chief.files == other.files and any(k.startswith("optimizer_") for k in chief.files)
    for name in chief.files:  # networks, EMA copy, seed states, both optimizers
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)
    # 2 steps an epoch of the global batch, 2 epochs: 4 D updates in all, not 4 per worker.
    d_iterations = [k for k in chief.files if k.startswith("optimizer_")][0]
    assert int(chief[d_iterations]) == 4
    # Only the chief writes: its --out and export, nothing of the other's.
    run = tmp_path / "run_0"
    assert {"model.keras", "generator.keras", "log.csv", "resume"} <= set(os.listdir(run))
    assert [line.split(",")[0] for line in (run / "log.csv").read_text().splitlines()[1:]] == ["1", "2"]
    assert (tmp_path / "saved_0" / "1" / "saved_model.pb").is_file()
    assert not (tmp_path / "run_1").exists() and not (tmp_path / "saved_1").exists()
    # The chief's generator.keras is the generator every worker ends with.
    from keras_gan.training.saving import load_model

    saved = load_model(str(run / "generator.keras"), compile=False).get_weights()
    generator = [other[f"generator_{i}"] for i in range(len(saved))]
    assert len(saved) == len([k for k in other.files if k.startswith("generator_")])
    for a, b in zip(saved, generator):
        np.testing.assert_array_equal(a, b)


def _image_folders(root, n=7):
    """`root/A` and `root/B`: n 16x16 digits and their edge maps, the same file names in both."""
    from PIL import Image

    from keras_gan import data, images

    x, y = data.digits_translation_samples("edges", 16)
    for folder, domain in (("A", x[:n]), ("B", y[:n])):
        (root / folder).mkdir(parents=True)
        for i, image in enumerate(images.to_uint8(domain)):
            Image.fromarray(np.repeat(image, 3, axis=-1)).save(root / folder / f"{i}.png")
    return root


def _task_flags(task, tmp_path):
    """Small runs of each task: two steps an epoch, the last batch (3) uneven across 2 replicas."""
    if task == "gan":  # ring_2d: 10000 samples
        return ["--dataset", "ring_2d", "--batch-size", "5000"]
    return ["--task", task, "--dataset", "folder", "--image-folder", str(_image_folders(tmp_path / "data")),
            "--image-size", "16x16", "--batch-size", "4"]


@pytest.mark.parametrize("task", ["gan", "pix2pix", "cyclegan"])
def test_cli_trains_every_task_under_the_mirrored_strategy_on_two_replicas(tmp_path, task):
    # tests/_cli_worker.py makes `--strategy mirrored` mirror over 2 logical
    # CPUs, a split TensorFlow refuses after any op: the import of keras_gan and
    # everything the command does before its strategy must run no op.
    out = tmp_path / "run"
    result = subprocess.run(
        _cli_worker("--logical-cpus", "2") + ["train", "--strategy", "mirrored", *_task_flags(task, tmp_path),
                                              "--epochs", "1", "--verbose", "0", "--out", str(out)],
        capture_output=True, text=True, timeout=170, env=_env(), cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert {"model.keras", "generator.keras", "log.csv", "resume"} <= set(os.listdir(out))
    header, row = (line.split(",") for line in (out / "log.csv").read_text().splitlines())
    assert row[0] == "1" and "d_loss" in header and np.isfinite([float(v) for v in row[1:]]).all()
