"""keras_gan.serving: REST bodies and responses, gRPC requests, model config.

TF Serving itself is not installable here, so the REST round trips run the
export's own signatures in-process behind `tf_serving_rest`, which follows
TF Serving's JSON rules (tensorflow_serving/util/json_tensor.cc): row format
(`instances`, objects when named) or columnar (`inputs`); a signature's only
output is returned without its name; DT_STRING outputs whose name ends in
`_bytes` are written as `{"b64": ...}`. The last test runs the real
`tensorflow_model_server` when it is on PATH.
"""

import base64
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
import keras

import keras_gan
from keras_gan import cli, serving

LATENT = 5
SHAPE = (4, 4, 1)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(REPO, "saved_models", "digits")


# ------------------------------------------------- TF Serving's JSON, in-process
class _BadRequest(Exception):
    pass


def _leaves_ok(value, ok):
    if isinstance(value, list):
        return all(_leaves_ok(v, ok) for v in value)
    return ok(value)


def _tensor(value, spec):
    if spec.dtype == tf.string:
        def decode(v):
            if isinstance(v, list):
                return [decode(i) for i in v]
            if isinstance(v, dict) and set(v) == {"b64"}:
                return base64.b64decode(v["b64"])
            if isinstance(v, str):
                return v.encode()
            raise _BadRequest(f"JSON Value: {v!r} is not of expected type: string")
        return tf.constant(decode(value), tf.string)
    if spec.dtype.is_integer:
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    else:
        ok = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    if not _leaves_ok(value, ok):
        raise _BadRequest(f"JSON Value is not of expected type: {spec.dtype.name}")
    return tf.constant(value, spec.dtype)


def _json_value(name, array):
    if array.dtype == object:
        as_b64 = name.endswith("_bytes")
        encode = (lambda b: {"b64": base64.b64encode(b).decode()}) if as_b64 else (lambda b: b.decode())
        return np.vectorize(encode, otypes=[object])(array).tolist()
    return array.tolist()


