"""Smoke runs of the speed benchmarks (benchmarks/throughput.py, inference.py, pipeline.py).

Each script's `main(["--smoke"])` runs in this process (no second TensorFlow
start-up), exactly as `python benchmarks/<script> --smoke` would.
"""

import time

import keras
import numpy as np
import pytest
from keras import ops

import keras_gan

from _benchmarks import load_benchmark


def run_smoke(script, capsys):
    load_benchmark(script).main(["--smoke"])
    return capsys.readouterr().out


def table_rows(stdout, first_column):
    return [[cell.strip() for cell in line.strip("|").split("|")]
            for line in stdout.splitlines() if line.startswith(f"| {first_column} ")]


def _network_weights(model):
    return [[np.array(w) for w in net.get_weights()] for net in (model.generator, model.discriminator)]


def test_throughput_smoke_run_measures_every_variant_against_the_baseline(capsys):
    throughput = load_benchmark("throughput.py")
    trained = {}
    throughput.main(["--smoke"], trained=trained)
    stdout = capsys.readouterr().out
    # Each variant trained: G and D moved from their seed-fixed start, the losses are finite.
    for variant, model in trained.items():
        start = _network_weights(throughput.build(variant, "toy2d", 2, 8, 2))
        for net, old, new in zip(("G", "D"), start, _network_weights(model)):
            moved = max(float(np.max(np.abs(a - b))) for a, b in zip(old, new))
            assert moved > 1e-5, (variant, net, moved)
        losses = {k: float(v) for k, v in model.get_metrics_result().items() if "loss" in k}
        assert {"d_loss", "g_loss"} <= set(losses) and all(np.isfinite(list(losses.values()))), (variant, losses)
    # Same steps, same math: Keras' own loop and Keras' per-op Adam give default's weights
    # (float rounding only), and `fast` is `reuse_fakes` with several steps per call.
    for variant, rtol in (("keras_loop", 1e-6), ("keras_adam", 1e-4)):
        for a, b in zip(sum(_network_weights(trained["default"]), []), sum(_network_weights(trained[variant]), [])):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, err_msg=variant)
    reuse = throughput.build("reuse", "toy2d", 2, 8, 2)
    reuse.fit(throughput.in_memory_data("toy2d", 16), epochs=1, steps_per_epoch=8, verbose=0)  # fast's 4 + 4 warm-up
    for a, b in zip(sum(_network_weights(trained["fast"]), []), sum(_network_weights(reuse), [])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg="fast vs reuse")
    rows = [r for r in table_rows(stdout, "toy2d") if len(r) == 12]
    assert [r[3] for r in rows] == ["baseline", "default", "keras_adam", "keras_loop", "fast", "fast_bf16", "pipeline"], stdout
    by_variant = {r[3]: r for r in rows}
    assert by_variant["baseline"][7] == by_variant["baseline"][8] == "1.00"  # x base, paired
    assert by_variant["default"][4] == "off"  # no XLA by default for the toy nets
    for row in rows:
        assert float(row[5]) > 0 and float(row[9]) > 0  # img/s, img/CPU-s
        # One repeat: the paired ratio is the ratio of the two runs' speeds.
        assert abs(float(row[8]) - float(row[5]) / float(by_variant["baseline"][5])) < 0.02, row
    summary = [r for r in table_rows(stdout, "toy2d") if len(r) == 8]
    # The fastest float32 and bfloat16 variants, each with its ratio to the baseline.
    assert len(summary) == 1 and summary[0][4:] == [
        "fast", by_variant["fast"][7], "fast_bf16", by_variant["fast_bf16"][7]], stdout


def test_inference_smoke_run_times_every_path_and_the_batch_1_latency(capsys):
    # One path made 50 ms slower per call: the timings must show it, and only it.
    inference = load_benchmark("inference.py")
    make_callers, delay = inference.make_callers, 0.05

    def with_a_slow_path(generator, exported):
        callers = make_callers(generator, exported)
        fast = callers["keras G(z)"]

        def slow(z):
            time.sleep(delay)
            return fast(z)

        return {**callers, "keras G(z)": slow}

    inference.make_callers = with_a_slow_path
    inference.main(["--smoke"])
    rows = table_rows(capsys.readouterr().out, "mlp28")
    paths = ["load_generator", "serving_default", "keras G(z)", "keras predict_on_batch"]
    assert [(r[1], r[2]) for r in rows] == [(p, b) for b in ("1", "8") for p in paths], rows
    for network, path, batch, speed, spread, p50, p99 in rows:
        slow = path == "keras G(z)"
        # img/s: at most batch / delay on the slow path; the tiny MLP's others run far faster.
        assert (float(speed) <= int(batch) / delay) if slow else (float(speed) > 2 * int(batch) / delay), path
        if batch == "1":
            assert (float(p50) >= 1000 * delay) if slow else (float(p50) < 1000 * delay / 2), (path, p50)


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


