#!/usr/bin/env python3
"""End-to-end test of an env stack against a local moto server.

Starts moto (as a library, with a small shim for its known gaps) on 127.0.0.1,
copies terraform/ to a temporary folder, adds an override file there that swaps
the S3 backend for a local one and points the AWS provider at moto, then:

  init -> apply -> check resources through the AWS API -> plan (no changes
  except the emulator drift named below) -> change the image tag, apply the
  update, check the service runs the new revision -> destroy -> check through
  the AWS API that nothing is left behind.

The stack in the repository is never modified. Prints one TAP-like line per
check ("ok - ..." / "not ok - ..."); exits 0 when all pass, 1 when one fails,
3 when a prerequisite (terraform, the provider mirror, moto) is missing.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TERRAFORM_ROOT = HERE.parent
REGION = "us-east-1"
FIRST_SHA = "1111111111111111111111111111111111111111"
SECOND_SHA = "2222222222222222222222222222222222222222"

# Attributes moto 5.2 does not read back the way AWS does. A plan that differs
# from the applied config only in these is still "no changes"; anything else is
# real drift and fails the test. (resource type, attribute) -> (applies?, why).
def _always(_before: dict) -> bool:
    return True


def _sg_referencing_rule(before: dict) -> bool:
    return bool(before.get("referenced_security_group_id") or before.get("prefix_list_id"))


EMULATOR_DRIFT = {
    ("aws_codebuild_project", "concurrent_build_limit"):
        (_always, "moto's BatchGetProjects does not echo concurrentBuildLimit"),
    ("aws_ecs_service", "health_check_grace_period_seconds"):
        (_always, "moto's DescribeServices returns 0 instead of the value set"),
    ("aws_ecs_service", "availability_zone_rebalancing"):
        (_always, "moto's DescribeServices does not echo availabilityZoneRebalancing"),
    ("aws_ecs_service", "enable_ecs_managed_tags"):
        (_always, "moto's DescribeServices does not echo enableECSManagedTags"),
    ("aws_vpc_security_group_ingress_rule", "description"):
        (_sg_referencing_rule, "moto drops the description of rules that reference a security group or prefix list"),
    ("aws_vpc_security_group_egress_rule", "description"):
        (_sg_referencing_rule, "moto drops the description of rules that reference a security group or prefix list"),
    ("aws_s3_bucket_notification", "eventbridge"):
        (_always, "moto's GetBucketNotificationConfiguration never returns the (empty) "
                  "EventBridgeConfiguration it was given"),
}

# Provider endpoints pointed at moto (every service the stack uses).
SERVICES = [
    "applicationautoscaling", "cloudwatch", "codebuild", "codepipeline", "ec2", "ecr", "ecs",
    "elbv2", "events", "iam", "logs", "s3", "secretsmanager", "sfn", "sns", "sts", "wafv2",
    "amp", "scheduler",
]

# What the hardening options create that moto stores but cannot exercise; checked here
# only as configuration read back through the API, covered otherwise as said:
NOT_EMULATED = [
    "VPC endpoints route nothing in moto: private DNS and the S3 gateway route are checked as "
    "configuration (and by the terraform mock tests), not by traffic",
    "no flow log records are delivered: the flow log and its log group are checked as configuration",
    "no ALB access log is written: the ALB attributes and the bucket policy are checked as "
    "configuration",
    "WAFv2 evaluates no request: the web ACL, its rules and the association are checked as "
    "configuration; the managed rule sets' behaviour is AWS's",
]
TOKEN_SECRET = "ml-serve-ecs-dev/api-tokens"

# What moto 5.2 cannot emulate of the stack, turned off in the e2e tfvars and
# covered instead by `terraform test` on a mock provider (docs/MONITORING.md):
# - aws_prometheus_alert_manager_definition: moto's AMP has workspaces and rule
#   group namespaces, no alertmanager API (amp_alert_manager = false);
# - aws_grafana_workspace: no Managed Grafana in moto (off by default anyway).
# Nothing here runs: no scrape, remote write, rule evaluation or schedule fires.

RESULTS: list[tuple[bool, str]] = []


def report(ok: bool, name: str, detail: str = "") -> bool:
    RESULTS.append((ok, name))
    line = f"{'ok' if ok else 'not ok'} - {name}"
    if detail:
        line += f" ({detail})" if ok else f": {detail}"
    print(line, flush=True)
    return ok


# ------------------------------------------------------------------ moto ---

def start_moto(request_log: Path):
    """Start moto in this process with the shim it needs; return (server, url). Every request
    moto answers gets a line in request_log (kept with the work dir when a check fails)."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.codebuild.responses import CodeBuildResponse
    from moto.server import DomainDispatcherApplication, create_backend_app
    from moto.stepfunctions.responses import StepFunctionResponse

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines

    # Gap: moto 5.2 lacks the tagging API of Application Auto Scaling, and the
    # provider retries ListTagsForResource forever. Keep tags in memory here.
    tags: dict[str, dict[str, str]] = {}
    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def _arn(self) -> str:
        return self._get_param("ResourceARN") or ""

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags.get(_arn(self), {})})

    def tag_resource(self):
        tags.setdefault(_arn(self), {}).update(self._get_param("Tags") or {})
        return json.dumps({})

    def untag_resource(self):
        for key in self._get_param("TagKeys") or []:
            tags.get(_arn(self), {}).pop(key, None)
        return json.dumps({})

    def register_scalable_target(self):
        body = original_register(self)
        try:
            arn = json.loads(body).get("ScalableTargetARN")
        except (TypeError, ValueError):
            arn = None
        if arn and self._get_param("Tags"):
            tags.setdefault(arn, {}).update(self._get_param("Tags"))
        return body

    # Gap: moto's DeleteProject takes only a name, the provider sends the ARN.
    def delete_project(self):
        name = self._get_param("name") or ""
        self.codebuild_backend.delete_project(name.rsplit("/", 1)[-1] if name.startswith("arn:") else name)
        return "{}"

    # Gap: moto 5.2 has no ValidateStateMachineDefinition, which the provider calls before
    # creating a state machine (and retries until it times out). Answer it with this
    # test's own structural check of the definition (asl_problems), not AWS's validator.
    def validate_state_machine_definition(self):
        try:
            problems = asl_problems(json.loads(self._get_param("definition") or "{}"))
        except (ValueError, KeyError, TypeError) as e:
            problems = [f"unreadable definition: {e}"]
        return json.dumps({
            "result": "FAIL" if problems else "OK",
            "diagnostics": [{"severity": "ERROR", "code": "E2E_ASL_CHECK", "message": p}
                            for p in problems],
        })

    # Gap: nor ListStateMachineVersions, which the provider reads after creating one (and
    # retries forever). This stack publishes no versions: answer with none.
    def list_state_machine_versions(self):
        return json.dumps({"stateMachineVersions": []})

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
    CodeBuildResponse.delete_project = delete_project

    # Gap: moto requires a source and artifacts location even for CODEPIPELINE projects, where AWS
    # ignores it (the pipeline hands the build its input and takes its output).
    import moto.codebuild.responses as codebuild_responses
    check_source = codebuild_responses._validate_required_params_source
    check_artifacts = codebuild_responses._validate_required_params_artifacts

    def validate_source(source):
        if source.get("type") != "CODEPIPELINE":
            check_source(source)

    def validate_artifacts(artifacts):
        if artifacts.get("type") != "CODEPIPELINE":
            check_artifacts(artifacts)

    # Gap: moto's GetPipeline/ListPipelines send timestamps as ISO strings; the AWS JSON protocol
    # (and the provider's SDK) wants epoch seconds.
    from moto.codepipeline.models import CodePipeline

    def pipeline_metadata(self):
        return {"pipelineArn": self._arn, "created": self._created.timestamp(),
                "updated": self._updated.timestamp()}

    CodePipeline.metadata = property(pipeline_metadata)
    codebuild_responses._validate_required_params_source = validate_source
    codebuild_responses._validate_required_params_artifacts = validate_artifacts
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = SerialMotoServer(DomainDispatcherApplication(create_backend_app), port, request_log)
    return server, f"http://127.0.0.1:{port}"