def tf_serving_rest(signatures, body):
    """The JSON answer TF Serving gives to a `:predict` body, for these signatures."""
    try:
        doc = json.loads(body)
        fn = signatures.get(doc.get("signature_name", "serving_default"))
        if fn is None:
            raise _BadRequest(f"Serving signature name: {doc.get('signature_name')!r} not found")
        specs = fn.structured_input_signature[1]
        if ("instances" in doc) == ("inputs" in doc):
            raise _BadRequest("Missing 'inputs' or 'instances' key, or both given")
        if "instances" in doc:
            rows = doc["instances"]
            if isinstance(rows[0], dict) and set(rows[0]) != {"b64"}:
                for i, row in enumerate(rows):
                    if set(row) != set(specs):
                        raise _BadRequest(f"Failed to process element: {i} must only have keys: {sorted(specs)}")
                columns = {k: [row[k] for row in rows] for k in specs}
            elif len(specs) > 1:
                raise _BadRequest("instances is a plain list, but expecting list of objects")
            else:
                columns = {next(iter(specs)): rows}
        else:
            inputs = doc["inputs"]
            if isinstance(inputs, dict) and set(inputs) != {"b64"}:
                missing = set(specs) - set(inputs)
                if missing:
                    raise _BadRequest(f"Missing named input: {sorted(missing)} in 'inputs' object.")
                columns = {k: inputs[k] for k in specs}
            elif len(specs) > 1:
                raise _BadRequest("inputs is a plain value/list, but expecting an object")
            else:
                columns = {next(iter(specs)): inputs}
        try:
            outputs = fn(**{k: _tensor(v, specs[k]) for k, v in columns.items()})
        except tf.errors.InvalidArgumentError as e:
            raise _BadRequest(e.message) from None
    except _BadRequest as e:
        return json.dumps({"error": str(e)})
    outputs = {k: _json_value(k, v.numpy()) for k, v in sorted(outputs.items())}
    if "instances" in doc:
        n = len(next(iter(outputs.values())))
        if len(outputs) == 1:
            return json.dumps({"predictions": next(iter(outputs.values()))})
        return json.dumps({"predictions": [{k: v[i] for k, v in outputs.items()} for i in range(n)]})
    return json.dumps({"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs})


# ------------------------------- the stand-in against TF Serving's documented examples
# Quoted from TF Serving's REST API reference (tensorflow_serving/g3doc/api_rest.md,
# https://www.tensorflow.org/tfx/serving/api_rest): the predict request in row format
# ("instances", one object per instance with every named input) and its columnar
# equivalent ("inputs", one object of named tensors). The reference's row example has
# a stray "]" after the second "signal" list; it is dropped here.
DOC_ROW_REQUEST = """{
 "instances": [
   {
     "tag": "foo",
     "signal": [1, 2, 3, 4, 5],
     "sensor": [[1, 2], [3, 4]]
   },
   {
     "tag": "bar",
     "signal": [3, 4, 1, 2, 5],
     "sensor": [[4, 5], [6, 8]]
   }
 ]
}"""
DOC_COLUMNAR_REQUEST = """{
 "inputs": {
   "tag": ["foo", "bar"],
   "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
   "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]
 }
}"""
# The end-to-end example: half_plus_three, one input, one output (its name omitted).
DOC_HALF_PLUS_THREE = ('{"instances": [1.0,2.0,5.0]}', '{"predictions": [3.5, 4.0, 5.5]}')
# "Encoding binary values": binary values travel as {"b64": <base64 string>}, in
# requests and responses; outputs whose name ends in "_bytes" are binary.
DOC_B64_INSTANCES = [{"image": {"b64": "aW1hZ2UgYnl0ZXM="}, "caption": "seaside"},
                     {"image": {"b64": "YXdlc29tZSBpbWFnZSBieXRlcw=="}, "caption": "mountains"}]


def _doc_signatures(path):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="tag"),
                                  tf.TensorSpec([None, 5], tf.int32, name="signal"),
                                  tf.TensorSpec([None, 2, 2], tf.int32, name="sensor")])
    def sensors(tag, signal, sensor):
        return {"tag": tag, "total": tf.reduce_sum(signal, 1) + tf.reduce_sum(sensor, [1, 2])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def half_plus_three(x):
        return {"y": 0.5 * x + 3.0}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image"),
                                  tf.TensorSpec([None], tf.string, name="caption")])
    def echo(image, caption):
        return {"image_bytes": image, "caption": caption}

    module = tf.Module()
    tf.saved_model.save(module, str(path), signatures={"sensors": sensors, "serving_default": half_plus_three,
                                                       "echo": echo})
    return signatures(path)  # as TF Serving sees them: keyword inputs, named outputs


def test_the_rest_stand_in_answers_tf_servings_documented_examples_as_documented(tmp_path):
    sigs = _doc_signatures(tmp_path / "doc")
    # One input, one output: "predictions" is the list of values, the output's name omitted.
    request, response = DOC_HALF_PLUS_THREE
    assert json.loads(tf_serving_rest(sigs, request)) == json.loads(response)
    assert json.loads(tf_serving_rest(sigs, '{"inputs": [1.0,2.0,5.0]}')) == {"outputs": [3.5, 4.0, 5.5]}
    # Several named outputs: a list of objects for rows, an object of lists for columns.
    rows = json.loads(tf_serving_rest(sigs, json.dumps(dict(json.loads(DOC_ROW_REQUEST), signature_name="sensors"))))
    columns = json.loads(tf_serving_rest(sigs, json.dumps(dict(json.loads(DOC_COLUMNAR_REQUEST),
                                                               signature_name="sensors"))))
    assert rows == {"predictions": [{"tag": "foo", "total": 25}, {"tag": "bar", "total": 38}]}
    assert columns == {"outputs": {"tag": ["foo", "bar"], "total": [25, 38]}}
    # Binary values: b64 objects in, b64 objects out for "_bytes" outputs, plain strings otherwise.
    answer = json.loads(tf_serving_rest(sigs, json.dumps({"signature_name": "echo", "instances": DOC_B64_INSTANCES})))
    assert answer == {"predictions": [{"caption": "seaside", "image_bytes": {"b64": "aW1hZ2UgYnl0ZXM="}},
                                      {"caption": "mountains", "image_bytes": {"b64": "YXdlc29tZSBpbWFnZSBieXRlcw=="}}]}
    assert base64.b64decode("aW1hZ2UgYnl0ZXM=") == b"image bytes"
    # What the stand-in refuses, TF Serving refuses too: both keys, or neither.
    assert "error" in json.loads(tf_serving_rest(sigs, '{"instances": [1.0], "inputs": [1.0]}'))
    assert "error" in json.loads(tf_serving_rest(sigs, '{"signature_name": "serving_default"}'))


