#!/usr/bin/env bash
# Tests scripts/batch-score.sh: arguments, dry run, and real runs against moto (S3 and Step
# Functions on 127.0.0.1) where the test plays the job's part by writing what the merge step
# writes (moto stores state machines but does not run their ECS tasks).
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/test-batch.sh

Checks scripts/batch-score.sh: shellcheck, --help, refused arguments, --dry-run; then against
moto: files uploaded under batch/input/JOB/, the state machine started with the job's key,
the job followed until its manifest appears (summary printed, exit 0), an execution that ends
without a manifest (exit 1), --start event (the _READY marker), and --status of a finished,
a running and an unknown job. Ends with "batch: N passed, M failed". Missing shellcheck,
python3, moto, aws or jq: SKIP (fails with CI=true).
USAGE
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; die "unknown argument: $1" ;;
esac

for tool in shellcheck python3 aws jq; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip_or_fail "batch test needs '$tool' (apt-get install -y shellcheck jq; pip install awscli 'moto[server]')"
done
python3 -c 'import moto, flask, boto3' 2>/dev/null || skip_or_fail "batch test needs moto with its server (pip install 'moto[server]')"

S="$REPO_ROOT/scripts/batch-score.sh"
tmp="$(mktemp -d)"
moto_pid=""
bg_pid=""
cleanup() {
  local pid
  for pid in "$bg_pid" "$moto_pid"; do
    [[ -z "$pid" ]] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# expect NAME STATUS PATTERN CMD...: CMD exits with STATUS and prints PATTERN (extended regex).
expect() {
  local name="$1" want="$2" pattern="$3" out rc=0
  shift 3
  out="$("$@" 2>&1 </dev/null)" || rc=$?
  if [[ $rc -ne $want ]]; then
    fail "$name" "exit $rc, expected $want: $(tail -n 3 <<<"$out")"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "$name" "output did not match /$pattern/: $(tail -n 3 <<<"$out")"
  else
    pass "$name"
  fi
}

echo "static checks:"
check "shellcheck batch-score.sh" shellcheck -x -P "$REPO_ROOT" "$S"
check "batch-score.sh --help" bash -c "'$S' --help | head -n 1 | grep -q '^Usage: scripts/batch-score.sh'"
printf '{"id": 1, "text": "great movie"}\n{"id": 2, "text": "awful film"}\n{"id": 3, "text": "not bad"}\n' >"$tmp/reviews.jsonl"
printf 'x\n' >"$tmp/reviews.doc"
expect "refuses an unknown option" 2 'unknown option' "$S" --frobnicate "$tmp/reviews.jsonl"
expect "refuses no input" 2 'no input FILE' "$S"
expect "refuses a missing file" 2 'no such file' "$S" "$tmp/nope.jsonl"
expect "refuses an unknown extension" 2 'name input files .jsonl, .csv or .txt' "$S" "$tmp/reviews.doc"
expect "refuses a bad job name" 2 'invalid job name' "$S" --job '../x' "$tmp/reviews.jsonl"

echo "against moto:"
port="$(free_port)"
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_PAGER="" BATCH_POLL_SECONDS=1
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" 2>/dev/null && break
  sleep 0.2
done
export BATCH_BUCKET=batch-test-bucket
aws s3api create-bucket --bucket "$BATCH_BUCKET" \
  --create-bucket-configuration LocationConstraint=eu-west-1 >/dev/null
BATCH_STATE_MACHINE_ARN="$(aws stepfunctions create-state-machine --name test-batch \
  --role-arn arn:aws:iam::123456789012:role/test \
  --definition '{"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": true}}}' \
  --query stateMachineArn --output text)"
export BATCH_STATE_MACHINE_ARN

expect "--dry-run says what it would do" 0 'would start .*batch/input/dry/_READY' \
  "$S" --dry-run --job dry "$tmp/reviews.jsonl"
check "--dry-run uploads nothing" bash -c \
  "[[ -z \"\$(aws s3api list-objects-v2 --bucket $BATCH_BUCKET --prefix batch/input/dry/ --query 'Contents[].Key' --output text | grep -v None)\" ]]"

# A manifest as the merge step writes it (fields the script reads).
manifest() {
  jq -n --arg job "$1" --arg b "$BATCH_BUCKET" --arg fin "$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%S.000Z)" '{
    job: $job, status: "succeeded", outcome: "low_confidence",
    model: {name: "imdb-sentiment", version: 1, label: null},
    counts: {files: 1, parts: 1, rows: 3, scored: 3, failed_rows: 0, low_confidence_rows: 1,
             failure_reasons: {}},
    outputs: {results: ["s3://\($b)/batch/output/\($job)/reviews.jsonl.out"],
              low_confidence: "s3://\($b)/batch/output/\($job)/low-confidence.jsonl",
              errors: "s3://\($b)/batch/output/\($job)/errors.jsonl",
              manifest: "s3://\($b)/batch/output/\($job)/_SUCCESS"},
    timings: {finished: $fin, rows_per_second: 1234.5}}'
}