class SerialMotoServer:
    """moto's app on loopback, answering one request at a time, and answering a retry of a call
    it has already carried out with the answer it gave.

    One at a time: moto's backends are not thread-safe, and Terraform calls them ten at a time.
    AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress rebuild a group's rule list from
    what they read, so two calls on one group can lose a change. AWS applies each call atomically;
    a lock around each request does the same. Connections are still accepted on threads.

    Retries: a few times per run the provider's HTTP client gives up on a connection after moto
    has carried out its call (moto's side sometimes sees a ConnectionResetError, mostly nothing;
    the cause is not known). The AWS SDK then sends the call again, with the same
    amz-sdk-invocation-id and "attempt=2". moto has no idempotency (it ignores ClientToken), so
    the retry created a second VPC endpoint that nothing destroyed, or failed DeleteScalingPolicy
    with "not found": each failed a run here. A call retried after moto answered it gets that
    answer again instead.

    Every request gets a line in request_log: time, duration, status, the call, its invocation
    id and attempt; "REPLAY" marks an answer given again, "DROPPED" a connection lost."""

    def __init__(self, app, port: int, request_log: Path):
        from urllib.parse import parse_qs

        from werkzeug.serving import WSGIRequestHandler, make_server

        lock = threading.Lock()
        self._log = log = open(request_log, "a", buffering=1)
        started = time.monotonic()
        answered: dict[str, tuple[str, list, list[bytes]]] = {}  # invocation id -> the answer

        def serial(environ, start_response):
            # What was called: the JSON protocols name it in X-Amz-Target, the query protocols
            # (EC2, IAM, ...) in the form's Action, REST ones (S3, Lambda) by method and path.
            call = environ.get("HTTP_X_AMZ_TARGET", "")
            if not call and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form"):
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                call = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
            call = call or f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
            invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
            attempt = environ.get("HTTP_AMZ_SDK_REQUEST", "").replace(" ", "")
            line = f"{call} {invocation or '-'} {attempt or '-'}"
            with lock:
                begun = time.monotonic()
                if invocation in answered and not attempt.startswith("attempt=1;"):
                    status, headers, body = answered[invocation]
                    start_response(status, headers)
                    log.write(f"{begun - started:9.3f} REPLAY {status.split(' ', 1)[0]} {line}\n")
                    return body
                answer = ("-", [])

                def record(status, headers, exc_info=None):
                    nonlocal answer
                    answer = (status, headers)
                    return start_response(status, headers, exc_info)

                body = list(app(environ, record))  # the whole answer, built under the lock
                status = answer[0]
                if invocation and status[0] in "1234":
                    if len(answered) >= 10_000:
                        answered.pop(next(iter(answered)))
                    answered[invocation] = (*answer, body)
                log.write(f"{begun - started:9.3f} {(time.monotonic() - begun) * 1000:7.1f}ms "
                          f"{status.split(' ', 1)[0]} {line}\n")
                return body

        class Handler(WSGIRequestHandler):
            def connection_dropped(self, error, environ=None):
                invocation = (environ or {}).get("HTTP_AMZ_SDK_INVOCATION_ID", "-")
                log.write(f"{time.monotonic() - started:9.3f} DROPPED {error!r} {invocation}\n")

        self._server = make_server("127.0.0.1", port, serial, threaded=True, request_handler=Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._log.close()


# ------------------------------------------------------------- terraform ---

class StepFailed(Exception):
    pass


def run(cmd: list[str], cwd: Path, env: dict, timeout: int, log: Path) -> tuple[int, float]:
    """Run a command in its own process group; kill the whole group on timeout."""
    started = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise StepFailed(f"timed out after {timeout}s (log: {log})")
    return rc, time.monotonic() - started


def tail(log: Path, lines: int = 40) -> str:
    """The end of the last command's output, led by its error blocks: Terraform prints its
    "Error:" blocks last, but a report that is cut short should still show them first."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    last = text[text.rfind("\n$ ") + 1:].splitlines()
    errors = [i for i, line in enumerate(last) if line.lstrip("│ ").startswith("Error:")]
    blocks = "\n".join(last[errors[0]:errors[0] + 30]) if errors else ""
    end = "\n".join(last[-lines:])
    return f"{blocks}\n--- last {lines} lines:\n{end}" if blocks else end


def write_override(stack: Path, endpoint: str, state: Path) -> None:
    endpoints = "\n".join(f'    {s:<22} = "{endpoint}"' for s in SERVICES)
    (stack / "e2e_moto_override.tf").write_text(f"""\
# Written by terraform/tests/e2e_moto.py into a temporary copy of the stack.
terraform {{
  backend "local" {{
    path = "{state}"
  }}
}}

provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
""")


def write_tfvars(stack: Path, image_tag: str, token_secret_arn: str) -> None:
    (stack / "e2e.auto.tfvars.json").write_text(json.dumps({
        "aws_region": REGION,
        "github_repository": "example-org/ml-serve-ecs",
        "image_tag": image_tag,
        # Terraform deploys the image here, so the update step can change it.
        "ci_deploys": False,
        "force_destroy": True,
        "alarm_emails": ["oncall@example.com"],
        # The optional CodePipeline path, with a connection moto cannot create passed in.
        "enable_codepipeline": True,
        "codeconnections_connection_arn": FAKE_CONNECTION,
        # The hardened shape: private tasks behind endpoints, WAF, API tokens.
        "private_networking": True,
        "waf_enabled": True,
        "api_tokens_secret_arn": token_secret_arn,
        "amp_alert_manager": False,  # moto has no alertmanager API (see SERVICES)
    }, indent=2))


# ------------------------------------------------------------- pipelines ---

# A CodeConnections connection stands in by ARN: moto 5.2 has no CodeConnections (or CodeStar
# Connections) API. The modules' tests check the created-connection path with the mock provider.
FAKE_CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/11111111-2222-3333-4444-555555555555"

NOT_EMULATED = [
    "CodeConnections: moto has no API; a connection ARN is passed in (approving a connection is a console step)",
    "a pipeline execution (source -> build -> ECS deploy): moto stores pipelines but never runs them",
    "a CodeBuild build: moto stores projects but runs no buildspec (buildspec*.yml are checked by scripts/test-workflows.sh)",
    "STS AssumeRole/AssumeRoleWithWebIdentity against trust conditions: moto does not evaluate them; the rendered "
    "trust policies are asserted here and in terraform test",
]


def trust(iam, role: str) -> dict:
    doc = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else doc


def check_pipeline(aws, name: str) -> list[str]:
    """The optional CodePipeline of the dev stack, read back through the AWS API."""
    problems = []
    pipeline = aws("codepipeline").get_pipeline(name=name)["pipeline"]
    stages = [(s["name"], [a["actionTypeId"]["provider"] for a in s["actions"]]) for s in pipeline["stages"]]
    if stages != [("Source", ["CodeStarSourceConnection"]), ("Build", ["CodeBuild"]), ("Deploy", ["ECS"])]:
        problems.append(f"pipeline stages: {stages}")
    deploy = pipeline["stages"][2]["actions"][0]["configuration"]
    if deploy.get("FileName") != "imagedefinitions.json":
        problems.append(f"deploy action configuration: {deploy}")
    build_name = pipeline["stages"][1]["actions"][0]["configuration"]["ProjectName"]
    project = aws("codebuild").batch_get_projects(names=[build_name])["projects"][0]
    if project["source"]["type"] != "CODEPIPELINE" or project["source"].get("buildspec") != "buildspec.yml":
        problems.append(f"build project source: {project['source']}")
    iam = aws("iam")
    role = pipeline["roleArn"].rsplit("/", 1)[-1]
    condition = trust(iam, role)["Statement"][0]["Condition"]["StringEquals"]
    if condition.get("aws:SourceArn") != f"arn:aws:codepipeline:{REGION}:123456789012:{name}":
        problems.append(f"pipeline role trust: {condition}")
    build_role = project["serviceRole"].rsplit("/", 1)[-1]
    condition = trust(iam, build_role)["Statement"][0]["Condition"]["StringEquals"]
    if condition.get("aws:SourceArn") != project["arn"]:
        problems.append(f"build role trust {condition} does not name {project['arn']}")
    return problems


CI_ROOT = """\
# Written by terraform/tests/e2e_moto.py: the Terraform CI roles (terraform/bootstrap's module).
terraform {{
  backend "local" {{
    path = "{state}"
  }}
}}

provider "aws" {{
  region                      = "{region}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {{
{endpoints}
  }}
}}

