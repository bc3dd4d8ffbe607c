#!/usr/bin/env bash
# Validates the GitHub Actions workflows and the CodeBuild buildspec offline.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

VALIDATOR_VERSION="0.6.0"

usage() {
  cat <<USAGE
Usage: scripts/test-workflows.sh

1. every .github/workflows/*.yml against GitHub's workflow schema with @action-validator/cli
   $VALIDATOR_VERSION (npm, installed once into build/tools/; nothing reaches GitHub);
2. what the pipelines must do (scripts/lib/check_workflows.py): CI runs the README test command,
   the Terraform checks and uploads reports; deploy uses OIDC (id-token: write, no keys), builds
   with Jib by commit SHA, renders the live task definition, waits for stability, smoke-tests,
   never runs twice at once and summarises the digest and URL; the variables it reads are
   Terraform outputs; actions are pinned; buildspec.yml runs the same test command, pushes with
   Jib and writes imagedefinitions.json;
3. shellcheck on every run: block (bash -e semantics, GitHub's default shell).
Ends with "workflows: N passed, M failed". Missing node/npm/PyYAML: SKIP (fails with CI=true).
USAGE
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; die "unknown argument: $1" ;;
esac

for tool in node npm python3 jq shellcheck; do
  command -v "$tool" >/dev/null 2>&1 || skip_or_fail "workflow test needs '$tool' (node 18+ with npm; python3)"
done
python3 -c 'import yaml' 2>/dev/null || skip_or_fail "workflow test needs PyYAML (pip install pyyaml)"

started=$SECONDS
tools="$REPO_ROOT/build/tools/action-validator"
validator="$tools/node_modules/.bin/action-validator"
installed="$(jq -r .version "$tools/node_modules/@action-validator/cli/package.json" 2>/dev/null || true)"
if [[ "$installed" != "$VALIDATOR_VERSION" ]]; then
  mkdir -p "$tools"
  timeout 180 npm install --silent --no-audit --no-fund --prefix "$tools" \
    "@action-validator/cli@$VALIDATOR_VERSION" "@action-validator/core@$VALIDATOR_VERSION" >"$tools/install.log" 2>&1 ||
    skip_or_fail "cannot install @action-validator/cli@$VALIDATOR_VERSION from npm: $(tail -n 2 "$tools/install.log")"
fi

echo "schema (action-validator $VALIDATOR_VERSION):"
cd "$REPO_ROOT"
mapfile -t workflows < <(find .github/workflows -maxdepth 1 \( -name '*.yml' -o -name '*.yaml' \) | sort)
[[ ${#workflows[@]} -gt 0 ]] || fail "workflows exist in .github/workflows"
for workflow in "${workflows[@]}"; do
  check "$workflow is a valid workflow" timeout 60 "$validator" "$workflow"
done

echo "what the pipelines do:"
python3 "$REPO_ROOT/scripts/lib/check_workflows.py" "$REPO_ROOT" >"$REPO_ROOT/build/tools/workflow-checks.json" ||
  die "scripts/lib/check_workflows.py crashed"
while IFS=$'\t' read -r ok name detail; do
  if [[ "$ok" == true ]]; then pass "$name"; else fail "$name" "$detail"; fi
done < <(jq -r '.[] | [(.[1] | tostring), .[0], .[2]] | @tsv' "$REPO_ROOT/build/tools/workflow-checks.json")

echo "run: blocks:"
# Each run: block as its own script, checked the way GitHub runs it (bash -e {0}).
runs_dir="$(mktemp -d)"
trap 'rm -rf "$runs_dir"' EXIT
python3 - "$runs_dir" "${workflows[@]}" <<'PY'
import pathlib, re, sys, yaml
out = pathlib.Path(sys.argv[1])
for path in sys.argv[2:]:
    data = yaml.safe_load(open(path))
    for job_id, job in (data.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps") or []):
            if "run" in step:
                # ${{ ... }} expressions are substituted before the shell sees the script.
                body = re.sub(r"\$\{\{.*?\}\}", "EXPR", step["run"])
                name = f"{pathlib.Path(path).stem}.{job_id}.{i}.sh"
                (out / name).write_text("#!/usr/bin/env bash\nset -e\n" + body + "\n")
PY
for script in "$runs_dir"/*.sh; do
  check "shellcheck $(basename "$script" .sh)" shellcheck -S warning "$script"
done

printf 'took %d s\n' "$((SECONDS - started))"
summary workflows
