#!/usr/bin/env bash
# Smoke test of a running service: readiness, liveness, home page, predict, metrics.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/smoke.sh [--model NAME] [--timeout SECONDS] URL

Checks the service at URL (e.g. http://my-alb-123.eu-west-1.elb.amazonaws.com):
  - GET  /v2/health/ready answers 200 (polled until --timeout)
  - GET  /v2/health/live answers 200
  - GET  /  (home page) answers 200
  - POST /v1/models/NAME:predict with two reviews answers {"predictions": [[p], [p]]}, 0 <= p <= 1;
    for the demo model imdb-sentiment the positive review must score above the negative one
  - GET  /metrics answers Prometheus text
Ends with "smoke: N passed, M failed"; exits non-zero when any check fails.

Options:
  --model NAME      model to call (default: imdb-sentiment)
  --timeout SECONDS how long to wait for readiness (default: 120)
  -h, --help        this text
Needs: curl, jq.
USAGE
}

model="imdb-sentiment"
timeout_s=120
url=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="${2:?--model needs a value}"; shift 2 ;;
    --timeout) timeout_s="${2:?--timeout needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) [[ -z "$url" ]] || die "only one URL, got '$url' and '$1'"; url="$1"; shift ;;
  esac
done
[[ -n "$url" ]] || { usage >&2; die "missing URL"; }
[[ "$url" =~ ^https?:// ]] || url="http://$url"
url="${url%/}"
[[ "$model" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "invalid model name: $model"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
require_tool curl "Install it (apt-get install -y curl)."
require_tool jq "Install it (apt-get install -y jq)."

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf 'smoke test of %s (model %s)\n' "$url" "$model"

started=$SECONDS
if wait_for_http "$url/v2/health/ready" "$timeout_s"; then
  pass "ready (GET /v2/health/ready) after $((SECONDS - started)) s"
else
  fail "ready within ${timeout_s} s" "$(curl -sS --max-time 5 "$url/v2/health/ready" 2>&1 | head -c 300)"
  summary smoke
  exit
fi
check "live (GET /v2/health/live)" curl -fsS -o /dev/null --max-time 10 "$url/v2/health/live"
check "home page (GET /)" curl -fsS -o /dev/null --max-time 10 "$url/"

request='{"instances": ["A wonderful, moving film with brilliant acting and a great story.", "A boring, awful film. A complete waste of time, the worst I have seen."]}'
status="$(curl -sS -o "$tmp/predict.json" -w '%{http_code}' --max-time 30 \
  -H 'Content-Type: application/json' -d "$request" "$url/v1/models/$model:predict" 2>"$tmp/curl.err")" || status="000"
if [[ "$status" == 200 ]]; then
  pass "predict answers 200"
else
  fail "predict answers 200" "HTTP $status $(head -c 300 "$tmp/predict.json" 2>/dev/null) $(cat "$tmp/curl.err")"
fi
check "predict: two scores in [0,1]" jq -e \
  '.predictions | length == 2 and all(.[]; length == 1 and (.[0] | type) == "number" and .[0] >= 0 and .[0] <= 1)' \
  "$tmp/predict.json"
if [[ "$model" == imdb-sentiment ]]; then
  check "predict: positive review scores above the negative one" jq -e \
    '.predictions[0][0] > .predictions[1][0]' "$tmp/predict.json"
fi
printf '    predictions: %s\n' "$(jq -c '.predictions' "$tmp/predict.json" 2>/dev/null || echo n/a)"
check "metrics (GET /metrics)" bash -c "curl -fsS --max-time 10 '$url/metrics' | grep -q '^# \\(HELP\\|TYPE\\) '"

summary smoke
