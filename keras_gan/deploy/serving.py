"""Clients for a generator served by TensorFlow Serving, and its model config.

- REST: `predict_body` builds a `:predict` request body in the row
  (`"instances"`) or columnar (`"inputs"`) format, `decode_response` turns
  the JSON answer into numpy (string outputs whose name ends in `_bytes`,
  such as `png_bytes`, come back as `{"b64": ...}` and are decoded to
  `bytes`), and `rest_predict` does both around one HTTP POST (standard
  library only).
- gRPC (optional extra, `pip install keras-gan[serving]`, which brings
  `tensorflow-serving-api`): `grpc_predict_request`, `decode_grpc_response`
  and `grpc_predict`.
- `model_config(directory)`: a `--model_config_file` serving every exported
  generator under a directory (`keras-gan serving-config saved_models/`).

Example:

```python
from keras_gan import serving
images = serving.rest_predict("http://localhost:8501", "digits",
                              {"seeds": [0, 1, 2]},
                              signature_name="generate_from_seeds")
```
"""

import base64
import json
import os
import urllib.error
import urllib.request

import numpy as np

FORMATS = ("instances", "inputs")


class ServingError(RuntimeError):
    """TF Serving answered with an error (`{"error": ...}` or a gRPC status)."""


# -------------------------------------------------------------------- REST
def _check_inputs(inputs):
    if not isinstance(inputs, dict) or not inputs:
        raise ValueError(
            "Invalid value for argument `inputs`: expected a dict from input name to a "
            f"batch of values, e.g. {{'z': z}}. Received: inputs={inputs!r}"
        )
    arrays = {}
    for name, value in inputs.items():
        if not isinstance(value, np.ndarray):
            array = np.asarray(value)
            # A fixed-width bytes array would drop trailing zero bytes.
            value = np.array(value, dtype=object) if array.dtype.kind == "S" else array
        if value.ndim == 0:
            raise ValueError(
                f"Invalid value for argument `inputs`: expected a batch (a list or an "
                f"array with a first, batch dimension) for input `{name}`. "
                f"Received: a scalar {value!r}"
            )
        arrays[name] = value
    return arrays


def _to_json_value(value):
    """A numpy array as nested lists; bytes as TF Serving's `{"b64": ...}`."""
    if value.dtype.kind in ("S", "O"):
        def encode(item):
            if isinstance(item, (bytes, np.bytes_)):
                return {"b64": base64.b64encode(bytes(item)).decode("ascii")}
            return item
        return np.vectorize(encode, otypes=[object])(value).tolist()
    if value.dtype.kind == "f":
        return value.astype(np.float64).tolist()
    return value.tolist()


