#!/usr/bin/env bash
# Tears an environment down: `terraform destroy` first; the data it holds (models, captured
# predictions, images) only with --delete-data; the state bucket only when no other state is in it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/stack.sh
source "$REPO_ROOT/scripts/lib/stack.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/destroy.sh [options]

Destroys the Terraform stack terraform/envs/<env>, after asking you to type the environment name
(or --yes):
  1. `terraform destroy`. With force_destroy = false (the default) Terraform refuses to delete the
     model bucket and the image repository while they hold data, so a stack with models or images
     stops there, with that data and those two resources intact;
  2. only with --delete-data: then empties the model bucket (every object version and delete
     marker) and the image repository, and runs `terraform destroy` again. The service is gone by
     then, so nothing writes new data while they are emptied;
  3. deregisters and deletes the task definition revisions deploys registered outside Terraform.
With --state-bucket NAME it finally deletes the Terraform state bucket made by terraform/bootstrap,
but only when it holds no state but this stack's (other environments may share it): the last step
back to an empty account. This loses the state history for good.

Options:
  --env NAME            stack to destroy (default: dev)
  --yes                 do not ask (for automation; be sure)
  --delete-data         also delete the models, captured data and images (see 2.)
  --state-bucket NAME   also delete this state bucket, if no other state is in it
  --state-key KEY       this stack's state key (default: ml-serve-ecs/<env>/terraform.tfstate)
  --var-file FILE       passed to terraform destroy (default: the stack's terraform.tfvars if any)
  --dry-run             show the destroy plan and what --delete-data would delete; delete nothing
  -h, --help            this text

Names come from `terraform output` unless set: MODEL_BUCKET, ECR_REPOSITORY_URL, ECS_TASK_FAMILY.
TERRAFORM may name the terraform binary. AWS access: the AWS CLI's usual chain.
Needs: aws, jq, terraform.
USAGE
}

env_name="dev" yes=false delete_data=false state_bucket="" state_key="" var_file="" dry_run=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) env_name="${2:?--env needs a value}"; shift 2 ;;
    --yes) yes=true; shift ;;
    --delete-data) delete_data=true; shift ;;
    --state-bucket) state_bucket="${2:?--state-bucket needs a value}"; shift 2 ;;
    --state-key) state_key="${2:?--state-key needs a value}"; shift 2 ;;
    --var-file) var_file="${2:?--var-file needs a value}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ -n "$state_key" ]] || state_key="ml-serve-ecs/$env_name/terraform.tfstate"

require_tool aws "Install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)."
require_tool jq "Install jq (apt-get install -y jq)."
require_tool "$TERRAFORM" "Install Terraform (https://developer.hashicorp.com/terraform/install)."
stack="$REPO_ROOT/terraform/envs/$env_name"
[[ -d "$stack" ]] || die "no Terraform stack at $stack (check --env)"
load_stack "$env_name" MODEL_BUCKET=model_bucket_name ECR_REPOSITORY_URL=ecr_repository_url \
  ECS_TASK_FAMILY=task_definition_family
require_aws_credentials
repository_name="${ECR_REPOSITORY_URL#*/}"
account="$(aws sts get-caller-identity --query Account --output text)"

# empty_bucket NAME: deletes every version and delete marker, 1,000 keys per request.
empty_bucket() {
  local bucket="$1" page count total=0
  if ! aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    log "bucket $bucket: not found (already gone?)"
    return 0
  fi
  while true; do
    page="$(aws s3api list-object-versions --bucket "$bucket" --max-items 1000 --output json |
      jq -c '{Objects: ([(.Versions // [])[], (.DeleteMarkers // [])[]] | map({Key, VersionId})), Quiet: true}')"
    count="$(jq '.Objects | length' <<<"$page")"
    ((count > 0)) || break
    if [[ "$dry_run" == true ]]; then
      log "bucket $bucket: would delete $count object versions (first page)"
      return 0
    fi
    aws s3api delete-objects --bucket "$bucket" --delete "$page" --output json |
      jq -e '(.Errors // []) | length == 0' >/dev/null || die "could not delete some objects in $bucket"
    total=$((total + count))
  done
  log "bucket $bucket: deleted $total object versions"
}

# empty_repository NAME: deletes every image (by digest, 100 per request).
empty_repository() {
  local repository="$1" ids count
  if ! aws ecr describe-repositories --repository-names "$repository" >/dev/null 2>&1; then
    log "repository $repository: not found (already gone?)"
    return 0
  fi
  while true; do
    ids="$(aws ecr list-images --repository-name "$repository" --max-items 100 --output json |
      jq -c '[.imageIds[] | {imageDigest}] | unique')"
    count="$(jq 'length' <<<"$ids")"
    ((count > 0)) || break
    if [[ "$dry_run" == true ]]; then
      log "repository $repository: would delete $count images"
      return 0
    fi
    aws ecr batch-delete-image --repository-name "$repository" --image-ids "$ids" >/dev/null
    log "repository $repository: deleted $count images"
  done
}

