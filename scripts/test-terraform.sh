#!/usr/bin/env bash
# Runs every infrastructure check: terraform fmt, init -backend=false + validate
# for each module/env/bootstrap, `terraform test` (mock provider) where a folder
# has tests, then the end-to-end apply/plan/update/destroy against moto.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/test-terraform.sh [--no-e2e] [--keep] [--help]

Checks the Terraform code under terraform/ without touching the working tree
(everything runs in a temporary copy) and without an AWS account:
  1. terraform fmt -check -recursive
  2. terraform init -backend=false + validate, for every module, env and bootstrap
  3. terraform test (mock provider), for every folder with tests/*.tftest.hcl
  4. end to end against a local moto server (terraform/tests/e2e_moto.py):
     apply the dev env, plan shows no changes, apply an update, destroy,
     and check through the AWS API that nothing is left behind; then the
     Terraform CI roles (modules/terraform-ci) the same way

Options:
  --no-e2e   skip step 4 (static checks and mock tests only, ~1-2 min)
  --keep     keep the temporary folder (logs, plans) for inspection
  --help     show this help

Environment:
  TF_PROVIDER_MIRROR  provider filesystem mirror (default /opt/tf-plugins)
  TF_USE_REGISTRY=1   install providers from the registry instead of a mirror
  CI=true             missing tools fail the run instead of skipping it

Prerequisites: terraform >= 1.10, the hashicorp/aws 5.100 provider (mirror or
registry), python3 with moto[server] (brings boto3) for step 4.
Ends with "terraform: N passed, M failed"; exits non-zero when a check fails.
EOF
}

E2E=1
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-e2e) E2E=0 ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_SRC="$ROOT/terraform"
MIRROR="${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
STEP_TIMEOUT=600

# A missing tool is a failure in CI and a skip on a workstation.
missing() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "ERROR: $1" >&2
    echo "terraform: 0 passed, 1 failed"
    exit 1
  fi
  echo "SKIP: $1"
  exit 0
}

command -v terraform >/dev/null 2>&1 || missing "terraform is not installed (need >= 1.10 on PATH)"
command -v timeout >/dev/null 2>&1 || missing "timeout (coreutils) is not installed"
if [[ "${TF_USE_REGISTRY:-}" != "1" ]]; then
  compgen -G "$MIRROR/registry.terraform.io/hashicorp/aws/5.*" >/dev/null \
    || missing "no hashicorp/aws 5.x provider in the mirror $MIRROR (set TF_PROVIDER_MIRROR, or TF_USE_REGISTRY=1 with registry access)"
fi
if [[ $E2E -eq 1 ]]; then
  if ! command -v python3 >/dev/null 2>&1; then
    missing "python3 is not installed (needed for the moto end-to-end test; --no-e2e skips it)"
  elif ! python3 -c 'import moto, boto3' >/dev/null 2>&1; then
    missing "python3 cannot import moto/boto3 (pip install 'moto[server]'; --no-e2e skips the end-to-end test)"
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/test-terraform.XXXXXX")"
cleanup() {
  if [[ $KEEP -eq 1 ]]; then
    echo "# kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# Work on a copy: init writes .terraform folders (and lock files in modules),
# and other people use this working tree at the same time. The roots' committed
# lock files come along: init must install exactly the providers they name.
tar -C "$ROOT" -cf - \
  --exclude='.terraform' --exclude='*.tfstate*' --exclude='modules/*/.terraform.lock.hcl' \
  --exclude='terraform.tfvars' --exclude='*.auto.tfvars' --exclude='backend.hcl' \
  terraform | tar -C "$WORK" -xf -
TF="$WORK/terraform"

export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
if [[ "${TF_USE_REGISTRY:-}" == "1" ]]; then
  unset TF_CLI_CONFIG_FILE
  export TF_PLUGIN_CACHE_DIR="$WORK/plugin-cache"
  mkdir -p "$TF_PLUGIN_CACHE_DIR"
elif [[ "$MIRROR" == "/opt/tf-plugins" ]]; then
  export TF_CLI_CONFIG_FILE="$TF_SRC/.terraformrc-mirror"