class _CountSamples(keras.layers.Layer):
    """Identity; adds the number of samples of every call to `seen`."""

    def build(self, input_shape):
        self.seen = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="seen")

    def call(self, x):
        self.seen.assign_add(ops.shape(x)[0])
        return x


def _counting_discriminator():
    x = keras.Input((2,))
    count = _CountSamples()
    h = keras.layers.Dense(8, activation="relu")(count(x))
    return keras.Model(x, keras.layers.Dense(1)(h)), count


@pytest.mark.parametrize("batch_size, d_steps", [(64, 5), (256, 5), (10, 1)])
def test_throughput_baseline_does_the_same_discriminator_work_as_the_gan(batch_size, d_steps):
    # A ratio to the baseline is only fair if both D's see the same samples per
    # batch: every real (and as many fakes) over the k updates, plus G's fakes.
    throughput = load_benchmark("throughput.py")
    batch = np.random.default_rng(0).normal(size=(batch_size, 2)).astype("float32")
    seen = {}
    for name in ("baseline", "gan"):
        keras.utils.set_random_seed(0)
        generator = keras_gan.networks.toy_generator(8, 2, units=(8,))
        discriminator, count = _counting_discriminator()
        if name == "baseline":
            model = throughput.BaselineGAN(discriminator, generator, 8, d_steps)
            model.compile(keras.optimizers.Adam(), keras.optimizers.Adam(),
                          keras.losses.BinaryCrossentropy(from_logits=True))
        else:
            model = keras_gan.GAN(generator, discriminator, seed=0)
            model.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), d_steps=d_steps)
        count.seen.assign(0)
        model.fit(batch, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        seen[name] = int(count.seen.numpy())
    assert seen["baseline"] == seen["gan"] == 2 * batch_size + batch_size // d_steps, seen


def test_throughput_pytorch_variant_is_refused_outside_the_users_mlp_loop(capsys):
    throughput = load_benchmark("throughput.py")
    with pytest.raises(SystemExit) as exit_info:
        throughput.main(["--variants", "pytorch", "--networks", "toy2d", "--d-steps", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--variants pytorch" in err and "--networks mlp28 --d-steps 1" in err and "received --networks toy2d" in err


def test_throughput_pytorch_variant_trains_the_users_loop(capsys):
    pytest.importorskip("torch", reason="the pytorch variant needs PyTorch, not a test dependency")
    throughput = load_benchmark("throughput.py")
    throughput.main(["--networks", "mlp28", "--d-steps", "1", "--batch-sizes", "8", "--variants", "baseline",
                     "pytorch", "--steps", "3", "--repeats", "1", "--width", "8"])
    rows = {r[3]: r for r in table_rows(capsys.readouterr().out, "mlp28") if len(r) == 12}
    assert set(rows) == {"baseline", "pytorch"} and float(rows["pytorch"][5]) > 0
    # Both of its networks train.
    gan = throughput.TorchMLPGAN((28, 28, 1), 100, 8)
    before = [[p.detach().clone() for p in net.parameters()] for net in (gan.generator, gan.discriminator)]
    gan.fit(throughput.in_memory_data("mlp28", 8), steps_per_epoch=2)
    for net, params in zip((gan.generator, gan.discriminator), before):
        assert all(not p.equal(q) for p, q in zip(net.parameters(), params)), net


@pytest.mark.parametrize("network", ["dcgan28", "dcgan64"])
def test_throughput_pytorch_dcgan_has_the_builders_shapes_and_trains(network):
    pytest.importorskip("torch", reason="the pytorch variant needs PyTorch, not a test dependency")
    import torch

    throughput = load_benchmark("throughput.py")
    builder, shape, latent_dim = throughput.NETWORKS[network]
    generator, discriminator = builder(shape, latent_dim, 8)
    gan = throughput.TorchDCGAN(shape, latent_dim, 8, d_steps=2)
    # The same layers: every weight tensor of Keras' networks has a PyTorch
    # counterpart of the same size (kernels transposed), BatchNorm's moving
    # statistics being buffers in PyTorch.
    for keras_net, torch_net in ((generator, gan.generator), (discriminator, gan.discriminator)):
        keras_sizes = sorted(int(np.prod(w.shape)) for w in keras_net.trainable_weights)
        torch_sizes = sorted(p.numel() for p in torch_net.parameters())
        assert keras_sizes == torch_sizes, (keras_net.name, keras_sizes, torch_sizes)
    fakes = gan.generator(torch.randn(4, latent_dim))
    assert tuple(fakes.shape) == (4, shape[2], shape[0], shape[1])
    assert tuple(gan.discriminator(fakes).shape) == (4, 1)
    before = [[p.detach().clone() for p in net.parameters()] for net in (gan.generator, gan.discriminator)]
    gan.fit(throughput.in_memory_data(network, 8), steps_per_epoch=2)
    for net, params in zip((gan.generator, gan.discriminator), before):
        assert all(not p.equal(q) for p, q in zip(net.parameters(), params)), net
    # G's phase leaves D trainable again and computes no gradient for D.
    assert all(p.requires_grad for p in gan.discriminator.parameters())
