#!/usr/bin/env bash
# Tests the operator scripts: shellcheck, --help, clear errors, and dry runs against moto
# (an in-process AWS emulator) and a stub HTTP service.
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/test-scripts.sh

Checks scripts/: shellcheck on every script; --help and bad arguments of each operator script;
clear errors for missing tools and missing AWS credentials; then runs them for real against
moto (python3 -m moto.server on 127.0.0.1, fake credentials, AWS_ENDPOINT_URL):
  upload-model.sh  files land under <base>/<name>/<version>/, saved_model.pb last, versions are
                   immutable, --tar, --dry-run, bad names and versions refused
  deploy.sh        --skip-build: a new task definition revision with only the image changed,
                   the service moved to it, tags kept; a missing image and a rollout that never
                   completes both fail clearly
  destroy.sh       (terraform stubbed as with force_destroy = false) refuses without confirmation;
                   terraform destroy first, data kept without --delete-data; with it, then empties
                   the versioned bucket and the repository; keeps a state bucket with other state
  rollout.sh       current/verify/rollback on moto ECS: a PRIMARY deployment on the old revision fails
  ship-image.sh    push to a loopback registry keeps the digest; refuses a tag holding another one
  terraform-ci.sh  destroy refused without the typed confirmation, before any terraform command
  smoke.sh         passes against a stub service, fails on a bad answer and on no answer
Ends with "scripts: N passed, M failed". Missing shellcheck/python3/moto: SKIP (fails with CI=true).
KEEP_TMP=1 keeps the scratch folder (moto state dumps, logs) for a look afterwards.
USAGE
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; die "unknown argument: $1" ;;
esac

for tool in shellcheck python3 aws jq curl; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip_or_fail "scripts test needs '$tool' (apt-get install -y shellcheck jq curl; pip install awscli 'moto[server]')"
done
python3 -c 'import moto, flask' 2>/dev/null || skip_or_fail "scripts test needs moto with its server (pip install 'moto[server]')"

