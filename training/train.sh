#!/usr/bin/env bash
# Train and export the bundled demo model (models/imdb-sentiment/1) and its golden file.
# Creates training/.venv from training/requirements.txt on first use. See training/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: training/train.sh [OPTIONS]            train, evaluate, export, write the golden file
       training/train.sh --golden [ARGS]      (re)write or --check the golden file only
       training/train.sh --setup              only create/update the virtualenv

  (no options)        full run: all 49,578 unique reviews, early stopping, exports to
                      models/imdb-sentiment/1 (replacing it) and writes
                      training/golden/imdb-sentiment-1.json            (~2 min on 2 cores)
  --smoke --out DIR   fast end-to-end run for CI: 2,000-row sample, 1 epoch, exports to DIR
                      and DIR/assets.extra/golden.json; refuses to write into models/ (~10 s)
  --out DIR           export somewhere else, e.g. models/imdb-sentiment/2 for a new version
  --golden [--check] [--model DIR] [--out FILE]
                      run training/golden.py against an exported model (default
                      models/imdb-sentiment/1); --check compares the committed file
  --setup             create training/.venv and install training/requirements.txt, then exit
  -h, --help          this help; `training/train.sh --help-train` lists every training option
                      (seed, epochs, sequence length, mask_zero, ...)

Environment:
  PYTHON              interpreter for the virtualenv (default: python3)
  TRAINING_VENV       virtualenv folder (default: training/.venv)
  PIP_INDEX_URL       package index; if unset and pip's config names a local file:// index
                      that exists (a wheel mirror), that one is used so pip never waits on an
                      unreachable default index
Exit status: 0 ok, 1 failure, 2 usage error, 3 a required tool is missing (python3, venv, npm).
EOF
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${TRAINING_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
requirements="$here/requirements.txt"

die() { echo "train.sh: $*" >&2; exit 1; }
missing_tool() { echo "train.sh: $*" >&2; exit 3; }

# Prefer a local file:// index from pip's own configuration (offline wheel mirror).
pick_local_index() {
  [[ -n "${PIP_INDEX_URL:-}" ]] && return 0
  local url dir
  while read -r url; do
    dir="${url#file://}"
    if [[ -d "$dir" ]]; then
      export PIP_INDEX_URL="$url"
      echo "train.sh: using local package index $url" >&2
      return 0
    fi
  done < <("$python" -m pip config list 2>/dev/null | grep -o "file://[^' \"]*" || true)
}

setup_venv() {
  command -v "$python" >/dev/null 2>&1 || missing_tool "$python not found (set PYTHON)"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -c 'import venv, ensurepip' 2>/dev/null \
      || missing_tool "$python has no venv/ensurepip module (Debian: apt-get install python3-venv)"
    echo "train.sh: creating virtualenv $venv" >&2
    "$python" -m venv "$venv" || missing_tool "could not create a virtualenv in $venv"
  fi
  # Reinstall only when requirements.txt changed since the last successful install.
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    pick_local_index
    echo "train.sh: installing $requirements" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" \
      || die "pip install failed"
    echo "$want" >"$stamp"
  fi
}

mode=train
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --help-train) args+=(--help); shift ;;
    --golden) mode=golden; shift ;;
    --setup) mode=setup; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

setup_venv
case "$mode" in
  setup) echo "train.sh: virtualenv ready: $venv" >&2 ;;
  golden) exec "$venv/bin/python" "$here/golden.py" ${args[@]+"${args[@]}"} ;;
  train) exec "$venv/bin/python" "$here/train.py" ${args[@]+"${args[@]}"} ;;
esac
