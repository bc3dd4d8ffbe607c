#!/usr/bin/env bash
# Runs every check outside the Java code: Terraform, the operator scripts, the workflows and
# the training pipeline. The parent pom runs it in `./mvnw verify` (skip with -DskipInfraTests).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/test-infra.sh [--help] [SUITE...]

Runs the infrastructure test suites one after another and prints one summary line:
  terraform  scripts/test-terraform.sh  (fmt, validate, terraform test, apply/destroy on moto)
  scripts    scripts/test-scripts.sh    (shellcheck, --help, dry runs against moto)
  batch      scripts/test-batch.sh      (batch-score.sh against moto S3 and Step Functions)
  workflows  scripts/test-workflows.sh  (GitHub Actions and buildspec validation)
  training   scripts/test-training.sh   (smoke training run and export checks)
  monitoring scripts/test-monitoring.sh (observe.sh on a real Prometheus, drift-report.sh)
With SUITE names, runs only those. Each suite skips with a reason when a tool is missing on
a developer machine and fails when CI=true.
USAGE
}

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  usage
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suites=("$@")
if [[ ${#suites[@]} -eq 0 ]]; then
  suites=(terraform scripts batch workflows training monitoring)
fi

passed=0
failed=0
failed_names=()
for suite in "${suites[@]}"; do
  script="$here/test-$suite.sh"
  if [[ ! -f "$script" ]]; then
    echo "FAIL: no such suite '$suite' ($script)" >&2
    failed=$((failed + 1))
    failed_names+=("$suite")
    continue
  fi
  echo "=== $suite"
  start=$SECONDS
  if bash "$script"; then
    passed=$((passed + 1))
    echo "=== $suite: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failed_names+=("$suite")
    echo "=== $suite: FAILED ($((SECONDS - start)) s)"
  fi
done

if [[ $failed -gt 0 ]]; then
  echo "failed suites: ${failed_names[*]}"
fi
echo "infra: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