started=$SECONDS
tmp="$(mktemp -d)"
moto_pid=""
stub_pid=""
cleanup() {
  local pid
  for pid in "$moto_pid" "$stub_pid"; do
    [[ -z "$pid" ]] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  done
  if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
S="$REPO_ROOT/scripts"

# expect_fail NAME PATTERN CMD...: CMD must exit non-zero and say PATTERN (extended regex).
expect_fail() {
  local name="$1" pattern="$2" out
  shift 2
  if out="$("$@" 2>&1 </dev/null)"; then
    fail "$name" "succeeded, expected a failure"
  elif grep -Eq -- "$pattern" <<<"$out"; then
    pass "$name"
  else
    fail "$name" "message did not match /$pattern/: $(tail -n 3 <<<"$out")"
  fi
}

echo "static checks:"
mapfile -t scripts < <(find "$S" -name '*.sh' -type f | sort)
for file in "${scripts[@]}"; do
  check "shellcheck ${file#"$REPO_ROOT/"}" shellcheck -x -P "$REPO_ROOT" "$file"
done
operator=(deploy.sh destroy.sh smoke.sh upload-model.sh release-model.sh build-base-image.sh test-image.sh test-scripts.sh
  test-workflows.sh rollout.sh ship-image.sh terraform-ci.sh cold-start.sh)
for name in "${operator[@]}"; do
  [[ -f "$S/$name" ]] || { fail "$name exists"; continue; }
  check "$name --help" bash -c "'$S/$name' --help | head -n 1 | grep -q '^Usage: scripts/$name'"
  check "$name is executable with strict mode" bash -c "[[ -x '$S/$name' ]] && grep -q '^set -euo pipefail' '$S/$name'"
done
for name in deploy.sh destroy.sh smoke.sh upload-model.sh release-model.sh build-base-image.sh test-image.sh rollout.sh \
  ship-image.sh terraform-ci.sh cold-start.sh; do
  expect_fail "$name rejects an unknown option" 'unknown' "$S/$name" --no-such-option
done
expect_fail "release-model.sh rejects an unknown command" 'unknown COMMAND' "$S/release-model.sh" --base s3://b/m promote-all
check "release-model.sh --dry-run runs the image's release command with the store" bash -c \
  "'$S/release-model.sh' --base s3://b/models --dry-run status --model m | grep -q 'MODEL_BASE_PATH=s3://b/models .*dev.mlserve.Main release status --model m'"

echo "clear errors:"
# A PATH with the basics but without the tool under test.
sandbox_path() { # sandbox_path DIR EXCLUDED...: links every tool on PATH except EXCLUDED into DIR
  local dir="$1" tool path
  shift
  mkdir -p "$dir"
  for tool in bash env dirname basename cat sed grep mktemp rm mkdir head tail sort find wc tr cut \
    printf git jq curl python3 sleep date id uname readlink base64 tar aws terraform shellcheck; do
    [[ " $* " != *" $tool "* ]] || continue
    path="$(command -v "$tool" 2>/dev/null)" || continue
    ln -sf "$path" "$dir/$tool"
  done
}
sandbox_path "$tmp/no-aws" aws
sandbox_path "$tmp/no-jq" jq
expect_fail "deploy.sh without aws names the missing tool" "'aws' is not installed" \
  env PATH="$tmp/no-aws" "$S/deploy.sh" --tag abcdef1
expect_fail "smoke.sh without jq names the missing tool" "'jq' is not installed" \
  env PATH="$tmp/no-jq" "$S/smoke.sh" http://127.0.0.1:9
mkdir -p "$tmp/model/imdb-sentiment/1"
expect_fail "upload-model.sh refuses a folder without saved_model.pb" 'no saved_model.pb' \
  "$S/upload-model.sh" --base s3://bucket/models "$tmp/model/imdb-sentiment/1"
expect_fail "deploy.sh refuses a tag that is not a commit SHA" 'commit SHA' "$S/deploy.sh" --tag latest
expect_fail "smoke.sh needs a URL" 'missing URL' "$S/smoke.sh"

# A SavedModel-shaped folder (contents are not read by the scripts).
model="$tmp/models/demo-model/3"
mkdir -p "$model/variables" "$model/assets"
printf 'pb' >"$model/saved_model.pb"
printf 'index' >"$model/variables/variables.index"
printf 'data' >"$model/variables/variables.data-00000-of-00001"
printf 'vocab' >"$model/assets/vocab.txt"

# No credentials at all, and nowhere to find any: a clear message, not a stack trace or a hang.
no_creds=(env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN
  AWS_SHARED_CREDENTIALS_FILE="$tmp/none" AWS_CONFIG_FILE="$tmp/none" AWS_EC2_METADATA_DISABLED=true
  AWS_REGION=eu-west-1 AWS_ENDPOINT_URL=http://127.0.0.1:9
  ECR_REPOSITORY_URL=123456789012.dkr.ecr.eu-west-1.amazonaws.com/x ECS_CLUSTER=c ECS_SERVICE=s
  ECS_TASK_FAMILY=f ECS_CONTAINER_NAME=app SERVICE_URL=http://127.0.0.1:9 MODEL_BUCKET=b TERRAFORM=true)
expect_fail "deploy.sh without credentials says so" 'no usable AWS credentials' \
  timeout 60 "${no_creds[@]}" "$S/deploy.sh" --skip-build --tag abcdef1
expect_fail "destroy.sh without credentials says so" 'no usable AWS credentials' \
  timeout 60 "${no_creds[@]}" "$S/destroy.sh" --yes
expect_fail "upload-model.sh without credentials says so" 'no usable AWS credentials' \
  timeout 60 "${no_creds[@]}" "$S/upload-model.sh" --base s3://bucket/models "$model"

# --- moto ---
echo "against moto:"
moto_port="$(free_port)"
python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
wait_for_http "http://127.0.0.1:$moto_port/moto-api/" 30 || die "moto did not start: $(tail -n 5 "$tmp/moto.log")"
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true \
  AWS_SHARED_CREDENTIALS_FILE="$tmp/none" AWS_CONFIG_FILE="$tmp/none"
unset AWS_PROFILE AWS_SESSION_TOKEN MODEL_BASE_PATH ECR_REPOSITORY_URL ECS_CLUSTER ECS_SERVICE ECS_TASK_FAMILY \
  ECS_CONTAINER_NAME SERVICE_URL MODEL_BUCKET GITHUB_STEP_SUMMARY

# Log every aws call (upload order matters), then run the real CLI.
real_aws="$(command -v aws)"
mkdir -p "$tmp/wrap"
cat >"$tmp/wrap/aws" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$tmp/aws-calls.log"
exec "$real_aws" "\$@"
EOF
chmod +x "$tmp/wrap/aws"
PATH="$tmp/wrap:$PATH"

python3 "$S/lib/moto_fixture.py" setup >"$tmp/fixture.json" || die "moto fixture setup failed"
fx() { jq -r ".$1" "$tmp/fixture.json"; }
repo_url="$(fx repo_url)"
sha="$(fx sha)"
dump() { python3 "$S/lib/moto_fixture.py" dump >"$tmp/state-$1.json"; }

# upload-model.sh
: >"$tmp/aws-calls.log"
check "upload-model.sh uploads a version" "$S/upload-model.sh" --base s3://models-test/models "$model"
expect_fail "upload-model.sh refuses to overwrite a version" 'already exists' \
  "$S/upload-model.sh" --base s3://models-test/models "$model"
check "upload-model.sh --force overwrites" "$S/upload-model.sh" --force --base s3://models-test/models "$model"
check "upload-model.sh --tar uploads <version>.tar.gz (MODEL_BASE_PATH as base)" \
  env MODEL_BASE_PATH=s3://models-test/models "$S/upload-model.sh" --tar --version 4 "$model"
check "upload-model.sh --dry-run lists saved_model.pb last" bash -c \
  "'$S/upload-model.sh' --dry-run --version 5 --base s3://models-test/models '$model' | tail -n 1 | grep -q 'saved_model.pb (last)'"
mkdir -p "$tmp/models/bad name/1" "$tmp/models/good/v1"
printf 'pb' >"$tmp/models/bad name/1/saved_model.pb"
printf 'pb' >"$tmp/models/good/v1/saved_model.pb"
expect_fail "upload-model.sh refuses an invalid model name" 'invalid model name' \
  "$S/upload-model.sh" --base s3://models-test/models "$tmp/models/bad name/1"
expect_fail "upload-model.sh refuses a non-numeric version" 'invalid version' \
  "$S/upload-model.sh" --base s3://models-test/models "$tmp/models/good/v1"
expect_fail "upload-model.sh refuses version 0" 'invalid version' \
  "$S/upload-model.sh" --version 0 --base s3://models-test/models "$model"
if compgen -G "$REPO_ROOT/models/*/*/saved_model.pb" >/dev/null; then
  check "upload-model.sh without a folder uploads the bundled models" bash -c \
    "'$S/upload-model.sh' --base s3://models-test/bundled | grep -q '^uploaded '"
  check "upload-model.sh without a folder skips versions already there" bash -c \
    "'$S/upload-model.sh' --base s3://models-test/bundled | grep -q '^skipped '"
fi
dump upload
check "upload-model.sh: <base>/<name>/<version>/ holds every file; --dry-run wrote nothing" jq -e \
  '[.buckets["models-test"].keys[] | select(startswith("models/"))] == ["models/demo-model/3/assets/vocab.txt", "models/demo-model/3/saved_model.pb",
     "models/demo-model/3/variables/variables.data-00000-of-00001", "models/demo-model/3/variables/variables.index",
     "models/demo-model/4.tar.gz"]' "$tmp/state-upload.json"
check "upload-model.sh: saved_model.pb is uploaded last" bash -c \
  "grep '^s3 cp' '$tmp/aws-calls.log' | head -n 2 | tail -n 1 | grep -q 'saved_model.pb s3://models-test/models/demo-model/3/saved_model.pb' &&
   grep '^s3 cp' '$tmp/aws-calls.log' | head -n 1 | grep -q -- '--exclude saved_model.pb'"
check "upload-model.sh --tar: the folder's files at the archive root" jq -e \
  '.tar["models-test/models/demo-model/4.tar.gz"] | index("./saved_model.pb") != null and index("./variables/variables.index") != null' \
  "$tmp/state-upload.json"

# deploy.sh --skip-build: ECS and ECR in moto, as Terraform leaves them.
deploy_env=(env ECR_REPOSITORY_URL="$repo_url" ECS_CLUSTER=ml-serve-ecs-dev ECS_SERVICE=ml-serve-ecs-dev
  ECS_TASK_FAMILY=ml-serve-ecs-dev ECS_CONTAINER_NAME=app SERVICE_URL=http://127.0.0.1:9)
check "deploy.sh --skip-build --no-wait rolls the service" "${deploy_env[@]}" "$S/deploy.sh" --skip-build --tag "$sha" --no-wait
dump deploy
check "deploy.sh: new revision 2 with image <repo>:<sha>" jq -e --arg image "$repo_url:$sha" \
  '.task_definition.revision == 2 and (.task_definition.containers[] | select(.name == "app") | .image) == $image' \
  "$tmp/state-deploy.json"
check "deploy.sh: environment, other containers, cpu and memory unchanged" jq -e \
  '(.task_definition.containers[] | select(.name == "app") | .environment) == [{"name":"MODEL_BASE_PATH","value":"s3://models-test/models"}]
   and (.task_definition.containers[] | select(.name == "sidecar") | .image) == "public.ecr.aws/example/sidecar:1"
   and .task_definition.cpu == "1024" and .task_definition.memory == "2048"' "$tmp/state-deploy.json"
check "deploy.sh: tags copied to the new revision" jq -e \
  '.task_definition.tags == [{"key":"Project","value":"ml-serve-ecs"}]' "$tmp/state-deploy.json"
check "deploy.sh: service moved to revision 2" jq -e '.service_task_definition | endswith(":2")' "$tmp/state-deploy.json"
check "deploy.sh: build/deploy/last.json names image and digest" jq -e --arg image "$repo_url:$sha" \
  '.image == $image and (.digest | startswith("sha256:"))' "$REPO_ROOT/build/deploy/last.json"
expect_fail "deploy.sh --skip-build fails for an image not in ECR" 'not in ECR' \
  "${deploy_env[@]}" "$S/deploy.sh" --skip-build --tag deadbee --no-wait
# moto never finishes a rollout: the wait must give up with a clear message instead of hanging.
expect_fail "deploy.sh gives up waiting with a clear message" 'not stable after 0s' \
  timeout 120 "${deploy_env[@]}" "$S/deploy.sh" --skip-build --tag "$sha" --wait-seconds 0

# rollout.sh: what the service's PRIMARY deployment runs. moto keeps a service's PRIMARY deployment
# on the revision it was created with when update-service names another one: what ECS shows after
# the circuit breaker rolled a deployment back. A service with no tasks to start (desired count 0)
# completes at once.
aws ecs create-service --cluster ml-serve-ecs-dev --service-name rollout-test --task-definition ml-serve-ecs-dev:1 \
  --desired-count 0 --launch-type FARGATE >/dev/null
aws ecs update-service --cluster ml-serve-ecs-dev --service rollout-test --task-definition ml-serve-ecs-dev:2 >/dev/null
rollout_env=(env ECS_CLUSTER=ml-serve-ecs-dev ECS_SERVICE=rollout-test)
check "rollout.sh current prints the PRIMARY deployment's revision" bash -c \
  "ECS_CLUSTER=ml-serve-ecs-dev ECS_SERVICE=rollout-test '$S/rollout.sh' current |
     grep -qx 'arn:aws:ecs:eu-west-1:[0-9]*:task-definition/ml-serve-ecs-dev:1'"
expect_fail "rollout.sh verify fails when the PRIMARY deployment is the old revision (rolled back)" \
  'ECS rolled back: the PRIMARY deployment of ml-serve-ecs-dev/rollout-test runs ml-serve-ecs-dev:1, not ml-serve-ecs-dev:2' \
  "${rollout_env[@]}" "$S/rollout.sh" verify --task-definition "arn:aws:ecs:eu-west-1:123456789012:task-definition/ml-serve-ecs-dev:2"
expect_fail "rollout.sh verify fails while the rollout is not complete" 'not complete after 0s' \
  env ECS_CLUSTER=ml-serve-ecs-dev ECS_SERVICE=ml-serve-ecs-dev "$S/rollout.sh" verify --task-definition ml-serve-ecs-dev:1
check "rollout.sh verify passes when the PRIMARY deployment runs the revision, COMPLETED" \
  "${rollout_env[@]}" "$S/rollout.sh" verify --task-definition ml-serve-ecs-dev:1
summary_file="$tmp/summary.md"
check "rollout.sh rollback moves the service to the recorded revision and verifies it" \
  "${rollout_env[@]}" GITHUB_STEP_SUMMARY="$summary_file" "$S/rollout.sh" rollback --to ml-serve-ecs-dev:1 --wait-seconds 0
check "rollout.sh rollback: the service's task definition is the recorded one; the summary says so" bash -c \
  "aws ecs describe-services --cluster ml-serve-ecs-dev --services rollout-test --query 'services[0].taskDefinition' \
     --output text | grep -q 'ml-serve-ecs-dev:1$' && grep -q 'Rolled back' '$summary_file'"
expect_fail "rollout.sh verify on a missing service says so" 'not found' \
  env ECS_CLUSTER=ml-serve-ecs-dev ECS_SERVICE=no-such-service "$S/rollout.sh" verify --task-definition ml-serve-ecs-dev:1
expect_fail "rollout.sh verify needs a task definition" 'needs --task-definition' "${rollout_env[@]}" "$S/rollout.sh" verify

# destroy.sh, with terraform stubbed as Terraform behaves with force_destroy = false: destroy stops
# at a bucket or repository that still holds data. The stub's destroy calls go into the AWS CLI's
# log, so the order of events is visible there.
cat >"$tmp/terraform" <<STUB
#!/usr/bin/env bash
printf 'terraform %s\n' "\$*" >>"$tmp/terraform.log"
case "\$*" in
  *"output -json"*)
    printf '{"model_bucket_name":{"value":"ml-serve-ecs-dev-models"},"ecr_repository_url":{"value":"$repo_url"},"task_definition_family":{"value":"ml-serve-ecs-dev"}}\n' ;;
  *" destroy "*)
    printf 'terraform %s\n' "\$*" >>"$tmp/aws-calls.log"
    versions="\$("$real_aws" s3api list-object-versions --bucket ml-serve-ecs-dev-models --output json 2>/dev/null |
      jq '[(.Versions // [])[], (.DeleteMarkers // [])[]] | length' || echo 0)"
    images="\$("$real_aws" ecr list-images --repository-name ml-serve-ecs-dev --output json 2>/dev/null |
      jq '.imageIds | length' || echo 0)"
    if [[ "\${versions:-0}" != 0 || "\${images:-0}" != 0 ]]; then
      echo "Error: deleting S3 Bucket (ml-serve-ecs-dev-models): BucketNotEmpty" >&2
      exit 1
    fi ;;