def test_the_client_builds_and_reads_the_documented_formats():
    # The numeric inputs of the documented request, in both formats.
    row, columnar = json.loads(DOC_ROW_REQUEST), json.loads(DOC_COLUMNAR_REQUEST)
    inputs = {"signal": np.array(columnar["inputs"]["signal"]), "sensor": np.array(columnar["inputs"]["sensor"])}
    assert serving.predict_body(inputs) == {
        "instances": [{k: instance[k] for k in inputs} for instance in row["instances"]]}
    assert serving.predict_body(inputs, format="inputs") == {"inputs": {k: columnar["inputs"][k] for k in inputs}}
    assert serving.predict_body({"image_bytes": [b"image bytes"]}) == {
        "instances": [{"image_bytes": {"b64": "aW1hZ2UgYnl0ZXM="}}]}
    np.testing.assert_allclose(serving.decode_response(DOC_HALF_PLUS_THREE[1]), [3.5, 4.0, 5.5])


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """An unconditional image export and a conditional one, side by side."""
    root = tmp_path_factory.mktemp("serving")
    keras.utils.set_random_seed(0)
    g = keras_gan.networks.dcgan_generator(LATENT, SHAPE, filters=2)
    keras_gan.export_generator(g, root / "images")
    nets = keras_gan.networks
    gan = keras_gan.GAN(nets.conditional_generator("dcgan", LATENT, SHAPE, 3, filters=2),
                        nets.conditional_discriminator("dcgan", SHAPE, 3, filters=2), num_classes=3)
    keras_gan.export_generator(gan, root / "conditional")
    return root


def signatures(path):
    return dict(tf.saved_model.load(keras_gan.inference.resolve_version_dir(path)).signatures)


# ---------------------------------------------------------------- REST body
def test_predict_body_builds_row_and_columnar_formats():
    z = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    assert serving.predict_body({"z": z}) == {"instances": [{"z": [0.5, -1.0]}, {"z": [2.0, 0.25]}]}
    assert serving.predict_body({"z": z}, format="inputs") == {"inputs": {"z": [[0.5, -1.0], [2.0, 0.25]]}}
    body = serving.predict_body({"seeds": [1, 2], "label": np.array([0, 2])}, "generate_from_seeds")
    assert body == {"signature_name": "generate_from_seeds",
                    "instances": [{"seeds": 1, "label": 0}, {"seeds": 2, "label": 2}]}
    assert serving.predict_body({"x_bytes": [b"\x00\xff"]}) == {"instances": [{"x_bytes": {"b64": "AP8="}}]}
    trailing_zero = serving.predict_body({"x_bytes": [b"a\x00"]}, format="inputs")["inputs"]["x_bytes"][0]
    assert base64.b64decode(trailing_zero["b64"]) == b"a\x00"


def test_predict_body_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`format`: expected one of \('instances', 'inputs'\). Received: format='rows'"):
        serving.predict_body({"z": [[0.0]]}, format="rows")
    with pytest.raises(ValueError, match=r"`inputs`: expected a dict"):
        serving.predict_body([[0.0]])
    with pytest.raises(ValueError, match=r"same batch size for every input. Received batch sizes \{'seeds': 2, 'label': 1\}"):
        serving.predict_body({"seeds": [1, 2], "label": [0]})
    with pytest.raises(ValueError, match=r"expected a batch .* for input `seeds`"):
        serving.predict_body({"seeds": 3})


