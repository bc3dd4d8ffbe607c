#!/usr/bin/env bash
# Build, push, roll the ECS service onto the new image, wait for it, smoke-test it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/stack.sh
source "$REPO_ROOT/scripts/lib/stack.sh"
# shellcheck source=scripts/lib/image.sh
source "$REPO_ROOT/scripts/lib/image.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/deploy.sh [options]

1. builds the image with Jib (no Docker daemon) and pushes it to ECR as <repository>:<commit SHA>
   (skipped when that tag is already there: ECR tags are immutable);
2. registers a new revision of the service's task definition: the live one with only the
   container's image changed (environment, secrets, roles, health check stay as Terraform set them);
3. updates the ECS service and waits until the rollout completes (the circuit breaker rolls a
   failing one back, and this script then fails);
4. runs scripts/smoke.sh against the service URL.

Options:
  --env NAME         Terraform stack terraform/envs/NAME to read names from (default: dev)
  --tag SHA          commit to deploy (default: git rev-parse HEAD)
  --demo-model       the image variant with the demo model baked in (tag <SHA>-demo)
  --build-only       build and push only (prints the image); leave the service alone
  --skip-build       deploy an image already in ECR
  --allow-dirty      build although the working tree has uncommitted changes
  --no-wait          return after update-service (no wait, no smoke test)
  --no-smoke         wait, but skip the smoke test
  --wait-seconds N   give up waiting after N seconds (default: 1200)
  -h, --help         this text

Names come from `terraform output` of the stack, unless set in the environment:
  ECR_REPOSITORY_URL  ECS_CLUSTER  ECS_SERVICE  ECS_TASK_FAMILY  ECS_CONTAINER_NAME  SERVICE_URL
AWS access: the AWS CLI's usual chain (AWS_PROFILE, AWS_REGION, roles, ...).
Writes build/deploy/last.json (image, digest, task definition, URL); in GitHub Actions a full
deploy also appends a summary to $GITHUB_STEP_SUMMARY.
Needs: aws, jq, git, a JDK 17+ for ./mvnw (and terraform unless the names are in the environment).
USAGE
}

env_name="dev" tag="" demo=false build=true roll=true allow_dirty=false wait=true smoke=true wait_seconds=1200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) env_name="${2:?--env needs a value}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --demo-model) demo=true; shift ;;
    --build-only) roll=false; wait=false; smoke=false; shift ;;
    --skip-build) build=false; shift ;;
    --allow-dirty) allow_dirty=true; shift ;;
    --no-wait) wait=false; smoke=false; shift ;;
    --no-smoke) smoke=false; shift ;;
    --wait-seconds) wait_seconds="${2:?--wait-seconds needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$build" == true || "$roll" == true ]] || die "--build-only and --skip-build together leave nothing to do"
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "--wait-seconds must be a number"

require_tool aws "Install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)."
require_tool jq "Install jq (apt-get install -y jq)."
if [[ -z "$tag" ]]; then
  require_tool git "Install git, or pass --tag SHA."
  tag="$(git -C "$REPO_ROOT" rev-parse --verify HEAD 2>/dev/null)" || die "not a git checkout: pass --tag SHA"
  if [[ "$build" == true && "$allow_dirty" != true ]] && [[ -n "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no)" ]]; then
    die "uncommitted changes: the image would be labelled $tag but contain other code. Commit, or --allow-dirty."
  fi
fi
[[ "$tag" =~ ^[0-9a-f]{7,40}$ ]] || die "--tag must be a git commit SHA (images are tagged by commit only), got '$tag'"
image_tag="$tag"
[[ "$demo" != true ]] || image_tag="$tag-demo"

vars=(ECR_REPOSITORY_URL=ecr_repository_url)
[[ "$roll" != true ]] || vars+=(ECS_CLUSTER=ecs_cluster_name ECS_SERVICE=ecs_service_name
  ECS_TASK_FAMILY=task_definition_family ECS_CONTAINER_NAME=container_name)
[[ "$smoke" != true ]] || vars+=(SERVICE_URL=service_url)
load_stack "$env_name" "${vars[@]}"
require_aws_credentials

repository_name="${ECR_REPOSITORY_URL#*/}"
image="$ECR_REPOSITORY_URL:$image_tag"
out="$REPO_ROOT/build/deploy"
mkdir -p "$out"

# --- 1. image ---
digest="$(aws ecr describe-images --repository-name "$repository_name" --image-ids "imageTag=$image_tag" \
  --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || true)"
[[ "$digest" == sha256:* ]] || digest=""
if [[ -n "$digest" ]]; then
  log "image $image already in ECR ($digest): not rebuilding (tags are immutable)"
