#!/usr/bin/env bash
# What the ECS service really runs after a deploy, and the way back: reads the service's PRIMARY
# deployment (not the deploy tool's word for it) and rolls back to an earlier task definition.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/stack.sh
source "$REPO_ROOT/scripts/lib/stack.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/rollout.sh COMMAND [options]

Commands:
  current                 print the task definition ARN of the service's PRIMARY deployment
                          (record it before a deploy: it is where a rollback goes)
  verify --task-definition ARN
                          pass only when the PRIMARY deployment runs ARN and its rollout is
                          COMPLETED. Fails loudly when ECS rolled back (the deployment circuit
                          breaker makes the old revision PRIMARY again, and some deploy tools still
                          report success: aws-actions/amazon-ecs-deploy-task-definition#191)
  rollback --to ARN       update the service to ARN (the revision recorded before the deploy) and
                          verify it as above

Options:
  --env NAME              Terraform stack to read names from (default: dev)
  --wait-seconds N        verify/rollback: wait up to N seconds for the rollout to complete
                          (default: 0 for verify, which runs after the deploy waited; 900 for rollback)
  -h, --help              this text

ECS_CLUSTER and ECS_SERVICE come from `terraform output` unless set. AWS access: the AWS CLI's
usual chain. In GitHub Actions the outcome is also appended to $GITHUB_STEP_SUMMARY.
Needs: aws, jq.
USAGE
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
case "$command" in
  -h | --help) usage; exit 0 ;;
  current | verify | rollback) ;;
  "") usage >&2; die "missing command (current, verify or rollback)" ;;
  *) usage >&2; die "unknown command: $command" ;;
esac

env_name="dev" expected="" wait_seconds=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) env_name="${2:?--env needs a value}"; shift 2 ;;
    --task-definition) [[ "$command" == verify ]] || die "--task-definition is for verify"; expected="${2:?--task-definition needs a value}"; shift 2 ;;
    --to) [[ "$command" == rollback ]] || die "--to is for rollback"; expected="${2:?--to needs a value}"; shift 2 ;;
    --wait-seconds) wait_seconds="${2:?--wait-seconds needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$command" == current || -n "$expected" ]] || die "$command needs $([[ "$command" == verify ]] && echo --task-definition || echo --to) ARN"
if [[ -z "$wait_seconds" ]]; then
  wait_seconds=0
  [[ "$command" != rollback ]] || wait_seconds=900
fi
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "--wait-seconds must be a number"

require_tool aws "Install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)."
require_tool jq "Install jq (apt-get install -y jq)."
load_stack "$env_name" ECS_CLUSTER=ecs_cluster_name ECS_SERVICE=ecs_service_name
require_aws_credentials

# revision ARN-OR-NAME: "family:revision", the part every form of a task definition reference ends in.
revision() { printf '%s\n' "${1##*/}"; }

# primary: "<task definition ARN> <rolloutState> <running>/<desired> <number of deployments>"
primary() {
  aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" --output json |
    jq -r '.services[0] as $s
      | if $s == null then "NO_SERVICE"
        else (($s.deployments // []) | map(select(.status == "PRIMARY")) | first) as $p
          | if $p == null then "NO_PRIMARY"
            else "\($p.taskDefinition) \($p.rolloutState // "UNKNOWN") \($p.runningCount)/\($p.desiredCount) \($s.deployments | length)"
            end
        end'
}

summary_line() {
  [[ -z "${GITHUB_STEP_SUMMARY:-}" ]] || printf '%s\n' "$1" >>"$GITHUB_STEP_SUMMARY"
}

# check_primary EXPECTED: waits up to wait_seconds; exits non-zero with the reason on failure.
check_primary() {
  local want deadline state td rollout
  want="$(revision "$1")"
  deadline=$((SECONDS + wait_seconds))
  while true; do
    state="$(primary)"
    case "$state" in
      NO_SERVICE) die "service $ECS_CLUSTER/$ECS_SERVICE not found" ;;
      NO_PRIMARY) die "service $ECS_CLUSTER/$ECS_SERVICE has no PRIMARY deployment" ;;
    esac
    read -r td rollout _ <<<"$state"
    if [[ "$(revision "$td")" != "$want" ]]; then
      summary_line "**Rollout check failed:** the service runs \`$(revision "$td")\`, not \`$want\` (ECS rolled back)."
      die "ECS rolled back: the PRIMARY deployment of $ECS_CLUSTER/$ECS_SERVICE runs $(revision "$td"), not $want \
($state). Look at the service events: aws ecs describe-services --cluster $ECS_CLUSTER --services $ECS_SERVICE"
    fi
    case "$rollout" in
      COMPLETED)
        log "PRIMARY deployment runs $want, rollout COMPLETED ($state)"
        summary_line "Rollout check: the service runs \`$want\` (PRIMARY, COMPLETED)."
        return 0
        ;;
      FAILED)
        summary_line "**Rollout check failed:** the rollout of \`$want\` FAILED."
        die "the rollout of $want FAILED ($state)"
        ;;
    esac
    ((SECONDS < deadline)) || die "the rollout of $want is not complete after ${wait_seconds}s ($state)"
    log "waiting: $state"
    sleep 15
  done
}

case "$command" in
  current)
    state="$(primary)"
    [[ "$state" != NO_* ]] || die "cannot read the PRIMARY deployment of $ECS_CLUSTER/$ECS_SERVICE ($state)"
    printf '%s\n' "${state%% *}"
    ;;
  verify)
    check_primary "$expected"
    ;;
  rollback)
    log "rolling $ECS_CLUSTER/$ECS_SERVICE back to $expected"
    aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" --task-definition "$expected" \
      --query 'service.taskDefinition' --output text >/dev/null
    summary_line "**Rolled back** to \`$(revision "$expected")\`."
    check_primary "$expected"
    ;;
esac
