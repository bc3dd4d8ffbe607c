#!/usr/bin/env bash
# Terraform for an env stack in automation (GitHub Actions terraform.yml/destroy.yml, CodeBuild
# buildspec-terraform.yml): configure the backend and variables from the environment, then plan,
# apply exactly a saved plan, or destroy behind a typed confirmation.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/terraform-ci.sh ACTION [options]

Actions on terraform/envs/<env>:
  init      write backend.hcl (bucket TF_STATE_BUCKET, region AWS_REGION) and terraform.tfvars
            (the contents of TERRAFORM_TFVARS) into the stack, then `terraform init`
  plan      init, `terraform plan -out=PLAN`, and the plan as text in PLAN.txt (for reviewers)
  apply     init, then apply PLAN exactly as saved (Terraform refuses it if the state moved
            since); with no PLAN file, plans first and applies that plan
  destroy   refuses unless CONFIRM_DESTROY equals the environment name; then init and
            scripts/destroy.sh --yes (terraform destroy first; --delete-data when DELETE_DATA=true)

Options:
  --env NAME         stack (default: dev)
  --plan-file PATH   the saved plan (default: tfplan in the stack folder)
  -h, --help         this text

Environment: TF_STATE_BUCKET, AWS_REGION, TERRAFORM_TFVARS (required unless the stack already has
backend.hcl and terraform.tfvars), CONFIRM_DESTROY, DELETE_DATA. TERRAFORM may name the binary.
USAGE
}

action="${1:-}"
[[ $# -gt 0 ]] && shift
case "$action" in
  -h | --help) usage; exit 0 ;;
  init | plan | apply | destroy) ;;
  "") usage >&2; die "missing action (init, plan, apply or destroy)" ;;
  *) usage >&2; die "unknown action: $action (init, plan, apply or destroy)" ;;
esac

env_name="dev" plan_file=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) env_name="${2:?--env needs a value}"; shift 2 ;;
    --plan-file) plan_file="${2:?--plan-file needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
TERRAFORM="${TERRAFORM:-terraform}"
stack="$REPO_ROOT/terraform/envs/$env_name"
[[ -d "$stack" ]] || die "no Terraform stack at $stack (check --env)"
plan_file="${plan_file:-$stack/tfplan}"
[[ "$plan_file" == /* ]] || plan_file="$PWD/$plan_file"

# The guard comes before anything touches AWS or the stack.
if [[ "$action" == destroy ]]; then
  [[ "${CONFIRM_DESTROY:-}" == "$env_name" ]] ||
    die "refusing to destroy '$env_name': set CONFIRM_DESTROY=$env_name to confirm (got '${CONFIRM_DESTROY:-}')"
fi

require_tool "$TERRAFORM" "Install Terraform (https://developer.hashicorp.com/terraform/install)."
export TF_IN_AUTOMATION=1 TF_INPUT=0

if [[ -n "${TF_STATE_BUCKET:-}" ]]; then
  [[ -n "${AWS_REGION:-}" ]] || die "set AWS_REGION (the state bucket's region)"
  printf 'bucket = "%s"\nregion = "%s"\n' "$TF_STATE_BUCKET" "$AWS_REGION" >"$stack/backend.hcl"
fi
[[ -f "$stack/backend.hcl" ]] || die "set TF_STATE_BUCKET (terraform -chdir=terraform/bootstrap output -raw state_bucket_name)"
if [[ -n "${TERRAFORM_TFVARS:-}" ]]; then
  (umask 077 && printf '%s\n' "$TERRAFORM_TFVARS" >"$stack/terraform.tfvars")
fi
[[ -f "$stack/terraform.tfvars" ]] || die "set TERRAFORM_TFVARS to the contents of the stack's terraform.tfvars"

"$TERRAFORM" -chdir="$stack" init -input=false -no-color -backend-config=backend.hcl

case "$action" in
  init) ;;
  plan)
    "$TERRAFORM" -chdir="$stack" plan -input=false -no-color -lock-timeout=5m -out="$plan_file"
    "$TERRAFORM" -chdir="$stack" show -no-color "$plan_file" >"$plan_file.txt"
    log "saved plan: $plan_file (text: $plan_file.txt)"
    ;;
  apply)
    if [[ ! -f "$plan_file" ]]; then
      log "no saved plan at $plan_file: planning now"
      "$TERRAFORM" -chdir="$stack" plan -input=false -no-color -lock-timeout=5m -out="$plan_file"
    fi
    # Exactly the saved plan: Terraform rejects it as stale if the state changed after planning.
    "$TERRAFORM" -chdir="$stack" apply -input=false -no-color -lock-timeout=5m "$plan_file"
    ;;
  destroy)
    destroy_args=(--env "$env_name" --yes)
    [[ "${DELETE_DATA:-false}" != true ]] || destroy_args+=(--delete-data)
    TERRAFORM="$TERRAFORM" "$REPO_ROOT/scripts/destroy.sh" "${destroy_args[@]}"
    ;;
esac