esac
STUB
chmod +x "$tmp/terraform"
: >"$tmp/terraform.log"
: >"$tmp/aws-calls.log"
expect_fail "destroy.sh without --yes and without a terminal refuses" 'pass --yes' \
  env TERRAFORM="$tmp/terraform" "$S/destroy.sh"
check "destroy.sh --dry-run --delete-data --state-bucket shows the destroy plan and what it would delete" bash -c \
  "TERRAFORM='$tmp/terraform' '$S/destroy.sh' --dry-run --delete-data --state-bucket ml-serve-ecs-tfstate 2>'$tmp/dry.log' >/dev/null &&
   grep -q 'plan -destroy' '$tmp/terraform.log' && grep -q 'would delete 5 object versions' '$tmp/dry.log' &&
   grep -q 'state bucket ml-serve-ecs-tfstate: would be deleted' '$tmp/dry.log'"
dump refused
check "destroy.sh: refusing and --dry-run deleted nothing" jq -e \
  '.buckets["ml-serve-ecs-dev-models"].versions == 5 and (.images | length) > 0' "$tmp/state-refused.json"
check "destroy.sh: no terraform destroy without confirmation" bash -c "! grep -q ' destroy ' '$tmp/terraform.log'"

expect_fail "destroy.sh without --delete-data stops where Terraform stops, and says how to go on" \
  'rerun with --delete-data' env TERRAFORM="$tmp/terraform" "$S/destroy.sh" --yes
