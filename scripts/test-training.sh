#!/usr/bin/env bash
# CI check for training/: a smoke training run end to end, its export's signature, the golden
# file tooling against it, and the bundled model against its committed golden file.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/test-training.sh [--keep]

Runs, in a temporary folder:
  1. training/train.sh --smoke --out TMP/1   (2,000 rows, 1 epoch; no accuracy asserted)
  2. the smoke export loads in Python; serving_default takes text (string, [-1,1]) and
     returns output_0 (float32, [-1,1]) with a score in [0, 1]
  3. training/golden.py writes a golden file from the smoke export and --check agrees
  4. the bundled models/imdb-sentiment/1 matches training/golden/imdb-sentiment-1.json and its
     model card is complete
Prints "training: N passed, M failed"; exits 1 if any check failed.

If python3 or its venv module (or npm, needed for the data) is missing, it prints
"SKIP: <reason>" and exits 0 — unless CI=true, where that is a failure.

  --keep       keep the temporary folder and print its path
  -h, --help   this help
EOF
}

keep=false
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    --keep) keep=true ;;
    *) echo "test-training.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
train_sh="$root/training/train.sh"
venv="${TRAINING_VENV:-$root/training/.venv}"
python="${PYTHON:-python3}"

skip_or_fail() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "FAIL: $1 (CI=true: a missing tool is an error here)" >&2
    echo "training: 0 passed, 1 failed"
    exit 1
  fi
  echo "SKIP: $1"
  exit 0
}

command -v "$python" >/dev/null 2>&1 || skip_or_fail "$python not found"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
  || skip_or_fail "$python cannot create virtualenvs (no venv/ensurepip module)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/test-training.XXXXXX")"
cleanup() {
  if [[ "$keep" == true ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }

# Setup separately, so a missing tool is told apart from a broken training run.
set +e
"$train_sh" --setup
rc=$?
set -e
if [[ $rc -eq 3 ]]; then
  skip_or_fail "could not create the training virtualenv (tool missing; see above)"
elif [[ $rc -ne 0 ]]; then
  fail "training/train.sh --setup exited $rc"
  echo "training: $passed passed, $failed failed"
  exit 1
fi
py="$venv/bin/python"
export_dir="$tmp/smoke/1"

# 1. smoke run end to end
start=$SECONDS
set +e
"$train_sh" --smoke --out "$export_dir" --no-golden 2>&1 | tee "$tmp/smoke.log" | grep '^\[train\]'
rc=${PIPESTATUS[0]}
set -e
if [[ $rc -eq 3 ]]; then
  skip_or_fail "$(tail -n 1 "$tmp/smoke.log")"
elif [[ $rc -eq 0 && -f "$export_dir/saved_model.pb" && -f "$export_dir/assets.extra/model-card.json" ]]; then
  pass "smoke training exported $export_dir in $((SECONDS - start)) s"
else
  tail -n 30 "$tmp/smoke.log"
  fail "smoke training (exit $rc; log above)"
fi

# 2. the export loads and has the serving signature the Java side expects
if [[ -f "$export_dir/saved_model.pb" ]] && TF_CPP_MIN_LOG_LEVEL=3 "$py" - "$export_dir" <<'EOF'
import sys
import tensorflow as tf

loaded = tf.saved_model.load(sys.argv[1])
fn = loaded.signatures["serving_default"]
_, inputs = fn.structured_input_signature
outputs = fn.structured_outputs
got = ({k: (v.dtype.name, v.shape.as_list()) for k, v in inputs.items()},
       {k: (v.dtype.name, v.shape.as_list()) for k, v in outputs.items()})
want = ({"text": ("string", [None, 1])}, {"output_0": ("float32", [None, 1])})
assert got == want, f"serving_default is {got}, expected {want}"
out = fn(text=tf.constant([["a great movie"], [""]]))["output_0"].numpy()
assert out.shape == (2, 1) and ((out >= 0) & (out <= 1)).all(), out
print(f"signatures {sorted(loaded.signatures)}; serving_default {got[0]} -> {got[1]}")
EOF
then
  pass "smoke export loads; serving_default: text string[-1,1] -> output_0 float32[-1,1]"
else
  fail "smoke export signature"
fi

# 3. golden.py runs against the smoke export, and its own file checks out
if [[ -f "$export_dir/saved_model.pb" ]] \
  && "$train_sh" --golden --model "$export_dir" --out "$tmp/golden.json" \
  && "$train_sh" --golden --check --model "$export_dir" --out "$tmp/golden.json"; then
  pass "training/golden.py writes and checks a golden file for the smoke export"
else
  fail "training/golden.py against the smoke export"
fi

# 4. the bundled model still matches its committed golden file; its card is complete
bundled="$root/models/imdb-sentiment/1"
if "$train_sh" --golden --check --model "$bundled" --out "$root/training/golden/imdb-sentiment-1.json" \
  && "$py" - "$bundled/assets.extra/model-card.json" <<'EOF'
import json
import sys

card = json.load(open(sys.argv[1], encoding="utf-8"))
for key in ("name", "version", "data", "seed", "libraries", "hyperparameters", "epochs_run",
            "metrics", "decision_threshold", "low_confidence_band", "training_seconds"):
    assert key in card, f"model card lacks {key}"
assert card["mode"] == "full", card["mode"]
test = card["metrics"]["test"]
for key in ("accuracy", "precision", "recall", "roc_auc", "brier", "reliability_bins"):
    assert key in test, f"model card metrics lack {key}"
print(f"bundled model card: test accuracy {test['accuracy']:.4f}, Brier {test['brier']:.4f}")
EOF
then
  pass "bundled models/imdb-sentiment/1 matches training/golden/imdb-sentiment-1.json"
else
  fail "bundled model vs golden file / model card"
fi

echo "training: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
