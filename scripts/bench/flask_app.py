"""The reference server for scripts/bench.sh: the bundled SavedModel served the way the original
Keras-behind-Flask projects served theirs — one Keras model per process, `model.predict(...)` per
request — under gunicorn (sync workers, one per core).

It answers the TensorFlow Serving row format on the same route as the Java service, so the same
load generator scripts drive both:

    POST /v1/models/<name>:predict   {"instances": ["text", ...]}  ->  {"predictions": [[p], ...]}
    GET  /v2/health/ready            {"ready": true}

Run: MODEL_DIR=models/imdb-sentiment/1 gunicorn -w "$(nproc)" -b 127.0.0.1:8501 \
       --chdir scripts/bench flask_app:app

MODE=predict (default) calls `model.predict(tf.constant(texts), verbose=0)`, as those projects
did. MODE=call calls the Keras model directly (`model(x, training=False)`), skipping predict's
per-call machinery. MODE=signature is the strongest reference: no Keras at all, the SavedModel's
`serving_default` concrete function called directly (`tf.saved_model.load(dir).signatures[...]`),
with TensorFlow's thread pools sized for one worker per core (TF_INTRA_OP_THREADS and
TF_INTER_OP_THREADS, default 1 each: gunicorn runs one worker per core, so bigger pools only make
the workers fight over the same cores). scripts/bench.sh runs it under sync workers and under
threaded workers that keep connections alive (`-k gthread`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

MODEL_DIR = os.environ.get("MODEL_DIR", "models/imdb-sentiment/1")
MODEL_NAME = os.environ.get("MODEL_NAME", "imdb-sentiment")
MODE = os.environ.get("MODE", "predict")

if MODE not in ("predict", "call", "signature"):
    raise SystemExit(f"MODE must be predict, call or signature, not {MODE!r}")

if MODE == "signature":
    # Thread pools must be set before TensorFlow runs anything.
    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("TF_INTRA_OP_THREADS", "1")))
    tf.config.threading.set_inter_op_parallelism_threads(int(os.environ.get("TF_INTER_OP_THREADS", "1")))
    _signature = tf.saved_model.load(MODEL_DIR).signatures["serving_default"]
    model = None
else:
    # Keras 3 cannot load_model() a SavedModel; TFSMLayer wraps its serving signature as a layer.
    _text = keras.Input(shape=(1,), dtype="string", name="text")
    _layer = keras.layers.TFSMLayer(MODEL_DIR, call_endpoint="serving_default")
    _out = _layer(_text)
    model = keras.Model(_text, _out["output_0"] if isinstance(_out, dict) else _out)


def _scores(texts):
    x = tf.constant([[t] for t in texts], dtype=tf.string)
    if MODE == "signature":
        y = _signature(text=x)["output_0"]
    elif MODE == "predict":
        y = model.predict(x, verbose=0)
    else:
        y = model(x, training=False)
    return np.asarray(y, dtype=np.float32).reshape(len(texts), -1)


# One call before serving, like the Java service's warm-up, so no request pays for tracing.
_scores(["warm up"])

app = Flask(__name__)


@app.post(f"/v1/models/{MODEL_NAME}:predict")
def predict():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
        return jsonify(error='expected {"instances": ["text", ...]}'), 400
    texts = []
    for row in body["instances"]:
        if isinstance(row, list) and len(row) == 1:
            row = row[0]
        if not isinstance(row, str):
            return jsonify(error="every instance must be a string"), 400
        texts.append(row)
    if not texts:
        return jsonify(error="no instances"), 400
    scores = _scores(texts)
    return jsonify(predictions=[[float(v) for v in r] for r in scores])


@app.get("/v2/health/ready")
def ready():
    # the pid lets scripts/bench.sh wait until every gunicorn worker has loaded the model
    return jsonify(ready=True, pid=os.getpid())