# other_state BUCKET: the state objects in BUCKET that are not this stack's, one per line.
other_state() {
  aws s3api list-objects-v2 --bucket "$1" --output json |
    jq -r --arg key "$state_key" '(.Contents // [])[] | .Key | select(. != $key and . != ($key + ".tflock"))'
}

cat <<EOF
This destroys environment '$env_name' in AWS account $account:
  - all resources of terraform/envs/$env_name (service, load balancer, network, roles, ...)
  - every revision of task definition family $ECS_TASK_FAMILY
EOF
if [[ "$delete_data" == true ]]; then
  printf '  - every object version in s3://%s (models and captured data)\n' "$MODEL_BUCKET"
  printf '  - every image in ECR repository %s\n' "$repository_name"
else
  printf '  (models in s3://%s and images in %s are kept: --delete-data deletes them)\n' "$MODEL_BUCKET" "$repository_name"
fi
[[ -z "$state_bucket" ]] || printf '  - then the state bucket s3://%s and its history, if no other state is in it\n' "$state_bucket"

if [[ "$dry_run" != true && "$yes" != true ]]; then
  [[ -t 0 ]] || die "not a terminal: pass --yes to confirm non-interactively"
  read -r -p "Type the environment name ($env_name) to continue: " answer
  [[ "$answer" == "$env_name" ]] || die "aborted: nothing was deleted"
fi

tf_args=(-input=false)
if [[ -n "$var_file" ]]; then
  tf_args+=("-var-file=$(cd "$(dirname "$var_file")" && pwd)/$(basename "$var_file")")
fi
if [[ "$dry_run" == true ]]; then
  "$TERRAFORM" -chdir="$stack" plan -destroy "${tf_args[@]}"
  if [[ "$delete_data" == true ]]; then
    empty_bucket "$MODEL_BUCKET"
    empty_repository "$repository_name"
  fi
  if [[ -n "$state_bucket" ]]; then
    others="$(other_state "$state_bucket" | tr '\n' ' ')"
    if [[ -n "$others" ]]; then
      log "state bucket $state_bucket: would be kept (other state: $others)"
    else
      log "state bucket $state_bucket: would be deleted"
    fi
  fi
  exit 0
fi

# 1. Terraform first: it deletes what it owns and refuses what force_destroy protects.
if ! "$TERRAFORM" -chdir="$stack" destroy -auto-approve "${tf_args[@]}"; then
  [[ "$delete_data" == true ]] ||
    die "terraform destroy did not finish. If it stopped at the model bucket or the image repository \
because they still hold data (force_destroy = false), that data is intact: rerun with --delete-data to \
delete the models, captured data and images too. Otherwise read Terraform's error above and rerun."
  # 2. Only on request: the data, then the rest of the stack.
  log "terraform destroy stopped; --delete-data: emptying s3://$MODEL_BUCKET and $repository_name"
  empty_bucket "$MODEL_BUCKET"
  empty_repository "$repository_name"
  "$TERRAFORM" -chdir="$stack" destroy -auto-approve "${tf_args[@]}" ||
    die "terraform destroy failed again after the data was deleted; read Terraform's error above"
fi

# 3. Revisions deploys registered outside Terraform: deregister, then delete (10 per request).
mapfile -t revisions < <(aws ecs list-task-definitions --family-prefix "$ECS_TASK_FAMILY" --status ACTIVE \
  --query 'taskDefinitionArns[]' --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
for arn in "${revisions[@]+"${revisions[@]}"}"; do
  aws ecs deregister-task-definition --task-definition "$arn" >/dev/null
done
mapfile -t inactive < <(aws ecs list-task-definitions --family-prefix "$ECS_TASK_FAMILY" --status INACTIVE \
  --query 'taskDefinitionArns[]' --output text | tr '\t' '\n' | sed '/^$/d;/^None$/d')
for ((i = 0; i < ${#inactive[@]}; i += 10)); do
  aws ecs delete-task-definitions --task-definitions "${inactive[@]:i:10}" >/dev/null 2>&1 ||
    log "could not delete inactive revisions of $ECS_TASK_FAMILY (harmless: INACTIVE revisions cost nothing)"
done
log "task definition family $ECS_TASK_FAMILY: ${#revisions[@]} revisions deregistered"
log "environment '$env_name' destroyed"

if [[ -n "$state_bucket" ]]; then
  # Other environments may keep their state here: never take theirs with ours.
  others="$(other_state "$state_bucket" | tr '\n' ' ')"
  [[ -z "$others" ]] ||
    die "kept state bucket $state_bucket: it holds other state (${others% }). Environment '$env_name' is \
destroyed; destroy the others first, then rerun with --state-bucket."
  empty_bucket "$state_bucket"
  aws s3api delete-bucket --bucket "$state_bucket"
  log "deleted state bucket $state_bucket"
fi