elif [[ "$build" == true ]]; then
  log "building and pushing $image"
  ecr_login "$ECR_REPOSITORY_URL"
  trap 'rm -rf "${DOCKER_CONFIG:-}"' EXIT
  profile_args=()
  [[ "$demo" != true ]] || profile_args=(-Pdemo-model-image)
  jib_push "$ECR_REPOSITORY_URL" "$tag" "$out/digest" "${profile_args[@]}"
  digest="$(cat "$out/digest")"
else
  die "image $image is not in ECR; build it first (drop --skip-build)"
fi
log "image: $image@$digest"

task_definition_arn=""
if [[ "$roll" == true ]]; then
  # --- 2. new task definition revision: the live one, new image ---
  aws ecs describe-task-definition --task-definition "$ECS_TASK_FAMILY" --include TAGS --output json >"$out/live-task-definition.json" ||
    die "cannot read task definition family '$ECS_TASK_FAMILY'"
  jq --arg name "$ECS_CONTAINER_NAME" -e '.taskDefinition.containerDefinitions | any(.name == $name)' \
    "$out/live-task-definition.json" >/dev/null ||
    die "task definition '$ECS_TASK_FAMILY' has no container named '$ECS_CONTAINER_NAME'"
  jq --arg name "$ECS_CONTAINER_NAME" --arg image "$image" '
    (.tags // []) as $tags
    | .taskDefinition
    | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
          .registeredAt, .registeredBy, .deregisteredAt)
    | .containerDefinitions |= map(if .name == $name then .image = $image else . end)
    | if ($tags | length) > 0 then .tags = $tags else . end' \
    "$out/live-task-definition.json" >"$out/task-definition.json"
  task_definition_arn="$(aws ecs register-task-definition --cli-input-json "file://$out/task-definition.json" \
    --query 'taskDefinition.taskDefinitionArn' --output text)"
  log "registered $task_definition_arn"

  # --- 3. roll the service ---
  aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
    --task-definition "$task_definition_arn" --query 'service.serviceName' --output text >/dev/null
  log "service $ECS_CLUSTER/$ECS_SERVICE rolling to $task_definition_arn"

  if [[ "$wait" == true ]]; then
    deadline=$((SECONDS + wait_seconds))
    while true; do
      state="$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" --output json |
        jq -r --arg td "$task_definition_arn" '.services[0] as $s
          | ($s.deployments | map(select(.taskDefinition == $td)) | first) as $d
          | if $d != null then "\($d.rolloutState // "UNKNOWN") \($d.runningCount)/\($d.desiredCount) \($s.deployments | length)"
            elif ($td | endswith("/" + $s.taskDefinition)) or $s.taskDefinition == $td then "PENDING"
            else "ROLLED_BACK to \($s.taskDefinition)" end')"
      case "$state" in
        COMPLETED*" 1") log "rollout complete ($state)"; break ;;
        FAILED* | ROLLED_BACK*)
          die "rollout failed ($state): the circuit breaker rolls back to the previous revision. \
Look at stopped tasks: aws ecs list-tasks --cluster $ECS_CLUSTER --desired-status STOPPED" ;;
      esac
      ((SECONDS < deadline)) || die "service not stable after ${wait_seconds}s (state: $state)"
      log "waiting: $state"
      sleep 15
    done
  fi
fi

jq -n --arg image "$image" --arg digest "$digest" --arg td "$task_definition_arn" --arg url "${SERVICE_URL:-}" \
  '{image: $image, digest: $digest, task_definition: $td, url: $url}' >"$out/last.json"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" && "$roll" == true ]]; then
  # shellcheck disable=SC2016 # the backticks are Markdown
  {
    printf '### Deploy\n\n| | |\n|---|---|\n'
    printf '| image | `%s` |\n| digest | `%s` |\n' "$image" "$digest"
    [[ -z "$task_definition_arn" ]] || printf '| task definition | `%s` |\n' "$task_definition_arn"
    [[ -z "${SERVICE_URL:-}" ]] || printf '| URL | %s |\n' "$SERVICE_URL"
  } >>"$GITHUB_STEP_SUMMARY"
fi

# --- 4. smoke test ---
if [[ "$smoke" == true ]]; then
  model_args=()
  [[ -z "${SMOKE_MODEL:-}" ]] || model_args=(--model "$SMOKE_MODEL")
  "$REPO_ROOT/scripts/smoke.sh" "${model_args[@]}" "$SERVICE_URL"
fi
printf '%s@%s\n' "$image" "$digest"