def test_decode_response_reads_both_formats_named_outputs_and_errors():
    np.testing.assert_array_equal(serving.decode_response('{"predictions": [[1.5], [2.0]]}'),
                                  np.array([[1.5], [2.0]], np.float32))
    out = serving.decode_response(b'{"outputs": {"a": [1, 2], "png_bytes": [{"b64": "AAE="}]}}')
    np.testing.assert_array_equal(out["a"], [1, 2])
    assert out["png_bytes"].dtype == object and out["png_bytes"][0] == b"\x00\x01"
    rows = serving.decode_response({"predictions": [{"a": 1.0, "b": 2}, {"a": 3.0, "b": 4}]})
    assert rows["a"].dtype == np.float32 and rows["b"].tolist() == [2, 4]
    with pytest.raises(serving.ServingError, match="signature name"):
        serving.decode_response('{"error": "Serving signature name: x not found"}')
    with pytest.raises(ValueError, match=r"`response`: expected a JSON object with `predictions` or `outputs`"):
        serving.decode_response("{}")


# ------------------------------------------------------------ REST round trips
@pytest.mark.parametrize("format", serving.FORMATS)
def test_rest_round_trip_of_every_signature_equals_running_it(exports, format):
    sigs = signatures(exports / "images")
    z = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    seeds = np.array([4, 5, 6], np.int64)
    cases = [("serving_default", {"z": z}, "images"),
             ("generate_from_seeds", {"seeds": seeds}, "images"),
             ("images_png", {"seeds": seeds}, "png_bytes")]
    for name, inputs, output in cases:
        body = json.dumps(serving.predict_body(inputs, name, format))
        answer = tf_serving_rest(sigs, body)
        decoded = serving.decode_response(answer)
        direct = sigs[name](**{k: tf.constant(v) for k, v in inputs.items()})[output].numpy()
        if output == "png_bytes":
            assert '"b64"' in answer  # binary outputs travel base64-encoded
            assert decoded.dtype == object and list(decoded) == list(direct)
            assert decoded[0].startswith(b"\x89PNG")
        else:
            assert decoded.dtype == np.float32 and decoded.shape == (3,) + SHAPE
            np.testing.assert_array_equal(decoded, direct)  # JSON keeps float32 exactly


@pytest.mark.parametrize("format", serving.FORMATS)
def test_rest_round_trip_of_a_conditional_export_sends_labels(exports, format):
    sigs = signatures(exports / "conditional")
    inputs = {"seeds": [9, 9, 9], "label": [0, 1, 2]}
    decoded = serving.decode_response(tf_serving_rest(
        sigs, json.dumps(serving.predict_body(inputs, "generate_from_seeds", format))))
    np.testing.assert_array_equal(decoded, keras_gan.load_generator(exports / "conditional").from_seeds(
        [9, 9, 9], labels=[0, 1, 2]))
    assert np.abs(decoded[0] - decoded[2]).max() > 1e-5
    missing = tf_serving_rest(sigs, json.dumps(serving.predict_body({"seeds": [9]}, "generate_from_seeds", format)))
    with pytest.raises(serving.ServingError):
        serving.decode_response(missing)