dump kept
check "destroy.sh without --delete-data: models, captured data and images are intact" jq -e \
  '.buckets["ml-serve-ecs-dev-models"].versions == 5 and (.images | length) > 0' "$tmp/state-kept.json"
check "destroy.sh: terraform destroy ran, and no data was deleted" bash -c \
  "grep -q '^terraform -chdir=.*envs/dev destroy -auto-approve -input=false' '$tmp/aws-calls.log' &&
   ! grep -Eq '^(s3api delete-objects|ecr batch-delete-image)' '$tmp/aws-calls.log'"

# Another environment's state in the shared state bucket.
aws s3api put-object --bucket ml-serve-ecs-tfstate --key ml-serve-ecs/prod/terraform.tfstate \
  --body "$tmp/fixture.json" >/dev/null
: >"$tmp/aws-calls.log"
expect_fail "destroy.sh --delete-data --state-bucket keeps a state bucket holding other state" \
  'kept state bucket ml-serve-ecs-tfstate: it holds other state \(ml-serve-ecs/prod/terraform.tfstate\)' \
  env TERRAFORM="$tmp/terraform" "$S/destroy.sh" --yes --delete-data --state-bucket ml-serve-ecs-tfstate
dump destroyed
check "destroy.sh --delete-data: terraform destroy first, then the data, then terraform destroy again" bash -c \
  "grep -E '^(terraform .* destroy |s3api delete-objects|ecr batch-delete-image)' '$tmp/aws-calls.log' |
     cut -d' ' -f1-2 | tr '\n' ' ' | grep -Eq '^terraform -chdir=[^ ]* s3api delete-objects ecr batch-delete-image terraform -chdir=[^ ]* $'"
