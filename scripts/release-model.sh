#!/usr/bin/env bash
# Runs the release controller (the image's `release` command) locally or as a one-off ECS task.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/release-model.sh [options] COMMAND --model NAME [COMMAND OPTIONS]

Releases a model version safely (docs/RELEASE.md): evaluation gate on the held-out set, a canary
judged on the service's metrics in Prometheus, then automatic promotion or rollback, each step a
conditional write of <model>/serving.json. COMMAND and its options go to the `release` command:

  adopt    --model M --version N        make N the stable version (once, before the first release)
  evaluate --model M --version N        run the gate only; change nothing
  start    --model M --version N [--canary-weight 10] [--bake-seconds 600] [--min-requests 200]
           [--sticky-header H] [--stage-timeout-seconds 300] [--poll-seconds 15]
  promote  --model M [--reason TEXT]    promote the candidate in flight now
  rollback --model M [--reason TEXT]    back to stable (in flight) or to the previous version
  status   --model M                    labels, weights, a release in flight, last decisions

Options (before COMMAND):
  --env NAME             Terraform environment for defaults (default: dev)
  --base s3://B/P        MODEL_BASE_PATH (default: $MODEL_BASE_PATH, else `terraform output
                         model_base_path`)
  --prometheus-url URL   PROMETHEUS_URL: a Prometheus, or an Amazon Managed Prometheus workspace
                         URL (queries are then SigV4-signed) (default: $PROMETHEUS_URL)
  --topic-arn ARN        RELEASE_SNS_TOPIC_ARN (default: $RELEASE_SNS_TOPIC_ARN, else `terraform
                         output release_topic_arn`; none: no notices)
  --ecs                  run as a one-off task of the service's own image and network on ECS
                         (cluster, task family, container and subnets from Terraform and the
                         service), with --task-role-arn as its role; waits and returns its exit code
  --task-role-arn ARN    role of the ECS task (default: `terraform output release_role_arn`; it
                         must trust ecs-tasks.amazonaws.com: release-access allow_ecs_tasks = true)
  --dry-run              print what would run; run nothing
  -h, --help             this text

Locally it runs the app's classes with Maven's runtime classpath (./mvnw compiles them if needed).
Exit status is the command's: 0 done, 1 error, 2 usage/configuration, 3 refused by the gate,
4 rolled back by the live judgement, 5 serving.json changed by someone else meanwhile.
Environment: the AWS SDK's own (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3, ...).
USAGE
}

env_name="dev" base="${MODEL_BASE_PATH:-}" prometheus="${PROMETHEUS_URL:-}" topic="${RELEASE_SNS_TOPIC_ARN:-}"
ecs=false dry_run=false task_role=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) env_name="${2:?--env needs a value}"; shift 2 ;;
    --base) base="${2:?--base needs a value}"; shift 2 ;;
    --prometheus-url) prometheus="${2:?--prometheus-url needs a value}"; shift 2 ;;
    --topic-arn) topic="${2:?--topic-arn needs a value}"; shift 2 ;;
    --ecs) ecs=true; shift ;;
    --task-role-arn) task_role="${2:?--task-role-arn needs a value}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1 (options go before COMMAND)" ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { usage >&2; die "no COMMAND given"; }
case "$1" in
  adopt | evaluate | start | promote | rollback | status) ;;
  *) usage >&2; die "unknown COMMAND: $1" ;;
esac

tf_dir="$REPO_ROOT/terraform/envs/$env_name"
tf_output() {
  [[ -d "$tf_dir" ]] && command -v terraform >/dev/null 2>&1 || return 0
  terraform -chdir="$tf_dir" output -raw "$1" 2>/dev/null || true
}
[[ -n "$base" ]] || base="$(tf_output model_base_path)"
[[ "$base" == s3://* ]] || die "no model store: pass --base s3://BUCKET/PREFIX or set MODEL_BASE_PATH"
[[ -n "$topic" ]] || topic="$(tf_output release_topic_arn)"

release_env=(MODEL_BASE_PATH="$base")
[[ -z "$prometheus" ]] || release_env+=(PROMETHEUS_URL="$prometheus")
[[ -z "$topic" ]] || release_env+=(RELEASE_SNS_TOPIC_ARN="$topic")

if [[ "$ecs" != true ]]; then
  require_tool java "Install a JDK 17+."
  out="$REPO_ROOT/build/release"
  mkdir -p "$out"
  cmd=(java --enable-native-access=ALL-UNNAMED -cp "$REPO_ROOT/app/target/classes:\$(cat $out/classpath.txt)"
    dev.mlserve.Main release "$@")
  if [[ "$dry_run" == true ]]; then
    printf 'would run: env %s %s\n' "${release_env[*]}" "${cmd[*]}"
    exit 0
  fi
  log "compiling the app and resolving its classpath (./mvnw -q -pl app compile)"
  build_app_classpath "$out/classpath.txt" || die "could not build the app (./mvnw -pl app compile)"
  set +e
  env "${release_env[@]}" java --enable-native-access=ALL-UNNAMED \
    -cp "$REPO_ROOT/app/target/classes:$(cat "$out/classpath.txt")" dev.mlserve.Main release "$@"
  status=$?
  set -e
  exit "$status"
fi

# ---- as an ECS task of the service's image, in the service's subnets and security groups ----
require_tool aws "Install the AWS CLI v2."
require_tool jq "apt-get install -y jq"
cluster="$(tf_output ecs_cluster_name)" service="$(tf_output ecs_service_name)"
family="$(tf_output task_definition_family)" container="$(tf_output container_name)"
[[ -n "$task_role" ]] || task_role="$(tf_output release_role_arn)"
[[ -n "$cluster" && -n "$service" && -n "$family" && -n "$container" && -n "$task_role" ]] ||
  die "--ecs needs the Terraform outputs of $tf_dir (ecs_cluster_name, ecs_service_name, task_definition_family, container_name, release_role_arn)"
overrides="$(jq -n --arg c "$container" --arg role "$task_role" \
  --args '{taskRoleArn: $role, containerOverrides: [{name: $c, command: (["release"] + $ARGS.positional),
    environment: []}]}' "$@")"
for kv in "${release_env[@]}"; do
  overrides="$(jq --arg k "${kv%%=*}" --arg v "${kv#*=}" \
    '.containerOverrides[0].environment += [{name: $k, value: $v}]' <<<"$overrides")"
done
if [[ "$dry_run" == true ]]; then
  printf 'would run an ECS task of %s in cluster %s with overrides:\n%s\n' "$family" "$cluster" "$overrides"
  exit 0
fi
require_aws_credentials
network="$(aws ecs describe-services --cluster "$cluster" --services "$service" \
  --query 'services[0].networkConfiguration' --output json)"
task="$(aws ecs run-task --cluster "$cluster" --task-definition "$family" --launch-type FARGATE \
  --network-configuration "$network" --overrides "$overrides" --started-by release-model.sh \
  --query 'tasks[0].taskArn' --output text)"
[[ -n "$task" && "$task" != None ]] || die "ECS did not start the task"
log "started $task; waiting for it to stop (the bake time and then some)"
until aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task" 2>/dev/null; do
  log "still running: $task"
done
code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
  --query "tasks[0].containers[?name=='$container'].exitCode | [0]" --output text)"
log "task $task exited with $code (its output is in the service's log group)"
[[ "$code" =~ ^[0-9]+$ ]] || die "no exit code for $task (stopped reason: $(aws ecs describe-tasks \
  --cluster "$cluster" --tasks "$task" --query 'tasks[0].stoppedReason' --output text))"
exit "$code"