@pytest.fixture
def rest_server(exports):
    """A loopback HTTP server answering `:predict` like TF Serving for the exports."""
    models = {name: signatures(exports / name) for name in ("images", "conditional")}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            name = self.path.split("/v1/models/")[1].split(":")[0].split("/")[0]
            answer = tf_serving_rest(models[name], self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(400 if '"error"' in answer[:10] else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_rest_predict_posts_over_http_and_decodes(exports, rest_server):
    pngs = serving.rest_predict(rest_server, "images", {"seeds": [1, 2]}, "images_png", version=1)
    expected = keras_gan.load_generator(exports / "images").png_from_seeds([1, 2])
    assert list(pngs) == expected
    images = serving.rest_predict(rest_server, "images", {"z": np.zeros((2, LATENT))}, format="inputs")
    assert images.shape == (2,) + SHAPE
    with pytest.raises(serving.ServingError, match=r"HTTP 400 .*not found"):
        serving.rest_predict(rest_server, "images", {"z": np.zeros((1, LATENT))}, "nope")
    assert serving.rest_url("http://h:8501/", "digits", 3) == "http://h:8501/v1/models/digits/versions/3:predict"


# ---------------------------------------------------------------------- gRPC
def test_grpc_predict_round_trip_through_a_loopback_prediction_service(exports):
    pytest.importorskip("tensorflow_serving", reason="needs the serving extra: pip install keras-gan[serving]")
    import grpc
    from concurrent import futures
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    sigs = signatures(exports / "conditional")
    request = serving.grpc_predict_request("conditional", {"seeds": [3, 4], "label": [1, 2]},
                                           "generate_from_seeds", version=1)
    assert request.model_spec.name == "conditional" and request.model_spec.version.value == 1
    assert request.inputs["seeds"].dtype == tf.int64.as_datatype_enum
    assert request.inputs["label"].dtype == tf.int32.as_datatype_enum

    class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, req, context):
            fn = sigs[req.model_spec.signature_name]
            out = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in req.inputs.items()})
            response = predict_pb2.PredictResponse()
            for k, v in out.items():
                response.outputs[k].CopyFrom(tf.make_tensor_proto(v.numpy()))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        out = serving.grpc_predict(f"127.0.0.1:{port}", "conditional", {"seeds": [3, 4], "label": [1, 2]},
                                   "generate_from_seeds", timeout=30)
    finally:
        server.stop(0)
    expected = keras_gan.load_generator(exports / "conditional").from_seeds([3, 4], labels=[1, 2])
    np.testing.assert_array_equal(out["images"], expected)


# -------------------------------------------------------------- model config
def test_serving_config_lists_every_export_and_parses_as_model_server_config(exports, capsys):
    (exports / "not_a_model").mkdir(exist_ok=True)
    (exports / ".tmp-keras-gan-x").mkdir(exist_ok=True)
    assert cli.main(["serving-config", str(exports), "--base-path", "/models"]) == 0
    text = capsys.readouterr().out
    assert text == serving.model_config(str(exports), base_path="/models")
    config_pb2 = pytest.importorskip("tensorflow_serving.config.model_server_config_pb2")
    from google.protobuf import text_format

    config = text_format.Parse(text, config_pb2.ModelServerConfig())
    entries = {(c.name, c.base_path, c.model_platform) for c in config.model_config_list.config}
    assert entries == {("conditional", "/models/conditional", "tensorflow"),
                       ("images", "/models/images", "tensorflow")}
    local = text_format.Parse(serving.model_config(str(exports)), config_pb2.ModelServerConfig())
    assert {c.base_path for c in local.model_config_list.config} == {
        str(exports / "conditional"), str(exports / "images")}


def test_serving_config_of_a_directory_without_exports_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"`directory`: expected subdirectories holding exported generators"):
        serving.model_config(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"`directory`.*does not exist"):
        serving.model_config(str(tmp_path / "nope"))


# ------------------------------------------------------------ real TF Serving
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("tensorflow_model_server") is None,
                    reason="tensorflow_model_server is not on PATH (not installable here; "
                           "use the tensorflow/serving docker image)")
def test_real_tf_serving_answers_rest_predict_for_the_shipped_model(tmp_path):
    rest, grpc_port = _free_port(), _free_port()
    server = subprocess.Popen(
        ["tensorflow_model_server", f"--port={grpc_port}", f"--rest_api_port={rest}",
         "--model_name=digits", f"--model_base_path={SHIPPED}"],
        stdout=open(tmp_path / "server.log", "wb"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{rest}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/models/digits", timeout=2) as r:
                    if '"AVAILABLE"' in r.read().decode():
                        break
            except OSError:
                pass
            assert time.time() < deadline and server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            time.sleep(0.5)
        local = keras_gan.load_generator(SHIPPED)
        images = serving.rest_predict(url, "digits", {"seeds": [0, 1, 2]}, "generate_from_seeds")
        np.testing.assert_allclose(images, local.from_seeds([0, 1, 2]), atol=1e-5)
        pngs = serving.rest_predict(url, "digits", {"seeds": [0]}, "images_png", format="inputs")
        assert list(pngs) == local.png_from_seeds([0])
    finally:
        server.terminate()
        server.wait(timeout=30)
