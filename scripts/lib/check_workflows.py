"""What scripts/test-workflows.sh asserts about the pipelines, beyond schema validity.

Prints one JSON list of [name, ok, detail] to stdout. Needs PyYAML.
Usage: check_workflows.py REPO_ROOT

The rules under "every workflow" apply to any file in .github/workflows (present or future); the
named sections check what each of the project's pipelines must do.
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


def read(path):
    p = root / path
    return p.read_text() if p.exists() else ""


def load(path):
    # PyYAML reads the key `on` as True (YAML 1.1); map it back.
    data = yaml.safe_load(read(path)) or {}
    if isinstance(data, dict) and True in data:
        data["on"] = data.pop(True)
    return data


def jobs_of(workflow):
    return workflow.get("jobs", {}) or {}


def steps(workflow):
    for job in jobs_of(workflow).values():
        yield from job.get("steps", []) or []


def runs(workflow_or_job):
    items = workflow_or_job.get("steps", None)
    items = items if items is not None else list(steps(workflow_or_job))
    return "\n".join(s.get("run", "") for s in items or [])


def events(workflow):
    on = workflow.get("on", {}) or {}
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {e: {} for e in on}
    return on


def step_index(job, predicate):
    for i, s in enumerate(job.get("steps", []) or []):
        if predicate(s):
            return i
    return -1


def env_name(job):
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


# `uses: owner/repo[/path]@<40 hex> # vX.Y.Z`: a tag can be moved to other code, a commit cannot.
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(['\"]?)(?P<ref>[^\s'\"#]+)\1\s*(?:#\s*(?P<comment>.*))?$")
SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}\b")
PR_ONLY = re.compile(r"github\.event_name\s*==\s*'pull_request'")
INJECTION = re.compile(r"\$\{\{\s*(inputs\.|github\.event\.|github\.head_ref)")

workflow_paths = sorted((root / ".github/workflows").glob("*.y*ml"))
workflows = {p.name: load(p.relative_to(root)) for p in workflow_paths}
README_TEST = re.compile(r"\./mvnw -B\b[^\n]*\bverify\b")

# --- every workflow ---
for name, wf in workflows.items():
    text = read(f".github/workflows/{name}")
    check(f"{name}: least-privilege top-level permissions (contents: read)",
          wf.get("permissions") == {"contents": "read"}, f"got {wf.get('permissions')}")
    check(f"{name}: no stored AWS keys", not re.search(r"aws-access-key-id|aws-secret-access-key|secrets\.AWS_", text),
          "uses static AWS keys")
    bad_pins = []
    for line in text.splitlines():
        m = USES_LINE.match(line)
        if not m or m.group("ref").startswith("./"):
            continue
        ref, comment = m.group("ref"), (m.group("comment") or "").strip()
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                bad_pins.append(f"{ref} (docker image not pinned by digest)")
        elif not SHA_PINNED.match(ref):
            bad_pins.append(f"{ref} (not a full commit SHA)")
        elif not VERSION_COMMENT.match(comment):
            bad_pins.append(f"{ref} (no '# vX.Y.Z' comment naming the release)")
    check(f"{name}: every action pinned by full commit SHA with its version in a comment", not bad_pins,
          "; ".join(bad_pins))
    for job_id, job in jobs_of(wf).items():
        if "steps" in job:
            check(f"{name}: job {job_id} has a timeout", "timeout-minutes" in job, "no timeout-minutes")
        # A job that can mint an AWS token runs behind a GitHub environment (its protection rules
        # are what the role's trust names), or only for pull requests (the read-only plan role).
        perms = job.get("permissions") or {}
        if isinstance(perms, dict) and perms.get("id-token") == "write":
            pr_only = PR_ONLY.search(str(job.get("if", "")))
            check(f"{name}: job {job_id} with id-token: write runs in an environment or only on pull requests",
                  env_name(job) or pr_only, "neither environment: nor an if: limited to pull_request")
    injected = [s.get("name", s["run"][:40]) for s in steps(wf) if "run" in s and INJECTION.search(s["run"])]
    check(f"{name}: no inputs/event fields expanded inside run: scripts (pass them through env:)", not injected,
          f"steps: {injected}")
    for script in sorted(set(re.findall(r"\b(scripts/[\w./-]+\.sh)\b", text))):
        path = root / script
        check(f"{name}: {script} exists and is executable", path.is_file() and path.stat().st_mode & 0o111,
              "missing or not executable")

# --- ci.yml ---
ci = workflows.get("ci.yml", {})
on = events(ci)
check("ci.yml: runs on pull requests and pushes", "pull_request" in on and "push" in on, f"on: {list(on)}")
call = on.get("workflow_call") or {}
check("ci.yml: callable by deploy.yml with a commit, handing back the image digest",
      "ref" in (call.get("inputs") or {}) and "image-digest" in (call.get("outputs") or {}), f"workflow_call: {call}")
check("ci.yml: runs the README test command (./mvnw -B verify)", README_TEST.search(runs(ci)), "no ./mvnw -B verify")
check("ci.yml: Terraform fmt and validate", "terraform fmt -check" in runs(ci) and "validate" in runs(ci),
      "no terraform checks")
check("ci.yml: provider mirror for the offline Terraform tests", "providers mirror" in runs(ci) and "/opt/tf-plugins" in runs(ci),
      "no terraform providers mirror")
uploads = [s for s in steps(ci) if s.get("uses", "").startswith("actions/upload-artifact@")]
check("ci.yml: uploads test reports even on failure",
      any(u.get("if") == "always()" and "surefire-reports" in u.get("with", {}).get("path", "") for u in uploads),
      "no always() upload of surefire reports")
check("ci.yml: installs the image test's tools",
      all(t in runs(ci) for t in ("podman", "skopeo", "umoci", "docker-registry", "shellcheck", "chromium")),
      "apt-get line lacks a tool")
check("ci.yml: Python tools from the pinned requirements file", "-r scripts/requirements-ci.txt" in runs(ci),
      "pip install without scripts/requirements-ci.txt")
image_job = jobs_of(ci).get("image", {})
check("ci.yml: the image is built once, smoke-tested and kept (ship-image.sh build --smoke, artifact 'image')",
      "scripts/ship-image.sh build" in runs(image_job) and "--smoke" in runs(image_job)
      and any(s.get("uses", "").startswith("actions/upload-artifact@") and s.get("with", {}).get("name") == "image"
              for s in image_job.get("steps", [])),
      "no image job building, smoke-testing and uploading the image")

# --- deploy.yml ---
dep = workflows.get("deploy.yml", {})
on = events(dep)
check("deploy.yml: on push to main", (on.get("push") or {}).get("branches") == ["main"], f"on: {on}")
dispatch_inputs = (on.get("workflow_dispatch") or {}).get("inputs") or {}
check("deploy.yml: workflow_dispatch takes a commit to (re)deploy", "commit" in dispatch_inputs,
      f"workflow_dispatch inputs: {list(dispatch_inputs)}")
jobs = jobs_of(dep)
ci_job_id, ci_job = next(((k, j) for k, j in jobs.items() if j.get("uses") == "./.github/workflows/ci.yml"), (None, {}))
check("deploy.yml: CI tests the commit being deployed", "inputs.commit" in str((ci_job.get("with") or {}).get("ref", "")),
      f"ci job with: {ci_job.get('with')}")
deploy_job = next((j for j in jobs.values() if "steps" in j and any(
    "amazon-ecs-deploy-task-definition" in s.get("uses", "") for s in j["steps"])), {})
check("deploy.yml: runs after CI (needs the ci job calling ci.yml)",
      ci_job_id is not None and deploy_job.get("needs") in (ci_job_id, [ci_job_id]), "deploy does not depend on CI")
check("deploy.yml: deploy job runs in the protected 'production' environment", env_name(deploy_job) == "production",
      f"environment: {deploy_job.get('environment')}")
check("deploy.yml: id-token: write for OIDC", (deploy_job.get("permissions") or {}).get("id-token") == "write",
      f"permissions: {deploy_job.get('permissions')}")
conc = deploy_job.get("concurrency") or dep.get("concurrency") or {}
check("deploy.yml: concurrency, never cancelling a running deploy",
      isinstance(conc, dict) and conc.get("group") and conc.get("cancel-in-progress") is False, f"concurrency: {conc}")
dsteps = deploy_job.get("steps", []) or []
by_action = {s.get("uses", "").split("@")[0]: s for s in dsteps}
creds = by_action.get("aws-actions/configure-aws-credentials", {}).get("with", {})
check("deploy.yml: configure-aws-credentials assumes a role", "role-to-assume" in creds, f"with: {creds}")
dep_runs = runs(deploy_job)
check("deploy.yml: ships the image CI tested, never rebuilds it",
      "scripts/ship-image.sh push" in dep_runs and "jib" not in dep_runs and "--build-only" not in dep_runs
      and "needs.ci.outputs.image-digest" in json.dumps(deploy_job.get("env", {}))
      and "actions/download-artifact" in by_action,
      "no ship-image.sh push of the downloaded, digest-checked artifact (or a rebuild)")
render = by_action.get("aws-actions/amazon-ecs-render-task-definition", {})
image_step = next((s for s in dsteps if "scripts/ship-image.sh push" in s.get("run", "")), {})
check("deploy.yml: renders the live task definition with the image by digest",
      "aws ecs describe-task-definition" in dep_runs and image_step.get("id")
      and f"steps.{image_step.get('id')}.outputs.image" in str(render.get("with", {}).get("image", ""))
      and "image_by_digest" in image_step.get("run", ""),
      "render does not use the pushed image by digest")
ecs_deploy = by_action.get("aws-actions/amazon-ecs-deploy-task-definition", {})
check("deploy.yml: deploys with wait-for-service-stability", (ecs_deploy.get("with") or {}).get("wait-for-service-stability") is True,
      f"with: {ecs_deploy.get('with')}")
i_deploy = step_index(deploy_job, lambda s: "amazon-ecs-deploy-task-definition" in s.get("uses", ""))
i_verify = step_index(deploy_job, lambda s: "scripts/rollout.sh verify" in s.get("run", ""))
i_current = step_index(deploy_job, lambda s: "scripts/rollout.sh current" in s.get("run", ""))
verify_env = json.dumps((dsteps[i_verify].get("env") if i_verify >= 0 else {}) or {})
check("deploy.yml: after the deploy, checks the PRIMARY deployment runs the new revision (fails if ECS rolled back)",
      i_deploy >= 0 and i_verify > i_deploy and f"steps.{ecs_deploy.get('id')}.outputs.task-definition-arn" in verify_env,
      "no scripts/rollout.sh verify of the deploy action's task-definition-arn after the deploy")
i_smoke = step_index(deploy_job, lambda s: "scripts/smoke.sh" in s.get("run", "") and "rollback" not in s.get("run", ""))
smoke_id = dsteps[i_smoke].get("id") if i_smoke >= 0 else None
rollback = next((s for s in dsteps if "scripts/rollout.sh rollback" in s.get("run", "")), {})
check("deploy.yml: a failed smoke test rolls back to the revision recorded before the deploy",
      smoke_id and 0 <= i_current < i_deploy and "failure()" in str(rollback.get("if", ""))
      and f"steps.{smoke_id}.outcome == 'failure'" in str(rollback.get("if", ""))
      and "SERVICE_URL" in dep_runs,
      "no rollout.sh current before the deploy and rollback if: failure() && the smoke step failed")
check("deploy.yml: job summary with image digest and URL",
      "GITHUB_STEP_SUMMARY" in dep_runs and "DIGEST" in dep_runs and "SERVICE_URL" in dep_runs, "no summary")

# Repository variables the deploy reads must be Terraform outputs (names in docs/DEPLOY.md).
outputs_tf = read("terraform/envs/dev/outputs.tf")
var_to_output = {"AWS_REGION": "aws_region", "AWS_DEPLOY_ROLE_ARN": "github_deploy_role_arn",
                 "ECR_REPOSITORY_URL": "ecr_repository_url", "ECS_CLUSTER": "ecs_cluster_name",
                 "ECS_SERVICE": "ecs_service_name", "ECS_TASK_FAMILY": "task_definition_family",
                 "ECS_CONTAINER_NAME": "container_name", "SERVICE_URL": "service_url"}
dep_text = read(".github/workflows/deploy.yml")
docs = read("docs/DEPLOY.md")
for var, output in var_to_output.items():
    check(f"deploy.yml: vars.{var} <- terraform output {output} (documented)",
          f"vars.{var}" in dep_text and f'output "{output}"' in outputs_tf and var in docs and output in docs,
          "variable, output or its documentation missing")

# --- terraform.yml: the read-only role for pull requests, the apply role behind an environment ---
tf = workflows.get("terraform.yml")
if tf is not None:
    on = events(tf)
    check("terraform.yml: plans on pull requests touching terraform/",
          "terraform/**" in ((on.get("pull_request") or {}).get("paths") or []), f"on: {on}")
    tjobs = jobs_of(tf)

    def role_of(job):
        step = next((s for s in job.get("steps", []) or [] if "configure-aws-credentials" in s.get("uses", "")), {})
        return str((step.get("with") or {}).get("role-to-assume", ""))

    pr_jobs = {k: j for k, j in tjobs.items() if PR_ONLY.search(str(j.get("if", "")))}
    other = {k: j for k, j in tjobs.items() if k not in pr_jobs}
    check("terraform.yml: pull requests plan with the read-only plan role, outside any environment",
          pr_jobs and all("TERRAFORM_PLAN_ROLE_ARN" in role_of(j) and not env_name(j) and " apply" not in runs(j)
                          for j in pr_jobs.values()),
          f"pull request jobs: {list(pr_jobs)}")
    check("terraform.yml: the apply role is used only in the 'terraform' environment, never on pull requests",
          all("TERRAFORM_PLAN_ROLE_ARN" not in role_of(j) for j in other.values())
          and all(env_name(j) == "terraform" for j in other.values() if role_of(j))
          and all("TERRAFORM_APPLY_ROLE_ARN" not in role_of(j) for j in pr_jobs.values()),
          "a role is used outside its trusted context")
    plan_job = next(((k, j) for k, j in other.items() if "terraform-ci.sh plan" in runs(j)), (None, {}))
    apply_job = next((j for j in other.values() if "terraform-ci.sh apply" in runs(j)), {})
    apply_dl = [s for s in apply_job.get("steps", []) if s.get("uses", "").startswith("actions/download-artifact@")]
    plan_ul = [s for s in plan_job[1].get("steps", []) if s.get("uses", "").startswith("actions/upload-artifact@")]
    check("terraform.yml: the reviewer sees the saved plan in the summary; apply applies exactly that plan",
          plan_job[0] and "GITHUB_STEP_SUMMARY" in runs(plan_job[1]) and plan_ul and apply_dl
          and apply_job.get("needs") in (plan_job[0], [plan_job[0]])
          and plan_ul[0].get("with", {}).get("name") == apply_dl[0].get("with", {}).get("name")
          and "--plan-file" in runs(apply_job) and "terraform-ci.sh plan" not in runs(apply_job),
          "no plan job uploading a plan that the apply job downloads and applies")

# --- destroy.yml: typed confirmation, protected environment ---
de = workflows.get("destroy.yml")
check("destroy.yml exists (tear down from GitHub)", de is not None, "no destroy workflow")
if de is not None:
    on = events(de)
    check("destroy.yml: only by hand (workflow_dispatch)", list(on) == ["workflow_dispatch"], f"on: {list(on)}")
    inputs = (on.get("workflow_dispatch") or {}).get("inputs") or {}
    check("destroy.yml: a required typed confirmation input", (inputs.get("confirm") or {}).get("required") is True
          and (inputs.get("confirm") or {}).get("type") == "string", f"inputs: {inputs}")
    check("destroy.yml: data deleted only when asked (delete_data, default false)",
          (inputs.get("delete_data") or {}).get("default") is False, f"inputs: {inputs}")
    djobs = jobs_of(de)
    destroyer = next(((k, j) for k, j in djobs.items() if "terraform-ci.sh destroy" in runs(j) or "destroy.sh" in runs(j)), (None, {}))
    checker = next(((k, j) for k, j in djobs.items() if k != destroyer[0] and re.search(r"CONFIRM.*!=|!=.*CONFIRM", runs(j))), (None, {}))
    check("destroy.yml: the confirmation is checked before the destroy job may start",
          checker[0] and destroyer[1].get("needs") in (checker[0], [checker[0]]), "no checking job the destroy needs")
    check("destroy.yml: the destroy runs in the protected 'terraform' environment and passes the confirmation on",
          env_name(destroyer[1]) == "terraform" and "inputs.confirm" in str((destroyer[1].get("env") or {}).get("CONFIRM_DESTROY", "")),
          f"destroy job: environment {destroyer[1].get('environment')}, env {destroyer[1].get('env')}")

# --- buildspecs ---
for spec in sorted(p.name for p in root.glob("buildspec*.yml")):
    bs = load(spec)
    check(f"{spec}: version 0.2", str(bs.get("version")) == "0.2", f"version {bs.get('version')}")
    commands = "\n".join(c for ph in (bs.get("phases") or {}).values() for c in (ph or {}).get("commands", []) or [])
    downloads = len(re.findall(r"\b(curl|wget)\b", commands))
    verified = len(re.findall(r"sha256sum -c", commands))
    check(f"{spec}: every download is checked against a SHA-256", downloads == verified,
          f"{downloads} downloads, {verified} checksum checks")
    pip_lines = [line for line in commands.splitlines() if re.search(r"\bpip3? install\b", line)]
    check(f"{spec}: Python tools only from the pinned requirements file",
          all("-r scripts/requirements-ci.txt" in line for line in pip_lines), f"{pip_lines}")

requirements = [line.strip() for line in read("scripts/requirements-ci.txt").splitlines()
                if line.strip() and not line.startswith("#")]
check("scripts/requirements-ci.txt: every tool pinned with ==", requirements and all(re.search(r"==\d", r) for r in requirements),
      f"{requirements}")

bs = load("buildspec.yml")
build_cmds = "\n".join(bs.get("phases", {}).get("build", {}).get("commands", []))
check("buildspec.yml: runs the README test command", README_TEST.search(build_cmds), "no ./mvnw -B verify")
check("buildspec.yml: Jib push tagged with the source commit",
      "scripts/deploy.sh --build-only" in build_cmds and "CODEBUILD_RESOLVED_SOURCE_VERSION" in build_cmds,
      "no Jib push")
image_lib = read("scripts/lib/image.sh")
check("buildspec.yml: ECR login with aws ecr get-login-password (scripts/lib/image.sh)",
      "aws ecr get-login-password" in image_lib, "no get-login-password")
check("buildspec.yml: imagedefinitions.json names the pushed image by digest, shipped as the artifact",
      "imagedefinitions.json" in build_cmds and "IMAGE_DIGEST" in build_cmds and "@%s" in build_cmds
      and "imagedefinitions.json" in bs.get("artifacts", {}).get("files", []),
      "imagedefinitions.json missing or by tag")
check("buildspec.yml: JUnit reports", "junit" in (bs.get("reports") or {}), "no reports")
tbs = load("buildspec-terraform.yml")
tcmds = "\n".join(c for ph in (tbs.get("phases") or {}).values() for c in (ph or {}).get("commands", []) or [])
check("buildspec-terraform.yml: runs scripts/terraform-ci.sh with TF_ACTION (destroy guarded there)",
      'scripts/terraform-ci.sh "$TF_ACTION"' in tcmds and "CONFIRM_DESTROY" in read("scripts/terraform-ci.sh"),
      "no terraform-ci.sh \"$TF_ACTION\"")
for tf_file, spec in (("terraform/modules/ci-access/codebuild.tf", "buildspec.yml"),
                      ("terraform/modules/codepipeline/main.tf", "buildspec.yml"),
                      ("terraform/modules/terraform-ci/codebuild.tf", "buildspec-terraform.yml")):
    text = read(tf_file)
    if text:
        check(f"{tf_file}: the CodeBuild project runs {spec}", re.search(rf'buildspec\s*=\s*"{re.escape(spec)}"', text),
              f"project does not use {spec}")

print(json.dumps(results))