resource "aws_iam_openid_connect_provider" "github" {{
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}}

module "terraform_ci" {{
  source = "../modules/terraform-ci"

  name                     = "ml-serve-ecs"
  stack_prefix             = "ml-serve-ecs-"
  github_repository        = "example-org/ml-serve-ecs"
  oidc_provider_arn        = aws_iam_openid_connect_provider.github.arn
  state_bucket_name        = "ml-serve-ecs-tfstate"
  codebuild_connection_arn = "{connection}"
}}
"""


def run_ci_roles_stack(tf_dir: Path, endpoint: str, state: Path, tf, show_plan, aws) -> None:
    """Apply, check, plan, destroy the Terraform CI roles and runner (modules/terraform-ci)."""
    tf_dir.mkdir(parents=True, exist_ok=True)
    endpoints = "\n".join(f'    {s:<22} = "{endpoint}"' for s in SERVICES)
    (tf_dir / "main.tf").write_text(CI_ROOT.format(state=state, region=REGION, endpoints=endpoints,
                                                   connection=FAKE_CONNECTION))
    applied = False
    try:
        tf(tf_dir, "init", "-input=false", "-no-color")
        applied = True
        secs = tf(tf_dir, "apply", "-auto-approve", "-input=false", "-no-color")
        iam = aws("iam")
        plan_sub = trust(iam, "ml-serve-ecs-terraform-plan")["Statement"][0]["Condition"]["StringEquals"]
        apply_sub = trust(iam, "ml-serve-ecs-terraform-apply")["Statement"][0]["Condition"]["StringEquals"]
        key = "token.actions.githubusercontent.com:sub"
        problems = []
        if plan_sub.get(key) not in (["repo:example-org/ml-serve-ecs:pull_request"], "repo:example-org/ml-serve-ecs:pull_request"):
            problems.append(f"plan role trusts {plan_sub.get(key)}")
        if apply_sub.get(key) not in (["repo:example-org/ml-serve-ecs:environment:terraform"],
                                      "repo:example-org/ml-serve-ecs:environment:terraform"):
            problems.append(f"apply role trusts {apply_sub.get(key)}")
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="ml-serve-ecs-terraform-apply")["AttachedPolicies"]]
        if attached != ["ml-serve-ecs-terraform-apply"]:
            problems.append(f"apply role policies: {attached}")
        project = aws("codebuild").batch_get_projects(names=["ml-serve-ecs-terraform"])["projects"]
        if not project or project[0]["source"].get("buildspec") != "buildspec-terraform.yml":
            problems.append(f"terraform project: {project}")
        report(not problems, "e2e Terraform CI roles and CodeBuild runner applied as declared", f"{secs:.0f}s"
               if not problems else "; ".join(problems))
        plan_file = tf_dir / "plan.tfplan"
        secs = tf(tf_dir, "plan", "-input=false", "-no-color", f"-out={plan_file}")
        emulator, real = analyse_plan(json.loads(show_plan(tf_dir, plan_file)))
        for d in emulator:
            print(f"# emulator drift (ignored): {d}", flush=True)
        report(not real, "e2e Terraform CI roles: plan after apply shows no changes",
               f"{secs:.0f}s, {len(emulator)} emulator drift" if not real else "real drift:\n  " + "\n  ".join(real))
    except Exception as e:  # noqa: BLE001 - any failure fails the run, then we clean up
        report(False, "e2e Terraform CI roles apply/plan", f"{type(e).__name__}: {e}")
    finally:
        if applied:
            try:
                secs = tf(tf_dir, "destroy", "-auto-approve", "-input=false", "-no-color")
                report(True, "e2e Terraform CI roles destroy", f"{secs:.0f}s")
            except StepFailed as e:
                report(False, "e2e Terraform CI roles destroy", str(e))
            iam = aws("iam")
            left = [f"iam role {r['RoleName']}" for r in iam.list_roles()["Roles"]]
            left += [f"iam policy {p['PolicyName']}" for p in iam.list_policies(Scope="Local")["Policies"]]
            left += [f"codebuild project {p}" for p in aws("codebuild").list_projects()["projects"]]
            left += [f"log group {g['logGroupName']}" for g in aws("logs").describe_log_groups()["logGroups"]]
            report(not left, "e2e Terraform CI roles destroy leaves nothing behind", "; ".join(left))


# ---------------------------------------------------------------- checks ---

def analyse_plan(plan_json: dict) -> tuple[list[str], list[str]]:
    """Split the plan's changes into (emulator drift, real drift) descriptions."""
    emulator, real = [], []
    for rc in plan_json.get("resource_changes", []):
        actions = rc["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        if actions != ["update"]:
            real.append(f"{rc['address']}: {'/'.join(actions)}")
            continue
        before = rc["change"].get("before") or {}
        after = rc["change"].get("after") or {}
        unknown = rc["change"].get("after_unknown") or {}
        changed = sorted(k for k in set(before) | set(after) | set(unknown)
                         if before.get(k) != after.get(k) or unknown.get(k) is True)
        for attr in changed:
            desc = f"{rc['address']}.{attr}: {before.get(attr)!r} -> {after.get(attr)!r}"
            applies, why = EMULATOR_DRIFT.get((rc["type"], attr), (None, ""))
            if applies is not None and applies(before):
                emulator.append(f"{desc} [{why}]")
            else:
                real.append(desc)
    return emulator, real


def check_applied(aws, outputs: dict) -> list[str]:
    """Security and reliability properties, read back through the AWS API."""
    problems = []
    bucket = outputs["model_bucket_name"]
    s3 = aws("s3")
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    if not all(pab.values()):
        problems.append(f"bucket public access block incomplete: {pab}")
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        problems.append("bucket versioning is not enabled")
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    if sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] not in ("AES256", "aws:kms"):
        problems.append(f"bucket not encrypted: {sse}")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    if not any(st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
               for st in policy["Statement"]):
        problems.append("bucket policy does not deny plain HTTP")

    ecs = aws("ecs")
    svc = ecs.describe_services(cluster=outputs["ecs_cluster_name"],
                                services=[outputs["ecs_service_name"]])["services"][0]
    # moto keeps no deploymentConfiguration; where it does, check the breaker.
    breaker = svc.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker")
    if breaker is not None and not (breaker.get("enable") and breaker.get("rollback")):
        problems.append(f"circuit breaker not on with rollback: {breaker}")
    if svc.get("launchType") != "FARGATE":
        problems.append(f"service is not on Fargate: {svc.get('launchType')}")
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    container = td["containerDefinitions"][0]
    if container.get("healthCheck", {}).get("command", [None])[0] != "CMD":
        problems.append("container has no health check")

    logs = aws("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=outputs["log_group_name"])["logGroups"]
    if not groups or not groups[0].get("retentionInDays"):
        problems.append("service log group has no retention")

    # Metrics: the sidecar beside the service, writing to the stack's AMP workspace.
    names = [c["name"] for c in td["containerDefinitions"]]
    if names != [outputs["container_name"], "adot-collector"]:
        problems.append(f"task containers are {names}, expected the service and adot-collector")
    else:
        env = {e["name"]: e["value"] for e in td["containerDefinitions"][1].get("environment", [])}
        ws = aws("amp").describe_workspace(workspaceId=outputs["prometheus_workspace_id"])["workspace"]
        if f"{ws['prometheusEndpoint']}api/v1/remote_write" not in env.get("AOT_CONFIG_CONTENT", ""):
            problems.append("the sidecar's config does not remote-write to the stack's workspace")
        namespaces = aws("amp").list_rule_groups_namespaces(workspaceId=ws["workspaceId"])["ruleGroupsNamespaces"]
        if len(namespaces) != 1:
            problems.append(f"expected one rule group namespace, found {len(namespaces)}")
    rules = elb_rules(aws, outputs)
    if not any(r["Actions"][0]["Type"] == "fixed-response"
               and r["Actions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
               and "/metrics" in r["Conditions"][0].get("Values", r["Conditions"][0].get("PathPatternConfig", {}).get("Values", []))
               for r in rules if not r.get("IsDefault")):
        problems.append(f"no listener rule answers 404 for /metrics: {rules}")
    schedules = aws("scheduler").list_schedules()["Schedules"]
    if [s["Name"] for s in schedules] != [f"{outputs['ecs_cluster_name']}-drift-imdb-sentiment"]:
        problems.append(f"drift schedules: {[s['Name'] for s in schedules]}")
    else:
        target = aws("scheduler").get_schedule(Name=schedules[0]["Name"])["Target"]
        drift_td = ecs.describe_task_definition(taskDefinition=target["EcsParameters"]["TaskDefinitionArn"])["taskDefinition"]
        if drift_td["containerDefinitions"][0]["command"][:3] != ["drift", "--model", "imdb-sentiment"]:
            problems.append(f"drift task runs {drift_td['containerDefinitions'][0]['command']}")

    ecr = aws("ecr")
    repo = ecr.describe_repositories()["repositories"][0]
    if repo["imageTagMutability"] != "IMMUTABLE" or not repo["imageScanningConfiguration"]["scanOnPush"]:
        problems.append(f"ECR repository not immutable/scanned: {repo}")
    problems += check_hardening(aws, outputs, svc, container)
    return problems


def check_hardening(aws, outputs: dict, svc: dict, container: dict) -> list[str]:
    """Private networking, flow logs, ALB logs, WAF and the API token secret, read back."""
    problems = []
    ec2 = aws("ec2")
    net = svc.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    if net.get("assignPublicIp") != "DISABLED":
        problems.append(f"tasks get a public IP: {net}")
    subnets = ec2.describe_subnets(SubnetIds=net.get("subnets") or ["subnet-none"])["Subnets"]
    tiers = {t["Value"] for s in subnets for t in s.get("Tags", []) if t["Key"] == "Tier"}
    if tiers != {"private"} or any(s.get("MapPublicIpOnLaunch") for s in subnets):
        problems.append(f"tasks are not in private subnets: tiers {tiers}")
    vpc_id = subnets[0]["VpcId"] if subnets else None
    routes = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": net.get("subnets") or []}])
    for table in routes["RouteTables"]:
        if any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table["Routes"]):
            problems.append(f"private route table {table['RouteTableId']} has a default route")
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id or "vpc-none"]}])["VpcEndpoints"]
    found = {(e["ServiceName"].rsplit(".", 1)[-1] if e["VpcEndpointType"] == "Gateway"
              else e["ServiceName"].split(f"{REGION}.", 1)[-1], e["VpcEndpointType"]) for e in endpoints}
    wanted = {("s3", "Gateway")} | {(n, "Interface") for n in ("ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager", "aps-workspaces", "sns")}
    if found != wanted:
        problems.append(f"VPC endpoints {sorted(found)} != {sorted(wanted)}")
    tasks_sg = ec2.describe_security_groups(GroupIds=svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"])
    egress = [p for g in tasks_sg["SecurityGroups"] for p in g["IpPermissionsEgress"]]
    if any(r.get("CidrIp") == "0.0.0.0/0" for p in egress for r in p.get("IpRanges", [])):
        problems.append("private tasks may still reach 0.0.0.0/0")
    flows = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id or "vpc-none"]}])["FlowLogs"]
    if not flows or flows[0].get("LogDestinationType") != "cloud-watch-logs":
        problems.append(f"no flow log to CloudWatch on {vpc_id}: {flows}")
    group = outputs.get("vpc_flow_log_group") or ""
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"] if group else []
    if not groups or not groups[0].get("retentionInDays"):
        problems.append(f"flow log group {group!r} missing or without retention")

    elb = aws("elbv2")
    lb = elb.describe_load_balancers(Names=[outputs["ecs_cluster_name"]])["LoadBalancers"][0]
    attrs = {a["Key"]: a["Value"] for a in
             elb.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    bucket = outputs.get("alb_access_logs_bucket")
    if attrs.get("access_logs.s3.enabled") != "true" or attrs.get("access_logs.s3.bucket") != bucket:
        problems.append(f"ALB access logs not on to {bucket}: {attrs}")
    if bucket:
        policy = json.loads(aws("s3").get_bucket_policy(Bucket=bucket)["Policy"])
        writers = [st.get("Principal") for st in policy["Statement"] if st.get("Effect") == "Allow"]
        if {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"} not in writers:
            problems.append(f"access-log bucket policy lets no ELB log delivery write: {writers}")
    waf = aws("wafv2")
    acl = waf.get_web_acl_for_resource(ResourceArn=lb["LoadBalancerArn"]).get("WebACL") or {}
    rules = sorted(r["Name"] for r in acl.get("Rules", []))
    if rules != ["aws-common", "aws-known-bad-inputs", "rate-limit-per-ip"]:
        problems.append(f"WAF on the ALB has rules {rules}")

    secrets = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}
    env = {e["name"]: e["value"] for e in container.get("environment", [])}
    arn = secrets.get("API_TOKENS")
    if not arn or env.get("API_TOKENS_SECRET_ID") != arn or "API_TOKENS" in env:
        problems.append(f"API token secret not wired by valueFrom: secrets {secrets}")
    return problems


def elb_rules(aws, outputs: dict) -> list[dict]:
    """The rules of every listener of the stack's load balancer."""
    elb = aws("elbv2")
    rules = []
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            rules += elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    return rules


def asl_problems(definition: dict, where: str = "") -> list[str]:
    """Structural checks of an Amazon States Language definition that moto stores but never
    runs: every transition names a state, every state is reachable, every path ends, every
    ECS task waits (.sync) with a timeout; nested (Map) processors are checked the same way."""
    problems = []
    states = definition.get("States", {})
    start = definition.get("StartAt")
    if start not in states:
        return [f"{where}StartAt {start!r} is not a state"]

    def targets(st: dict) -> list[str]:
        out = [st["Next"]] if "Next" in st else []
        out += [c["Next"] for c in st.get("Choices", [])]
        out += [st["Default"]] if "Default" in st else []
        out += [c["Next"] for c in st.get("Catch", [])]
        return out

    for name, st in states.items():
        for t in targets(st):
            if t not in states:
                problems.append(f"{where}{name} -> {t!r}: no such state")
        ends = st["Type"] in ("Succeed", "Fail") or st.get("End") is True
        if not ends and not targets(st):
            problems.append(f"{where}{name} neither ends nor moves on")
        if st["Type"] == "Task" and ":ecs:runTask" in st.get("Resource", ""):
            if not st["Resource"].endswith("ecs:runTask.sync"):
                problems.append(f"{where}{name} does not wait for its task (.sync)")
            if not st.get("TimeoutSeconds"):
                problems.append(f"{where}{name} has no TimeoutSeconds")
        if st["Type"] == "Map":
            problems += asl_problems(st.get("ItemProcessor", {}), f"{where}{name}/")
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        if n in seen or n not in states:
            continue
        seen.add(n)
        todo += targets(states[n])
    problems += [f"{where}{n} is unreachable" for n in states if n not in seen]
    return problems


def check_batch(aws, outputs: dict) -> list[str]:
    """The batch module: a Standard state machine with a sound definition, started by an
    EventBridge rule on the bucket's _READY objects, its topic in place. moto stores the
    state machine but cannot execute it (no ECS tasks run, no Distributed Map): the job's
    steps are tested in Java (BatchJobTest runs plan, each part's score and merge with the
    environment the definition passes), and the definition's shape here and in terraform test."""
    arn = outputs.get("batch_state_machine_arn")
    if not arn:
        return ["the dev stack has no batch state machine (enable_batch)"]
    problems = []
    sm = aws("stepfunctions").describe_state_machine(stateMachineArn=arn)
    if sm.get("type") != "STANDARD":
        problems.append(f"state machine type {sm.get('type')}")
    definition = json.loads(sm["definition"])
    problems += asl_problems(definition)
    kinds = {st["Type"] for st in definition["States"].values()}
    if not {"Map", "Choice", "Task", "Fail", "Succeed"} <= kinds:
        problems.append(f"definition lacks some state types: {sorted(kinds)}")
    events = aws("events")
    rules = [r for r in events.list_rules()["Rules"] if r["Name"].endswith("-batch-ready")]
    if len(rules) != 1:
        problems.append(f"expected one -batch-ready rule, found {rules}")
    else:
        pattern = json.loads(rules[0]["EventPattern"])
        if pattern.get("detail-type") != ["Object Created"]:
            problems.append(f"rule pattern: {pattern}")
        targets = events.list_targets_by_rule(Rule=rules[0]["Name"])["Targets"]
        if [t["Arn"] for t in targets] != [arn]:
            problems.append(f"rule targets {targets}, not the state machine")
    # The bucket's EventBridge switch cannot be read back from moto (see EMULATOR_DRIFT);
    # terraform test asserts it on the configuration instead.
    if outputs.get("batch_topic_arn") not in [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]:
        problems.append("batch topic missing")
    return problems


def leftovers(aws) -> list[str]:
    """Everything the stack creates, listed through the AWS API."""
    found = []
    ec2 = aws("ec2")
    found += [f"vpc {v['VpcId']}" for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    found += [f"security group {g['GroupId']}" for g in ec2.describe_security_groups()["SecurityGroups"]
              if g["GroupName"] != "default"]
    found += [f"internet gateway {g['InternetGatewayId']}"
              for g in ec2.describe_internet_gateways()["InternetGateways"]
              if any(t["Key"] == "Project" for t in g.get("Tags", []))]
    elb = aws("elbv2")
    found += [f"load balancer {lb['LoadBalancerName']}" for lb in elb.describe_load_balancers()["LoadBalancers"]]
    found += [f"target group {tg['TargetGroupName']}" for tg in elb.describe_target_groups()["TargetGroups"]]
    ecs = aws("ecs")
    for arn in ecs.list_clusters()["clusterArns"]:
        for c in ecs.describe_clusters(clusters=[arn])["clusters"]:
            if c["status"] != "INACTIVE":
                found.append(f"ecs cluster {c['clusterName']}")
    found += [f"task definition {arn}" for arn in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]]
    found += [f"ecr repository {r['repositoryName']}" for r in aws("ecr").describe_repositories()["repositories"]]
    found += [f"bucket {b['Name']}" for b in aws("s3").list_buckets()["Buckets"]]
    iam = aws("iam")
    found += [f"iam role {r['RoleName']}" for r in iam.list_roles()["Roles"]]
    found += [f"oidc provider {p['Arn']}" for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    found += [f"log group {g['logGroupName']}" for g in aws("logs").describe_log_groups()["logGroups"]]
    found += [f"sns topic {t['TopicArn']}" for t in aws("sns").list_topics()["Topics"]]
    found += [f"state machine {m['name']}" for m in aws("stepfunctions").list_state_machines()["stateMachines"]]
    found += [f"event rule {r['Name']}" for r in aws("events").list_rules()["Rules"]]
    cw = aws("cloudwatch")
    found += [f"alarm {a['AlarmName']}" for a in cw.describe_alarms()["MetricAlarms"]]
    found += [f"dashboard {d['DashboardName']}" for d in cw.list_dashboards()["DashboardEntries"]]
    found += [f"codebuild project {p}" for p in aws("codebuild").list_projects()["projects"]]
    found += [f"pipeline {p['name']}" for p in aws("codepipeline").list_pipelines()["pipelines"]]
    found += [f"vpc endpoint {e['VpcEndpointId']}" for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
              if e.get("State") != "deleted"]
    found += [f"flow log {f['FlowLogId']}" for f in ec2.describe_flow_logs()["FlowLogs"]]
    found += [f"subnet {s['SubnetId']}" for s in ec2.describe_subnets()["Subnets"] if not s.get("DefaultForAz")]
    found += [f"web acl {a['Name']}" for a in aws("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]]
    found += [f"secret {s['Name']}" for s in aws("secretsmanager").list_secrets()["SecretList"]
              if s["Name"] != TOKEN_SECRET]
    aas = aws("application-autoscaling")
    found += [f"scalable target {t['ResourceId']}"
              for t in aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]]
    found += [f"amp workspace {w['workspaceId']}" for w in aws("amp").list_workspaces()["workspaces"]]
    found += [f"schedule {x['Name']}" for x in aws("scheduler").list_schedules()["Schedules"]]
    found += [f"scaling policy {p['PolicyName']}"
              for p in aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]]
    return found


# ------------------------------------------------------------------ main ---

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="envs/dev", help="env stack, relative to terraform/ (default: envs/dev)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per terraform command")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, state)")
    args = parser.parse_args()

    terraform = shutil.which("terraform")
    if not terraform:
        print("MISSING: terraform is not on PATH", file=sys.stderr)
        return 3
    try:
        import boto3  # noqa: F401  (comes with moto[server])
        import moto  # noqa: F401
    except ImportError as e:
        print(f"MISSING: python3 cannot import moto/boto3 ({e}); pip install 'moto[server]'", file=sys.stderr)
        return 3
    import boto3

    work = Path(tempfile.mkdtemp(prefix="tf-e2e-"))
    log = work / "terraform.log"
    shutil.copytree(TERRAFORM_ROOT, work / "terraform",
                    ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "terraform.tfvars",
                                                  "*.auto.tfvars", "backend.hcl"))
    stack = work / "terraform" / args.stack
    state = work / "terraform.tfstate"

    server, endpoint = start_moto(work / "moto-requests.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_VAR_"))}
    env.update({
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": endpoint,
        "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
        "TF_DATA_DIR": str(work / "tf-data"),
    })
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")})

    def aws(service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def tf(name: str, *tf_args: str) -> float:
        rc, secs = run([terraform, *tf_args], stack, env, args.timeout, log)
        if rc != 0:
            raise StepFailed(f"terraform {tf_args[0]} exited {rc}\n{tail(log)}")
        return secs

    def outputs() -> dict:
        out = subprocess.run([terraform, "output", "-json"], cwd=stack, env=env, capture_output=True,
                             text=True, timeout=120, check=True).stdout
        return {k: v["value"] for k, v in json.loads(out).items()}

    print(f"# moto {endpoint}, work dir {work}", flush=True)
    for gap in NOT_EMULATED:
        print(f"# not emulated: {gap}", flush=True)
    # Build moto's per-service backends once before terraform's parallel calls.
    aws("sts").get_caller_identity()
    aws("iam").list_roles()
    aws("ec2").describe_vpcs()
    # The token secret is made outside Terraform (so its value never lands in state), as in use.
    token_arn = aws("secretsmanager").create_secret(
        Name=TOKEN_SECRET, SecretString="e2e-token-0123456789abcdef0123")["ARN"]
    write_override(stack, endpoint, state)
    write_tfvars(stack, FIRST_SHA, token_arn)
    applied = False
    try:
        secs = tf("init", "init", "-input=false", "-no-color")
        report(True, "e2e init", f"{secs:.0f}s")

        applied = True  # from here on, always try to destroy
        secs = tf("apply", "apply", "-auto-approve", "-input=false", "-no-color")
        report(True, "e2e apply", f"{secs:.0f}s")

        problems = check_applied(aws, outputs())
        report(not problems, "e2e applied resources have the security/reliability settings", "; ".join(problems))
        problems = check_pipeline(aws, outputs()["codepipeline_name"])
        report(not problems, "e2e CodePipeline: source -> CodeBuild (buildspec.yml) -> ECS deploy, roles bound by aws:SourceArn",
               "; ".join(problems))
        problems = check_batch(aws, outputs())
        report(not problems, "e2e batch state machine is sound and wired to the bucket's events",
               "; ".join(problems))

        plan_file = work / "plan.tfplan"
        secs = tf("plan", "plan", "-input=false", "-no-color", f"-out={plan_file}")
        show = subprocess.run([terraform, "show", "-json", str(plan_file)], cwd=stack, env=env,
                              capture_output=True, text=True, timeout=120, check=True).stdout
        emulator, real = analyse_plan(json.loads(show))
        for d in emulator:
            print(f"# emulator drift (ignored): {d}", flush=True)
        report(not real, "e2e plan after apply shows no changes", f"{secs:.0f}s, {len(emulator)} emulator drift"
               if not real else "real drift:\n  " + "\n  ".join(real))

        write_tfvars(stack, SECOND_SHA, token_arn)
        secs = tf("apply (update)", "apply", "-auto-approve", "-input=false", "-no-color")
        out = outputs()
        svc = aws("ecs").describe_services(cluster=out["ecs_cluster_name"],
                                           services=[out["ecs_service_name"]])["services"][0]
        image = aws("ecs").describe_task_definition(taskDefinition=svc["taskDefinition"])[
            "taskDefinition"]["containerDefinitions"][0]["image"]
        report(image.endswith(f":{SECOND_SHA}"), "e2e update (new image tag) rolls the service",
               f"{secs:.0f}s" if image.endswith(f":{SECOND_SHA}") else f"service still runs {image}")
    except Exception as e:  # noqa: BLE001 - any failure fails the run, then we clean up
        report(False, "e2e apply/plan/update", f"{type(e).__name__}: {e}")
    finally:
        if applied:
            try:
                secs = tf("destroy", "destroy", "-auto-approve", "-input=false", "-no-color")
                report(True, "e2e destroy", f"{secs:.0f}s")
            except StepFailed as e:
                report(False, "e2e destroy", str(e))
            try:
                left = leftovers(aws)
            except Exception as e:  # noqa: BLE001 - any API error is a failed check
                left = [f"could not list resources: {e!r}"]
            report(not left, "e2e destroy leaves nothing behind (checked via the AWS API)", "; ".join(left))
        for gap in NOT_EMULATED:
            print(f"# not emulated here: {gap}", flush=True)
        ci_env = dict(env, TF_DATA_DIR=str(work / "tf-data-ci"))

        def tf_in(cwd: Path, *tf_args: str, ok: tuple[int, ...] = (0,)) -> float:
            rc, secs = run([terraform, *tf_args], cwd, ci_env, args.timeout, log)
            if rc not in ok:
                raise StepFailed(f"terraform {tf_args[0]} exited {rc}\n{tail(log)}")
            return secs

        def show_plan(cwd: Path, plan: Path) -> str:
            return subprocess.run([terraform, "show", "-json", str(plan)], cwd=cwd, env=ci_env,
                                  capture_output=True, text=True, timeout=120, check=True).stdout

        run_ci_roles_stack(work / "terraform" / "e2e-ci", endpoint, work / "ci.tfstate", tf_in, show_plan, aws)
        server.stop()
        if args.keep or not all(ok for ok, _ in RESULTS):
            print(f"# kept {work} (terraform.log has every command's output, moto-requests.log every AWS call)", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)

    return 0 if all(ok for ok, _ in RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