else
  export TF_CLI_CONFIG_FILE="$WORK/terraformrc"
  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' \
    "$MIRROR" >"$TF_CLI_CONFIG_FILE"
fi

PASSED=0
FAILED=0
FAILURES=()

# check NAME LOG -- COMMAND...: run one check, record and print its result.
check() {
  local name="$1" log="$2"
  shift 3
  local start=$SECONDS rc=0
  "$@" >"$log" 2>&1 || rc=$?
  local secs=$((SECONDS - start))
  if [[ $rc -eq 0 ]]; then
    PASSED=$((PASSED + 1))
    echo "ok - $name (${secs}s)"
  else
    FAILED=$((FAILED + 1))
    FAILURES+=("$name")
    if [[ $rc -eq 124 ]]; then
      echo "not ok - $name: timed out (${secs}s)"
    else
      echo "not ok - $name (${secs}s, exit $rc):"
    fi
    tail -n 30 "$log" | sed 's/^/    /'
  fi
}

init_and_validate() {
  local dir="$1"
  export TF_DATA_DIR="$WORK/data/${dir//\//_}"
  (cd "$TF/$dir" \
    && timeout "$STEP_TIMEOUT" terraform init -backend=false -input=false -no-color \
    && timeout "$STEP_TIMEOUT" terraform validate -no-color)
}

run_tests() {
  local dir="$1"
  export TF_DATA_DIR="$WORK/data/${dir//\//_}"
  (cd "$TF/$dir" && timeout "$STEP_TIMEOUT" terraform test -no-color)
}

mkdir -p "$WORK/logs"
echo "# terraform $(terraform version | head -n 1 | awk '{print $2}'), work dir $WORK"

check "fmt -check -recursive" "$WORK/logs/fmt.log" -- \
  timeout "$STEP_TIMEOUT" terraform -chdir="$TF" fmt -check -recursive -diff -no-color

DIRS=()
for d in "$TF"/modules/*/ "$TF"/envs/*/ "$TF"/bootstrap/; do
  [[ -d "$d" ]] && DIRS+=("${d#"$TF"/}")
done
for dir in "${DIRS[@]}"; do
  dir="${dir%/}"
  check "init -backend=false + validate $dir" "$WORK/logs/validate-${dir//\//_}.log" -- init_and_validate "$dir"
done

for dir in "${DIRS[@]}"; do
  dir="${dir%/}"
  compgen -G "$TF/$dir/tests/*.tftest.hcl" >/dev/null || continue
  check "terraform test $dir" "$WORK/logs/test-${dir//\//_}.log" -- run_tests "$dir"
done

if [[ $E2E -eq 1 ]]; then
  echo "# end to end against moto (apply ~90 s, plan, update, destroy)"
  unset TF_DATA_DIR
  e2e_log="$WORK/logs/e2e.log"
  rc=0
  e2e_args=(--timeout "$STEP_TIMEOUT")
  [[ $KEEP -eq 1 ]] && e2e_args+=(--keep)
  # The driver copies terraform/ itself; give it the pristine copy.
  timeout 1800 python3 "$TF/tests/e2e_moto.py" "${e2e_args[@]}" 2>&1 | tee "$e2e_log" || rc=$?
  e2e_ok=$(grep -c '^ok - ' "$e2e_log" || true)
  e2e_failed=$(grep -c '^not ok - ' "$e2e_log" || true)
  PASSED=$((PASSED + e2e_ok))
  FAILED=$((FAILED + e2e_failed))
  while IFS= read -r line; do FAILURES+=("${line#not ok - }"); done < <(grep '^not ok - ' "$e2e_log" | cut -c1-120 || true)
  if [[ $rc -ne 0 && $e2e_failed -eq 0 ]]; then
    # Crashed, timed out or found a prerequisite missing before reporting a check.
    FAILED=$((FAILED + 1))
    FAILURES+=("e2e driver exited $rc")
    echo "not ok - e2e driver exited $rc:"
    tail -n 30 "$e2e_log" | sed 's/^/    /'
  fi
fi

if [[ $FAILED -gt 0 ]]; then
  echo "# failed:"
  printf '#   %s\n' "${FAILURES[@]}"
fi
echo "terraform: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
