#!/usr/bin/env bash
# Tests the monitoring scripts for real: scripts/observe.sh runs Debian's prometheus against a
# stand-in /metrics endpoint with the repository's alert rules, and scripts/drift-report.sh
# runs the drift job's command line. (The dashboard and rules themselves are checked against a
# real service by app/.../DashboardQueriesTest; the drift job by DriftJobTest.)
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
Usage: scripts/test-monitoring.sh [--help]

Checks scripts/observe.sh (--help, option errors, --check, and a real Prometheus it starts:
the target is scraped and every alert rule is loaded and healthy) and scripts/drift-report.sh
(--help, and the job refusing bad options with exit 2). Needs prometheus, promtool, python3,
curl and a JDK; skips with a reason when one is missing (fails when CI=true).
Ends with "monitoring: N passed, M failed".
EOF_USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
S="$REPO_ROOT/scripts"
for tool in prometheus promtool python3 curl java; do
  command -v "$tool" >/dev/null 2>&1 || skip_or_fail "monitoring test needs '$tool' (apt-get install -y prometheus curl python3; a JDK)"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/test-monitoring.XXXXXX")"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# expect_fail NAME CODE PATTERN CMD...: CMD must exit with CODE and say PATTERN.
expect_fail() {
  local name="$1" code="$2" pattern="$3" out rc=0
  shift 3
  out="$("$@" 2>&1)" || rc=$?
  if [[ $rc -ne $code ]]; then
    fail "$name" "exit $rc, expected $code: $(tail -n 3 <<<"$out")"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$name" "message did not match /$pattern/: $(tail -n 3 <<<"$out")"
  else
    pass "$name"
  fi
}

echo "observe.sh:"
check "observe.sh --help" bash -c "'$S/observe.sh' --help | head -n 1 | grep -q '^Usage: scripts/observe.sh'"
expect_fail "observe.sh rejects an unknown option" 2 'unknown option' "$S/observe.sh" --no-such-option
expect_fail "observe.sh rejects a bad target" 1 'HOST:PORT' "$S/observe.sh" --target 'http://x' --check
check "observe.sh --check writes a configuration promtool accepts" bash -c \
  "'$S/observe.sh' --check --data-dir '$work/check' --target 127.0.0.1:1234 2>/dev/null | grep -q 'configuration ok' \
   && promtool check config '$work/check/prometheus.yml' && grep -q '127.0.0.1:1234' '$work/check/prometheus.yml'"

# A stand-in service: a static /metrics in Prometheus' text format.
mkdir -p "$work/site"
printf '# TYPE mlserve_ready gauge\nmlserve_ready 1\n' >"$work/site/metrics"
site_port="$(free_port)"
(cd "$work/site" && exec python3 -m http.server "$site_port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
prom_port="$(free_port)"
"$S/observe.sh" --target "127.0.0.1:$site_port" --port "$prom_port" --interval 1s \
  --data-dir "$work/observe" >"$work/observe.log" 2>&1 &
pids+=($!)

api() { curl -fsS "http://127.0.0.1:$prom_port$1"; }
up=""
for _ in $(seq 1 60); do
  up="$(api '/api/v1/query?query=up%7Bjob%3D%22mlserve%22%7D' 2>/dev/null || true)"
  if python3 -c 'import json,sys; r=json.loads(sys.argv[1])["data"]["result"]; sys.exit(0 if r and r[0]["value"][1]=="1" else 1)' "$up" 2>/dev/null; then
    break
  fi
  sleep 0.5
done
check "observe.sh starts Prometheus and it scrapes the target" \
  python3 -c 'import json,sys; r=json.loads(sys.argv[1])["data"]["result"]; assert r and r[0]["value"][1]=="1", r' "$up"
expected_rules="$(promtool check rules "$REPO_ROOT/terraform/modules/prometheus/rules/mlserve.rules.yml" | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')"
sleep 2 # one evaluation of every rule
check "Prometheus loaded all $expected_rules alert rules and evaluates them without error" \
  python3 -c '
import json, sys
rules = [r for g in json.loads(sys.argv[1])["data"]["groups"] for r in g["rules"]]
assert len(rules) == int(sys.argv[2]), len(rules)
bad = [r["name"] + ": " + r.get("lastError", "") for r in rules if r["health"] != "ok"]
assert not bad, bad
' "$(api /api/v1/rules)" "$expected_rules"
check "observe.sh prints how to import the dashboard" grep -q 'dashboards/mlserve.json' "$work/observe.log"

echo "drift-report.sh:"
check "drift-report.sh --help" bash -c "'$S/drift-report.sh' --help | head -n 1 | grep -q '^Usage: scripts/drift-report.sh'"
expect_fail "drift-report.sh without options prints usage" 2 'Usage' "$S/drift-report.sh"
expect_fail "the drift job names every bad option and exits 2" 2 "not a model name.*|CAPTURE_S3_URI" \
  env -u CAPTURE_S3_URI "$S/drift-report.sh" --model '../etc' --report s3://reports-bucket/r --models models

summary "monitoring"
