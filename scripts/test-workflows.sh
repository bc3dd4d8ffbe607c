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
2. what the pipelines must do (scripts/lib/check_workflows.py). Every workflow: least-privilege
   permissions, no AWS keys, every action pinned by full commit SHA with its release in a comment,
   timeouts, OIDC jobs behind an environment (or pull-request only), no inputs expanded in run:.
   CI builds the image once, smoke-tests and keeps it; deploy (environment production) pushes that
   digest, renders by digest, verifies the PRIMARY deployment, rolls back on a failed smoke test,
   takes a commit by hand; terraform.yml plans PRs with the read-only role and applies the saved,
   shown plan with the apply role in environment terraform; destroy.yml needs a typed
   confirmation checked first and the protected environment; buildspecs check every download's
   SHA-256 and install only pinned Python tools;
3. the rules bite: copies of the workflows with one defect each (a tag-pinned action, a SHA
   without its version, a deploy job without environment, the PR role in the apply job, a destroy
   without the confirmation gate, a rollback that always runs, an unchecked download) must fail
   the named check;
4. shellcheck on every run: block (bash -e semantics, GitHub's default shell).
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

echo "the rules catch defects (mutated copies):"
mutants_dir="$(mktemp -d)"
python3 - "$REPO_ROOT" "$mutants_dir" >"$mutants_dir/results.tsv" <<'PY' || die "mutation check crashed"
import json, pathlib, re, shutil, subprocess, sys
root, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
PATHS = [".github/workflows", "scripts", "docs/DEPLOY.md", "terraform/envs/dev/outputs.tf", "terraform/modules",
         "buildspec.yml", "buildspec-terraform.yml"]

def sub(path, old, new, count=1):
    def edit(tree):
        p = tree / path
        text = p.read_text()
        if old not in text if isinstance(old, str) else not re.search(old, text):
            raise SystemExit(f"mutation anchor not found in {path}: {old!r}")
        p.write_text(text.replace(old, new, count) if isinstance(old, str) else re.sub(old, new, text, count=count))
    return edit

# (what is broken, the edit, the check that must then fail)
MUTANTS = [
    ("an action pinned by tag", sub(".github/workflows/ci.yml", re.compile(r"actions/checkout@[0-9a-f]{40} # v[\d.]+"), "actions/checkout@v7"),
     "ci.yml: every action pinned by full commit SHA with its version in a comment"),
    ("a SHA pin without its version comment", sub(".github/workflows/deploy.yml", re.compile(r"(aws-actions/configure-aws-credentials@[0-9a-f]{40}) # v[\d.]+"), r"\1"),
     "deploy.yml: every action pinned by full commit SHA with its version in a comment"),
    ("a deploy job without its environment", sub(".github/workflows/deploy.yml", re.compile(r"    environment:\n      name: production\n      url: .*\n"), ""),
     "deploy.yml: job deploy with id-token: write runs in an environment or only on pull requests"),
    ("the PR plan with the apply role", sub(".github/workflows/terraform.yml", "vars.TERRAFORM_PLAN_ROLE_ARN }}", "vars.TERRAFORM_APPLY_ROLE_ARN }}"),
     "terraform.yml: the apply role is used only in the 'terraform' environment, never on pull requests"),
    ("an apply that plans again", sub(".github/workflows/terraform.yml", 'scripts/terraform-ci.sh apply --plan-file "$RUNNER_TEMP/plan/tfplan"',
                                      'scripts/terraform-ci.sh plan && scripts/terraform-ci.sh apply --plan-file "$RUNNER_TEMP/plan/tfplan"'),
     "terraform.yml: the reviewer sees the saved plan in the summary; apply applies exactly that plan"),
    ("a destroy that does not wait for the confirmation", sub(".github/workflows/destroy.yml", "    needs: confirm\n", ""),
     "destroy.yml: the confirmation is checked before the destroy job may start"),
    ("an optional confirmation", sub(".github/workflows/destroy.yml", "        type: string\n        required: true", "        type: string\n        required: false"),
     "destroy.yml: a required typed confirmation input"),
    ("a destroy outside the protected environment", sub(".github/workflows/destroy.yml", "    environment: terraform\n", ""),
     "destroy.yml: the destroy runs in the protected 'terraform' environment and passes the confirmation on"),
    ("a rollback on any failure", sub(".github/workflows/deploy.yml", "if: failure() && steps.smoke.outcome == 'failure'", "if: failure()"),
     "deploy.yml: a failed smoke test rolls back to the revision recorded before the deploy"),
    ("an input expanded inside run:", sub(".github/workflows/destroy.yml", 'scripts/terraform-ci.sh destroy --env "$ENVIRONMENT"',
                                         'scripts/terraform-ci.sh destroy --env "${{ inputs.environment }}"'),
     "destroy.yml: no inputs/event fields expanded inside run: scripts (pass them through env:)"),
    ("a download without its checksum", sub("buildspec-terraform.yml", '      - echo "${TERRAFORM_SHA256}  /tmp/terraform.zip" | sha256sum -c -\n', ""),
     "buildspec-terraform.yml: every download is checked against a SHA-256"),
]
for i, (what, edit, expected) in enumerate(MUTANTS):
    tree = work / f"m{i}"
    for rel in PATHS:
        src, dst = root / rel, tree / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    edit(tree)
    out = subprocess.run([sys.executable, str(root / "scripts/lib/check_workflows.py"), str(tree)],
                         capture_output=True, text=True, check=True).stdout
    failed = [n for n, ok, _ in json.loads(out) if not ok]
    ok = expected in failed
    print("\t".join([str(ok).lower(), f"{what} fails '{expected}'", "" if ok else f"failing instead: {failed}"]))
PY
while IFS=$'\t' read -r ok name detail; do
  if [[ "$ok" == true ]]; then pass "$name"; else fail "$name" "$detail"; fi
done <"$mutants_dir/results.tsv"
rm -rf "$mutants_dir"

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