check "destroy.sh --delete-data: model bucket emptied (all versions and delete markers)" jq -e \
  '.buckets["ml-serve-ecs-dev-models"].versions == 0' "$tmp/state-destroyed.json"
check "destroy.sh --delete-data: image repository emptied" jq -e '.images == []' "$tmp/state-destroyed.json"
check "destroy.sh: task definition revisions deregistered" jq -e '.active_revisions == 0' "$tmp/state-destroyed.json"
check "destroy.sh: the shared state bucket and the other state in it are kept" jq -e \
  '.buckets["ml-serve-ecs-tfstate"].keys == ["ml-serve-ecs/dev/terraform.tfstate", "ml-serve-ecs/prod/terraform.tfstate"]' \
  "$tmp/state-destroyed.json"
aws s3api delete-object --bucket ml-serve-ecs-tfstate --key ml-serve-ecs/prod/terraform.tfstate >/dev/null
check "destroy.sh --state-bucket deletes the state bucket once only this stack's state is in it" \
  env TERRAFORM="$tmp/terraform" "$S/destroy.sh" --yes --state-bucket ml-serve-ecs-tfstate
dump gone
check "destroy.sh: state bucket deleted" jq -e '.buckets | has("ml-serve-ecs-tfstate") | not' "$tmp/state-gone.json"