def predict_body(inputs, signature_name=None, format="instances"):
    """Builds a TF Serving REST `:predict` request body.

    Args:
        inputs: a dict from the signature's input names to batches of
            values, e.g. `{"z": z}` or `{"seeds": [1, 2], "label": [3, 3]}`.
            Bytes values are sent base64-encoded.
        signature_name: the signature to run; None for `serving_default`.
        format: `"instances"` (row format: one object per sample; every
            input must have the same batch size) or `"inputs"` (columnar
            format: one batch per input name).

    Returns:
        A JSON-serialisable dict, to send with `json.dumps`.

    Example:

    ```python
    body = predict_body({"seeds": [0, 1]}, signature_name="generate_from_seeds")
    # {"signature_name": "generate_from_seeds", "instances": [{"seeds": 0}, {"seeds": 1}]}
    ```
    """
    if format not in FORMATS:
        raise ValueError(
            f"Invalid value for argument `format`: expected one of {FORMATS}. "
            f"Received: format={format!r}"
        )
    arrays = _check_inputs(inputs)
    body = {} if signature_name is None else {"signature_name": str(signature_name)}
    if format == "inputs":
        body["inputs"] = {name: _to_json_value(a) for name, a in arrays.items()}
        return body
    sizes = {name: len(a) for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(
            "Invalid value for argument `inputs`: the row (`instances`) format needs "
            f"the same batch size for every input. Received batch sizes {sizes}"
        )
    columns = {name: _to_json_value(a) for name, a in arrays.items()}
    n = next(iter(sizes.values()))
    if n == 0:
        raise ValueError("Invalid value for argument `inputs`: expected at least one sample. Received: empty batches")
    body["instances"] = [{name: column[i] for name, column in columns.items()} for i in range(n)]
    return body


def _from_json_value(value):
    """Nested lists of JSON values to numpy: floats to float32, b64 objects to bytes."""
    def is_b64(item):
        return isinstance(item, dict) and set(item) == {"b64"}

    def decode(item):
        if is_b64(item):
            return base64.b64decode(item["b64"])
        if isinstance(item, list):
            return [decode(i) for i in item]
        return item

    decoded = decode(value)
    first = decoded
    while isinstance(first, list) and first:
        first = first[0]
    if isinstance(first, (bytes, str)):
        # dtype=object: a fixed-width "S" array would drop trailing zero bytes.
        return np.array(decoded, dtype=object)
    array = np.asarray(decoded)
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    return array


def decode_response(response):
    """Decodes a TF Serving REST `:predict` response to numpy.

    Args:
        response: the response body, as a `str`/`bytes` of JSON or an
            already parsed dict, in the row (`"predictions"`) or columnar
            (`"outputs"`) format.

    Returns:
        A numpy array when the signature has one output (TF Serving then
        drops its name, as for every keras_gan signature), else a dict from
        output name to numpy array. Float outputs come back as float32,
        `_bytes` outputs as an object array of `bytes`.

    Raises:
        ServingError: when the response is `{"error": ...}`.

    Example:

    ```python
    decode_response('{"predictions": [[0.5, -0.5]]}')
    # array([[ 0.5, -0.5]], dtype=float32)
    ```
    """
    if isinstance(response, (bytes, bytearray)):
        response = response.decode("utf-8")
    if isinstance(response, str):
        response = json.loads(response)
    if not isinstance(response, dict):
        raise ValueError(
            "Invalid value for argument `response`: expected a JSON object with "
            f"`predictions` or `outputs`. Received: {type(response).__name__}"
        )
    if "error" in response:
        raise ServingError(f"TF Serving returned an error: {response['error']}")
    if "predictions" in response:
        rows = response["predictions"]
        if rows and isinstance(rows[0], dict) and not set(rows[0]) == {"b64"}:
            return {name: _from_json_value([row[name] for row in rows]) for name in rows[0]}
        return _from_json_value(rows)
    if "outputs" in response:
        outputs = response["outputs"]
        if isinstance(outputs, dict) and set(outputs) != {"b64"}:
            return {name: _from_json_value(value) for name, value in outputs.items()}
        return _from_json_value(outputs)
    raise ValueError(
        "Invalid value for argument `response`: expected a JSON object with `predictions` "
        f"or `outputs`. Received keys {sorted(response)}"
    )


def rest_url(server, model_name, version=None):
    """The `:predict` URL of a model: `SERVER/v1/models/NAME[/versions/N]:predict`."""
    url = f"{server.rstrip('/')}/v1/models/{model_name}"
    if version is not None:
        url += f"/versions/{int(version)}"
    return url + ":predict"


def rest_predict(server, model_name, inputs, signature_name=None, format="instances",
                 version=None, timeout=30.0):
    """Runs a REST `:predict` request and returns the single output as numpy.

    Args:
        server: the REST endpoint, e.g. `"http://localhost:8501"`.
        model_name: the served model's name.
        inputs: a dict from input name to a batch of values (see
            `predict_body`).
        signature_name: the signature; None for `serving_default`.
        format: `"instances"` or `"inputs"`.
        version: a model version; None for the latest one served.
        timeout: seconds to wait for the answer.

    Returns:
        The decoded response (see `decode_response`): for keras_gan's
        signatures the numpy array of their one output (`images`: float32;
        `png_bytes`: an object array of PNG `bytes`).

    Example:

    ```python
    pngs = rest_predict("http://localhost:8501", "digits", {"seeds": [1, 2]},
                        signature_name="images_png")
    ```
    """
    body = json.dumps(predict_body(inputs, signature_name, format)).encode("utf-8")
    request = urllib.request.Request(
        rest_url(server, model_name, version), data=body,
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            payload = answer.read()
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            message = json.loads(payload)["error"]
        except (ValueError, KeyError, TypeError):
            message = payload[:500].decode("utf-8", "replace")
        raise ServingError(f"HTTP {error.code} from {request.full_url}: {message}") from None
    return decode_response(payload)


# -------------------------------------------------------------------- gRPC
def _serving_apis():
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    except ImportError as error:
        raise ImportError(
            "gRPC clients need the `serving` extra: `pip install keras-gan[serving]` "
            f"(tensorflow-serving-api and grpcio). Import failed with: {error}"
        ) from None
    return predict_pb2, prediction_service_pb2_grpc


def grpc_predict_request(model_name, inputs, signature_name="serving_default", version=None,
                         dtypes=None):
    """Builds a `tensorflow_serving.apis.predict_pb2.PredictRequest`.

    Args:
        model_name: the served model's name.
        inputs: a dict from input name to a batch of values.
        signature_name: the signature to run.
        version: a model version; None for the latest one.
        dtypes: a dict from input name to a dtype; by default float inputs
            are sent as float32, `seeds` as int64 and `label` as int32 (the
            export's signatures).

    Returns:
        A `PredictRequest`.

    Example:

    ```python
    request = grpc_predict_request("digits", {"seeds": [1, 2]}, "generate_from_seeds")
    ```
    """
    import tensorflow as tf

    predict_pb2, _ = _serving_apis()
    defaults = {"seeds": np.int64, "label": np.int32}
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in _check_inputs(inputs).items():
        dtype = (dtypes or {}).get(name) or defaults.get(name)
        if dtype is None and value.dtype.kind == "f":
            dtype = np.float32
        request.inputs[name].CopyFrom(
            tf.make_tensor_proto(value if dtype is None else value.astype(dtype))
        )
    return request


def decode_grpc_response(response):
    """A `PredictResponse` as a dict from output name to numpy array."""
    import tensorflow as tf

    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def grpc_predict(target, model_name, inputs, signature_name="serving_default", version=None,
                 timeout=30.0):
    """Runs a gRPC Predict call (needs `pip install keras-gan[serving]`).

    Args:
        target: the gRPC address, e.g. `"localhost:8500"`.
        model_name: the served model's name.
        inputs: a dict from input name to a batch of values.
        signature_name: the signature to run.
        version: a model version; None for the latest one.
        timeout: seconds to wait.

    Returns:
        A dict from output name to numpy array.

    Example:

    ```python
    out = grpc_predict("localhost:8500", "digits", {"seeds": [0]}, "generate_from_seeds")
    out["images"].shape  # (1, 8, 8, 1)
    ```
    """
    import grpc

    _, service = _serving_apis()
    request = grpc_predict_request(model_name, inputs, signature_name, version)
    with grpc.insecure_channel(target) as channel:
        stub = service.PredictionServiceStub(channel)
        try:
            response = stub.Predict(request, timeout=timeout)
        except grpc.RpcError as error:
            raise ServingError(f"gRPC Predict failed: {error.code()}: {error.details()}") from None
    return decode_grpc_response(response)


# ------------------------------------------------------------- model config
def exported_models(directory):
    """The exported generators directly under `directory`, by name.

    A subdirectory is a model when it holds at least one integer version
    directory with a `saved_model.pb`.

    Args:
        directory: e.g. `"saved_models"`.

    Returns:
        A dict from model name (the subdirectory's name) to its absolute
        base path, sorted by name.
    """
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Invalid value for argument `directory`: expected a directory of exported "
            f"generators. Received: directory={directory!r}, which does not exist"
        )
    models = {}
    for name in sorted(os.listdir(directory)):
        base = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isdir(base):
            continue
        if any(
            v.isdigit() and os.path.isfile(os.path.join(base, v, "saved_model.pb"))
            for v in os.listdir(base)
        ):
            models[name] = os.path.abspath(base)
    return models


def model_config(directory, base_path=None):
    """A TF Serving `--model_config_file` serving every generator in `directory`.

    Args:
        directory: a directory of exported generators (one subdirectory per
            model, each with integer versions), e.g. `"saved_models"`.
        base_path: the directory as the server sees it, e.g. `"/models"`
            when it is mounted there in the `tensorflow/serving` container;
            None for its absolute path here.

    Returns:
        The config text (protobuf text format of `ModelServerConfig`).

    Example:

    ```python
    open("models.config", "w").write(model_config("saved_models", base_path="/models"))
    ```
    """
    models = exported_models(directory)
    if not models:
        raise ValueError(
            f"Invalid value for argument `directory`: expected subdirectories holding "
            f"exported generators (NAME/<version>/saved_model.pb). Received: "
            f"directory={directory!r} with none"
        )
    lines = ["model_config_list {"]
    for name, path in models.items():
        if base_path is not None:
            path = base_path.rstrip("/") + "/" + name
        lines += [
            "  config {",
            f"    name: {json.dumps(name)}",
            f"    base_path: {json.dumps(path)}",
            '    model_platform: "tensorflow"',
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"
