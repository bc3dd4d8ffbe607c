# shellcheck shell=bash
# Helpers shared by the scripts in scripts/: messages, tool checks, building app/, test bookkeeping.
# Source it; it defines functions and REPO_ROOT only and changes no shell options.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

log() { printf '%s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# build_app_classpath FILE: compiles app/ and writes its runtime classpath to FILE, for scripts
# that run dev.mlserve.Main from the source tree. Offline first (quick, and works without a
# network once the build has run); a local repository that lacks some dependency (a fresh machine,
# a changed version) falls back to resolving online.
build_app_classpath() {
  local args=(-q -B -f "$REPO_ROOT/pom.xml" -pl app -DskipTests -Dspotless.check.skip=true
    compile dependency:build-classpath -Dmdep.outputFile="$1" -Dmdep.includeScope=runtime)
  "$REPO_ROOT/mvnw" -o "${args[@]}" >/dev/null 2>&1 || "$REPO_ROOT/mvnw" "${args[@]}" >&2
}

# require_tool NAME HINT: for the operator scripts, a missing tool is an error that says how to fix it.
require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed or not on PATH. $2"
}

# require_aws_credentials: fail early and clearly instead of deep inside a half-done deploy.
require_aws_credentials() {
  if ! aws sts get-caller-identity --output text --query Account >/dev/null 2>&1; then
    die "no usable AWS credentials (aws sts get-caller-identity failed). Set AWS_PROFILE, or \
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run inside a role; set AWS_REGION too."
  fi
}

# skip_or_fail REASON: a test that cannot run here skips on a laptop, but must not pass silently on CI.
skip_or_fail() {
  if [[ "${CI:-}" == "true" ]]; then
    printf 'FAIL: %s (CI=true: this test must run; install what it needs)\n' "$1" >&2
    exit 1
  fi
  printf 'SKIP: %s\n' "$1"
  exit 0
}

# Test bookkeeping: check "name" command...; summary "label".
TESTS_PASSED=0
TESTS_FAILED=0
FAILED_NAMES=()
pass() {
  TESTS_PASSED=$((TESTS_PASSED + 1))
  printf '  ok    %s\n' "$1"
}
fail() {
  TESTS_FAILED=$((TESTS_FAILED + 1))
  FAILED_NAMES+=("$1")
  printf '  FAIL  %s%s\n' "$1" "${2:+: $2}"
}
# check NAME CMD...: runs CMD quietly; passes when it exits 0, else prints its output.
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$name"
  else
    fail "$name" "$(printf '%s' "$out" | tail -n 5)"
  fi
}
# summary LABEL: prints "LABEL: N passed, M failed" and returns non-zero on any failure.
summary() {
  local name
  for name in "${FAILED_NAMES[@]+"${FAILED_NAMES[@]}"}"; do
    printf 'failed: %s\n' "$name"
  done
  printf '%s: %d passed, %d failed\n' "$1" "$TESTS_PASSED" "$TESTS_FAILED"
  [[ "$TESTS_FAILED" -eq 0 ]]
}

# free_port: an unused TCP port on 127.0.0.1 (racy in theory, fine for tests).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_http URL SECONDS: polls until URL answers 2xx.
wait_for_http() {
  local url="$1" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}