# terraform-ci.sh: the destroy guard comes before anything else (terraform stubbed).
: >"$tmp/terraform.log"
expect_fail "terraform-ci.sh destroy refuses without CONFIRM_DESTROY" "refusing to destroy 'dev': set CONFIRM_DESTROY=dev" \
  env -u CONFIRM_DESTROY TERRAFORM="$tmp/terraform" "$S/terraform-ci.sh" destroy
expect_fail "terraform-ci.sh destroy refuses a wrong confirmation" "refusing to destroy 'dev'.*got 'prod'" \
  env TERRAFORM="$tmp/terraform" CONFIRM_DESTROY=prod "$S/terraform-ci.sh" destroy
check "terraform-ci.sh: a refused destroy ran no terraform command" bash -c "! [[ -s '$tmp/terraform.log' ]]"
expect_fail "terraform-ci.sh rejects an unknown action" 'unknown action' "$S/terraform-ci.sh" deploy

# ship-image.sh push: the saved image reaches a registry with its digest unchanged (a loopback
# docker-registry stands in for ECR: same Registry API; ECR's login is the AWS CLI's).
echo "ship-image.sh against a loopback registry:"
ship_tools_missing=""
for tool in skopeo umoci docker-registry; do
  command -v "$tool" >/dev/null 2>&1 || ship_tools_missing="$ship_tools_missing $tool"
done
if [[ -n "$ship_tools_missing" ]]; then
  if [[ "${CI:-}" == true ]]; then
    fail "ship-image.sh tests need:$ship_tools_missing"
  else
    printf 'SKIP: ship-image.sh tests need:%s (apt-get install -y skopeo umoci docker-registry)\n' "$ship_tools_missing"
  fi
