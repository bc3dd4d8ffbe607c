# shellcheck shell=bash
# Reads the deployed stack's names: from environment variables where set (CI sets them from
# repository variables), else from `terraform output -json` of terraform/envs/<env>.
# Source after common.sh. TERRAFORM may name another terraform binary (tests use a stub).

TERRAFORM="${TERRAFORM:-terraform}"

# stack_outputs ENV: prints the stack's outputs as {"name": value, ...} (empty object if none needed).
stack_outputs() {
  local stack="$REPO_ROOT/terraform/envs/$1" json
  require_tool "$TERRAFORM" "Install Terraform (https://developer.hashicorp.com/terraform/install), or set the \
stack's names in the environment (see --help)."
  [[ -d "$stack" ]] || die "no Terraform stack at $stack (check --env)"
  json="$("$TERRAFORM" -chdir="$stack" output -json 2>&1)" ||
    die "terraform output failed in $stack (run 'terraform init' there first): $json"
  jq -e 'type == "object" and length > 0' >/dev/null 2>&1 <<<"$json" ||
    die "the stack in $stack has no outputs: is it applied? (see docs/DEPLOY.md)"
  jq 'map_values(.value)' <<<"$json"
}

# load_stack ENV VAR=output...: sets each VAR from its environment value, or else from the named
# terraform output (terraform is only run when some VAR is unset).
load_stack() {
  local env_name="$1" pair var output outputs="" value
  shift
  for pair in "$@"; do
    var="${pair%%=*}"
    output="${pair#*=}"
    [[ -z "${!var:-}" ]] || continue
    [[ -n "$outputs" ]] || outputs="$(stack_outputs "$env_name")"
    value="$(jq -r --arg o "$output" '.[$o] // empty' <<<"$outputs")"
    [[ -n "$value" ]] || die "terraform output '$output' is missing in terraform/envs/$env_name (or set $var)"
    printf -v "$var" '%s' "$value"
    export "${var?}"
  done
}
