"""What scripts/test-workflows.sh asserts about the pipelines, beyond schema validity.

Prints one JSON list of [name, ok, detail] to stdout. Needs PyYAML.
Usage: check_workflows.py REPO_ROOT
"""

import json
import pathlib
import re
import sys

import yaml

root = pathlib.Path(sys.argv[1])
results = []


def check(name, ok, detail=""):
    results.append([name, bool(ok), "" if ok else detail])


def load(path):
    # PyYAML reads the key `on` as True (YAML 1.1); map it back.
    data = yaml.safe_load((root / path).read_text())
    if isinstance(data, dict) and True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow):
    for job in workflow.get("jobs", {}).values():
        yield from job.get("steps", []) or []


def runs(workflow):
    return "\n".join(s.get("run", "") for s in steps(workflow))


def uses(workflow):
    return [s["uses"] for s in steps(workflow) if "uses" in s]


workflows = {p.name: load(p.relative_to(root)) for p in sorted((root / ".github/workflows").glob("*.yml"))}
README_TEST = re.compile(r"\./mvnw -B\b[^\n]*\bverify\b")

# --- every workflow ---
for name, wf in workflows.items():
    text = (root / ".github/workflows" / name).read_text()
    check(f"{name}: least-privilege top-level permissions (contents: read)",
          wf.get("permissions") == {"contents": "read"}, f"got {wf.get('permissions')}")
    check(f"{name}: no stored AWS keys", not re.search(r"aws-access-key-id|aws-secret-access-key|secrets\.AWS_", text),
          "uses static AWS keys")
    unpinned = [u for u in uses(wf) if not u.startswith("./") and not re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", u)]
    check(f"{name}: actions pinned to a release or commit", not unpinned, f"unpinned: {unpinned}")
    for job_id, job in wf.get("jobs", {}).items():
        if "steps" in job:
            check(f"{name}: job {job_id} has a timeout", "timeout-minutes" in job, "no timeout-minutes")
    for script in sorted(set(re.findall(r"\b(scripts/[\w./-]+\.sh)\b", text))):
        path = root / script
        check(f"{name}: {script} exists and is executable", path.is_file() and path.stat().st_mode & 0o111,
              "missing or not executable")

# --- ci.yml ---
ci = workflows.get("ci.yml", {})
on = ci.get("on", {}) or {}
check("ci.yml: runs on pull requests and pushes", "pull_request" in on and "push" in on, f"on: {list(on)}")
check("ci.yml: callable by deploy.yml (workflow_call)", "workflow_call" in on, "no workflow_call")
check("ci.yml: runs the README test command (./mvnw -B verify)", README_TEST.search(runs(ci)), "no ./mvnw -B verify")
check("ci.yml: Terraform fmt and validate", "terraform fmt -check" in runs(ci) and "validate" in runs(ci),
      "no terraform checks")
check("ci.yml: provider mirror for the offline Terraform tests", "providers mirror" in runs(ci) and "/opt/tf-plugins" in runs(ci),
      "no terraform providers mirror")
uploads = [s for s in steps(ci) if s.get("uses", "").startswith("actions/upload-artifact@")]
check("ci.yml: uploads test reports even on failure",
      uploads and uploads[0].get("if") == "always()" and "surefire-reports" in uploads[0].get("with", {}).get("path", ""),
      "no always() upload of surefire reports")
check("ci.yml: installs the image test's tools",
      all(t in runs(ci) for t in ("podman", "skopeo", "umoci", "docker-registry", "shellcheck", "chromium")),
      "apt-get line lacks a tool")

# --- deploy.yml ---
dep = workflows.get("deploy.yml", {})
on = dep.get("on", {}) or {}
check("deploy.yml: on push to main", (on.get("push") or {}).get("branches") == ["main"], f"on: {on}")
jobs = dep.get("jobs", {})
deploy_job = next((j for j in jobs.values() if "steps" in j and any(
    "amazon-ecs-deploy-task-definition" in s.get("uses", "") for s in j["steps"])), {})
check("deploy.yml: runs after CI (needs the ci job calling ci.yml)",
      any(j.get("uses") == "./.github/workflows/ci.yml" for j in jobs.values()) and deploy_job.get("needs") == "ci",
      "deploy does not depend on CI")
check("deploy.yml: id-token: write for OIDC", (deploy_job.get("permissions") or {}).get("id-token") == "write",
      f"permissions: {deploy_job.get('permissions')}")
conc = deploy_job.get("concurrency") or dep.get("concurrency") or {}
check("deploy.yml: concurrency, never cancelling a running deploy",
      isinstance(conc, dict) and conc.get("group") and conc.get("cancel-in-progress") is False, f"concurrency: {conc}")
by_action = {s.get("uses", "").split("@")[0]: s for s in deploy_job.get("steps", [])}
creds = by_action.get("aws-actions/configure-aws-credentials", {}).get("with", {})
check("deploy.yml: configure-aws-credentials assumes a role", "role-to-assume" in creds, f"with: {creds}")
dep_runs = "\n".join(s.get("run", "") for s in deploy_job.get("steps", []))
check("deploy.yml: Jib build and push tagged with the commit SHA",
      re.search(r"scripts/deploy\.sh --build-only --tag \"\$GITHUB_SHA\"", dep_runs), "no deploy.sh --build-only --tag $GITHUB_SHA")
check("deploy.yml: renders the live task definition with the new image",
      "aws ecs describe-task-definition" in dep_runs and "aws-actions/amazon-ecs-render-task-definition" in by_action,
      "no describe + render")
ecs_deploy = by_action.get("aws-actions/amazon-ecs-deploy-task-definition", {}).get("with", {})
check("deploy.yml: deploys with wait-for-service-stability", ecs_deploy.get("wait-for-service-stability") is True,
      f"with: {ecs_deploy}")
check("deploy.yml: smoke test against the service URL", "scripts/smoke.sh" in dep_runs and "SERVICE_URL" in dep_runs,
      "no smoke test")
check("deploy.yml: job summary with image digest and URL",
      "GITHUB_STEP_SUMMARY" in dep_runs and "DIGEST" in dep_runs and "SERVICE_URL" in dep_runs, "no summary")

# Repository variables the deploy reads must be Terraform outputs (names in docs/DEPLOY.md).
outputs_tf = (root / "terraform/envs/dev/outputs.tf").read_text() if (root / "terraform/envs/dev/outputs.tf").exists() else ""
var_to_output = {"AWS_REGION": "aws_region", "AWS_DEPLOY_ROLE_ARN": "github_deploy_role_arn",
                 "ECR_REPOSITORY_URL": "ecr_repository_url", "ECS_CLUSTER": "ecs_cluster_name",
                 "ECS_SERVICE": "ecs_service_name", "ECS_TASK_FAMILY": "task_definition_family",
                 "ECS_CONTAINER_NAME": "container_name", "SERVICE_URL": "service_url"}
dep_text = (root / ".github/workflows/deploy.yml").read_text()
docs = (root / "docs/DEPLOY.md").read_text() if (root / "docs/DEPLOY.md").exists() else ""
for var, output in var_to_output.items():
    check(f"deploy.yml: vars.{var} <- terraform output {output} (documented)",
          f"vars.{var}" in dep_text and f'output "{output}"' in outputs_tf and var in docs and output in docs,
          "variable, output or its documentation missing")

# --- terraform.yml (optional) ---
tf = workflows.get("terraform.yml")
if tf is not None:
    on = tf.get("on", {}) or {}
    check("terraform.yml: plans on pull requests touching terraform/",
          "terraform/**" in ((on.get("pull_request") or {}).get("paths") or []), f"on: {on}")
    apply = tf.get("jobs", {}).get("apply", {})
    check("terraform.yml: applies on main behind an environment",
          apply.get("environment") and "refs/heads/main" in apply.get("if", ""), f"apply: {apply.get('if')}")

# --- buildspec.yml ---
bs = load("buildspec.yml")
check("buildspec.yml: version 0.2", str(bs.get("version")) == "0.2", f"version {bs.get('version')}")
build_cmds = "\n".join(bs.get("phases", {}).get("build", {}).get("commands", []))
check("buildspec.yml: runs the README test command", README_TEST.search(build_cmds), "no ./mvnw -B verify")
check("buildspec.yml: Jib push tagged with the commit (CODEBUILD_RESOLVED_SOURCE_VERSION)",
      "scripts/deploy.sh --build-only" in build_cmds and "CODEBUILD_RESOLVED_SOURCE_VERSION" in build_cmds,
      "no Jib push")
image_lib = (root / "scripts/lib/image.sh").read_text()
check("buildspec.yml: ECR login with aws ecr get-login-password (scripts/lib/image.sh)",
      "aws ecr get-login-password" in image_lib, "no get-login-password")
check("buildspec.yml: writes imagedefinitions.json and ships it as the artifact",
      "imagedefinitions.json" in build_cmds and "imagedefinitions.json" in bs.get("artifacts", {}).get("files", []),
      "imagedefinitions.json missing")
check("buildspec.yml: JUnit reports", "junit" in (bs.get("reports") or {}), "no reports")
codebuild_tf = root / "terraform/modules/ci-access/codebuild.tf"
if codebuild_tf.exists():
    text = codebuild_tf.read_text()
    check("terraform CodeBuild project points at buildspec.yml and sets ECR_REPOSITORY_URL",
          'buildspec       = "buildspec.yml"' in text or re.search(r'buildspec\s*=\s*"buildspec.yml"', text)
          and '"ECR_REPOSITORY_URL"' in text, "project does not use buildspec.yml")

print(json.dumps(results))