else
  # Two small OCI images made with umoci, saved the way `ship-image.sh build` saves them.
  umoci init --layout "$tmp/oci" && umoci new --image "$tmp/oci:tiny" && umoci config --image "$tmp/oci:tiny" --config.env A=1
  for n in 1 2; do
    [[ "$n" == 1 ]] || umoci config --image "$tmp/oci:tiny" --config.env B=2
    mkdir -p "$tmp/ship$n"
    skopeo copy --quiet "oci:$tmp/oci:tiny" "dir:$tmp/ship$n/image"
    skopeo manifest-digest "$tmp/ship$n/image/manifest.json" >"$tmp/ship$n/digest"
    printf '%s\n' "$sha" >"$tmp/ship$n/tag"
  done
  registry_port="$(free_port)"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$tmp/registry" "$registry_port" >"$tmp/registry.yml"
  docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
  stub_pid=$!
  wait_for_http "http://127.0.0.1:$registry_port/v2/" 20 || die "docker-registry did not start"
  target="127.0.0.1:$registry_port/ml-serve-ecs"
  digest1="$(cat "$tmp/ship1/digest")"
  check "ship-image.sh push copies the saved image" "$S/ship-image.sh" push --from "$tmp/ship1" --to "$target"
  check "ship-image.sh push: the registry serves the tested digest under <repo>:<commit>" bash -c \
    "[[ \"\$(skopeo inspect --raw --tls-verify=false docker://$target:$sha | sha256sum | cut -d' ' -f1)\" == '${digest1#sha256:}' ]]"
  check "ship-image.sh push: build/deploy/last.json names the image by digest" jq -e --arg d "$digest1" --arg r "$target" \
    '.digest == $d and .image_by_digest == ($r + "@" + $d)' "$REPO_ROOT/build/deploy/last.json"
  check "ship-image.sh push of the same image again is a no-op" bash -c \
    "'$S/ship-image.sh' push --from '$tmp/ship1' --to '$target' 2>&1 | grep -q 'nothing to push'"
  expect_fail "ship-image.sh push refuses a tag that holds another digest" 'already holds sha256:[0-9a-f]+, not the tested' \
    "$S/ship-image.sh" push --from "$tmp/ship2" --to "$target"
  cp "$tmp/ship2/digest" "$tmp/ship1/digest"
  expect_fail "ship-image.sh push refuses an image that does not match its recorded digest" 'does not match' \
    "$S/ship-image.sh" push --from "$tmp/ship1" --to "$target"
  expect_fail "ship-image.sh build refuses a tag that is not a commit" 'commit SHA' "$S/ship-image.sh" build --tag latest --out "$tmp/x"
  kill "$stub_pid"
  wait "$stub_pid" 2>/dev/null || true
  stub_pid=""
fi

# smoke.sh against a stub of the service's HTTP surface.
echo "smoke.sh against a stub service:"
cat >"$tmp/stub.py" <<'EOF'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
mode = sys.argv[2]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, code, body, ctype="application/json"):
        data = body.encode()
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        if self.path in ("/v2/health/ready", "/v2/health/live"): self.answer(200, "{}")
        elif self.path == "/": self.answer(200, "<html>ml-serve</html>", "text/html")
        elif self.path == "/metrics": self.answer(200, "# HELP up\n# TYPE up gauge\nup 1\n", "text/plain")
        else: self.answer(404, '{"error": "not found"}')
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/models/imdb-sentiment:predict" or len(body["instances"]) != 2:
            return self.answer(404, '{"error": "no such model"}')
        scores = [[0.93], [0.04]] if mode == "good" else [[0.2], [1.7]]
        self.answer(200, json.dumps({"predictions": scores}))
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
for mode in good bad; do
  stub_port="$(free_port)"
  python3 "$tmp/stub.py" "$stub_port" "$mode" &
  stub_pid=$!
  wait_for_http "http://127.0.0.1:$stub_port/v2/health/live" 10 || die "stub server did not start"
  if [[ "$mode" == good ]]; then
    check "smoke.sh passes against a healthy service" "$S/smoke.sh" --timeout 10 "127.0.0.1:$stub_port"
  else
    expect_fail "smoke.sh fails on scores out of range" 'FAIL +predict: two scores in \[0,1\]' \
      "$S/smoke.sh" --timeout 10 "http://127.0.0.1:$stub_port"
  fi
  kill "$stub_pid"
  wait "$stub_pid" 2>/dev/null || true
  stub_pid=""
done
expect_fail "smoke.sh fails when nothing answers" 'FAIL +ready within 2 s' "$S/smoke.sh" --timeout 2 "http://127.0.0.1:9"

printf 'took %d s\n' "$((SECONDS - started))"
summary scripts