# wait_for_execution: until the state machine has N executions.
wait_for_execution() {
  local n="$1"
  for _ in $(seq 100); do
    [[ "$(aws stepfunctions list-executions --state-machine-arn "$BATCH_STATE_MACHINE_ARN" \
      --query 'length(executions)' --output text)" -ge "$n" ]] && return 0
    sleep 0.2
  done
  return 1
}

"$S" --job j1 --timeout 60 "$tmp/reviews.jsonl" >"$tmp/j1.out" 2>&1 &
bg_pid=$!
if wait_for_execution 1; then
  manifest j1 | aws s3 cp - "s3://$BATCH_BUCKET/batch/output/j1/_SUCCESS" --only-show-errors
fi
rc=0
wait "$bg_pid" || rc=$?
bg_pid=""
if [[ $rc -eq 0 ]] && grep -q 'job j1: low_confidence, 3 rows' "$tmp/j1.out" &&
  grep -q 'low-confidence: s3://batch-test-bucket/batch/output/j1/low-confidence.jsonl' "$tmp/j1.out"; then
  pass "follows a job to its manifest and prints the summary"
else
  fail "follows a job to its manifest and prints the summary" "exit $rc: $(tail -n 5 "$tmp/j1.out")"
fi
check "uploads the input under batch/input/JOB/" \
  aws s3api head-object --bucket "$BATCH_BUCKET" --key batch/input/j1/reviews.jsonl
check "starts the state machine with the job's key" bash -c \
  "aws stepfunctions describe-execution --execution-arn \"\$(aws stepfunctions list-executions \
   --state-machine-arn '$BATCH_STATE_MACHINE_ARN' --query 'executions[0].executionArn' --output text)\" \
   --query input --output text | jq -e '.key == \"batch/input/j1/_READY\"'"

"$S" --job j2 --timeout 60 "$tmp/reviews.jsonl" >"$tmp/j2.out" 2>&1 &
bg_pid=$!
if wait_for_execution 2; then
  arn="$(aws stepfunctions list-executions --state-machine-arn "$BATCH_STATE_MACHINE_ARN" \
    --query 'executions[?contains(name, `j2-`)] | [0].executionArn' --output text)"
  aws stepfunctions stop-execution --execution-arn "$arn" --error Batch.PlanFailed --cause test >/dev/null
fi
rc=0
wait "$bg_pid" || rc=$?
bg_pid=""
if [[ $rc -eq 1 ]] && grep -q 'execution ABORTED without a manifest' "$tmp/j2.out"; then
  pass "an execution that ends without a manifest fails"
else
  fail "an execution that ends without a manifest fails" "exit $rc: $(tail -n 3 "$tmp/j2.out")"
fi

expect "--start event uploads the _READY marker" 0 'uploaded .*batch/input/j3/_READY' \
  "$S" --job j3 --start event --no-wait "$tmp/reviews.jsonl"
check "--start event starts no execution itself" bash -c \
  "[[ \$(aws stepfunctions list-executions --state-machine-arn '$BATCH_STATE_MACHINE_ARN' --query 'length(executions)' --output text) -eq 2 ]]"

expect "--status of a finished job prints its summary" 0 'job j1: low_confidence, 3 rows' "$S" --status j1
printf '[{"part": "00000"}, {"part": "00001"}]' | aws s3 cp - "s3://$BATCH_BUCKET/batch/output/j4/_plan.json" --only-show-errors
printf '{}' | aws s3 cp - "s3://$BATCH_BUCKET/batch/output/j4/parts/00000/_part.json" --only-show-errors
expect "--status of a running job counts its finished parts" 0 'running, 1 of 2 part' "$S" --status j4
expect "--status of an unknown job fails" 1 'no plan and no manifest' "$S" --status nojob

summary "batch"
