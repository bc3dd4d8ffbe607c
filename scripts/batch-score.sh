#!/usr/bin/env bash
# Uploads files for a batch scoring job, starts it, follows it and prints its summary.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stack.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/batch-score.sh [options] FILE...
       scripts/batch-score.sh --status JOB [options]

Scores files of texts with the deployed model (docs/BATCH.md): uploads each FILE (.jsonl, .csv
with a header, .txt: one text per line) to s3://BUCKET/batch/input/JOB/, starts the batch state
machine, follows the job until its manifest (s3://BUCKET/batch/output/JOB/_SUCCESS) appears or
the execution ends without one, and prints the summary and where the results are.

How the job starts:
  --start direct   (default) StartExecution with {"key": "batch/input/JOB/_READY"}
  --start event    upload batch/input/JOB/_READY and let the EventBridge rule start it
With --status JOB it uploads nothing and prints the job's state: the manifest's summary when it
is done, else how many parts of its plan have finished.

Options:
  --job NAME            job name, ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (default: first file's name
                        and the time, e.g. reviews-20261201-0712)
  --env NAME            Terraform environment under terraform/envs (default: dev)
  --timeout SECONDS     give up following after this long (default: 3600; the job goes on)
  --no-wait             start the job and return
  --dry-run             print what would be uploaded and started; change nothing
  -h, --help            this text

Names come from `terraform output` of the stack unless set in the environment:
  BATCH_BUCKET (model_bucket_name), BATCH_STATE_MACHINE_ARN (batch_state_machine_arn).
Environment: the AWS CLI's own (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL for emulators).
Exit codes: 0 the job finished and wrote its manifest (its outcome may still be rows_failed),
1 it failed or could not start, 2 bad arguments, 124 still running at --timeout.
Example: scripts/batch-score.sh --job reviews-1 reviews.jsonl
USAGE
}

job="" env_name="dev" start="direct" timeout=3600 wait=true dry_run=false status=""
files=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --job) job="${2:?--job needs a value}"; shift ;;
    --env) env_name="${2:?--env needs a value}"; shift ;;
    --start) start="${2:?--start needs direct or event}"; shift ;;
    --timeout) timeout="${2:?--timeout needs seconds}"; shift ;;
    --no-wait) wait=false ;;
    --dry-run) dry_run=true ;;
    --status) status="${2:?--status needs a job name}"; shift ;;
    -*) usage >&2; printf 'error: unknown option %s\n' "$1" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done

name_re='^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
[[ "$start" == direct || "$start" == event ]] || { printf 'error: --start must be direct or event\n' >&2; exit 2; }
[[ "$timeout" =~ ^[0-9]+$ ]] || { printf 'error: --timeout must be whole seconds\n' >&2; exit 2; }
if [[ -n "$status" ]]; then
  job="$status"
else
  [[ ${#files[@]} -gt 0 ]] || { usage >&2; printf 'error: no input FILE\n' >&2; exit 2; }
  for f in "${files[@]}"; do
    [[ -f "$f" ]] || { printf 'error: no such file: %s\n' "$f" >&2; exit 2; }
    case "$f" in
      *.jsonl | *.ndjson | *.json | *.csv | *.txt) ;;
      *) printf 'error: %s: name input files .jsonl, .csv or .txt (the job tells the format by it)\n' "$f" >&2; exit 2 ;;
    esac
  done
  if [[ -z "$job" ]]; then
    base="$(basename "${files[0]}")"
    job="$(printf '%s' "${base%.*}" | tr -c 'A-Za-z0-9._-' '-' | cut -c1-40)-$(date -u +%Y%m%d-%H%M%S)"
  fi
fi
[[ "$job" =~ $name_re ]] || { printf 'error: invalid job name %s (letters, digits, . _ -; max 64)\n' "$job" >&2; exit 2; }

require_tool aws "Install the AWS CLI v2 (https://docs.aws.amazon.com/cli/)."
require_tool jq "apt-get install -y jq"
load_stack "$env_name" BATCH_BUCKET=model_bucket_name BATCH_STATE_MACHINE_ARN=batch_state_machine_arn
input="s3://$BATCH_BUCKET/batch/input/$job"
output="s3://$BATCH_BUCKET/batch/output/$job"
manifest_key="batch/output/$job/_SUCCESS"

# print_summary: prints the manifest's one-line summary and where the results are.
print_summary() {
  jq -r '
    "job \(.job): \(.outcome), \(.counts.rows) rows (\(.counts.scored) scored, \(.counts.failed_rows) failed, \(.counts.low_confidence_rows) low-confidence)",
    "model \(.model.name) version \(.model.version)\(if .model.label then " (label \(.model.label))" else "" end); \(.timings.rows_per_second | floor) rows/s over \(.counts.parts) part(s)",
    (if .counts.failed_rows > 0 then "failures by reason: \(.counts.failure_reasons | to_entries | map("\(.key): \(.value)") | join(", "))" else empty end),
    "results:        \(.outputs.results | join(" "))",
    "low-confidence: \(.outputs.low_confidence)",
    "errors:         \(.outputs.errors)",
    "manifest:       \(.outputs.manifest)"'
}

# manifest: the job's manifest JSON, or nothing when it has none (yet).
manifest() {
  aws s3 cp --only-show-errors "s3://$BATCH_BUCKET/$manifest_key" - 2>/dev/null || true
}

if [[ -n "$status" ]]; then
  m="$(manifest)"
  if [[ -n "$m" ]]; then
    print_summary <<<"$m"
    exit 0
  fi
  plan="$(aws s3 cp --only-show-errors "$output/_plan.json" - 2>/dev/null || true)"
  [[ -n "$plan" ]] || { log "job $job: no plan and no manifest under $output/ (not started, or planning)"; exit 1; }
  total="$(jq length <<<"$plan")"
  done_parts="$(aws s3 ls --recursive "$output/parts/" 2>/dev/null | grep -c '/_part\.json$' || true)"
  echo "job $job: running, $done_parts of $total part(s) done; no manifest yet"
  exit 0
fi

if $dry_run; then
  for f in "${files[@]}"; do echo "would upload $f -> $input/$(basename "$f")"; done
  if [[ "$start" == event ]]; then
    echo "would upload an empty $input/_READY (the EventBridge rule starts $BATCH_STATE_MACHINE_ARN)"
  else
    echo "would start $BATCH_STATE_MACHINE_ARN with {\"key\": \"batch/input/$job/_READY\"}"
  fi
  echo "would follow s3://$BATCH_BUCKET/$manifest_key"
  exit 0
fi

for f in "${files[@]}"; do
  aws s3 cp --only-show-errors "$f" "$input/$(basename "$f")"
  log "uploaded $f -> $input/$(basename "$f")"
done

since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
execution=""
if [[ "$start" == event ]]; then
  aws s3api put-object --bucket "$BATCH_BUCKET" --key "batch/input/$job/_READY" >/dev/null
  log "uploaded $input/_READY; waiting for the rule to start the job"
else
  execution="$(aws stepfunctions start-execution --state-machine-arn "$BATCH_STATE_MACHINE_ARN" \
    --name "$job-$(date -u +%s)" --input "{\"key\": \"batch/input/$job/_READY\"}" \
    --query executionArn --output text)" || die "could not start $BATCH_STATE_MACHINE_ARN"
  log "started $execution"
fi
$wait || exit 0

# Follow: the manifest is the end of a job (written last); an execution that ends without one
# failed. With --start event, the execution is the newest one started since the upload.
deadline=$((SECONDS + timeout))
while ((SECONDS < deadline)); do
  m="$(manifest)"
  if [[ -n "$m" ]] && [[ "$(jq -r '.timings.finished' <<<"$m")" > "$since" ]]; then
    print_summary <<<"$m"
    exit 0
  fi
  if [[ -z "$execution" ]]; then
    execution="$(aws stepfunctions list-executions --state-machine-arn "$BATCH_STATE_MACHINE_ARN" \
      --query "executions[?startDate>=\`$since\`] | [0].executionArn" --output text 2>/dev/null || true)"
    [[ "$execution" != None ]] || execution=""
  fi
  if [[ -n "$execution" ]]; then
    state="$(aws stepfunctions describe-execution --execution-arn "$execution" --query status --output text)"
    if [[ "$state" != RUNNING && "$state" != PENDING_REDRIVE ]]; then
      m="$(manifest)"
      if [[ -n "$m" ]]; then
        print_summary <<<"$m"
        exit 0
      fi
      die "job $job: execution $state without a manifest: $(aws stepfunctions describe-execution \
        --execution-arn "$execution" --query '[error, cause]' --output text 2>/dev/null | cut -c1-300)"
    fi
  fi
  sleep "${BATCH_POLL_SECONDS:-10}"
done
log "job $job still running after ${timeout}s; check later with: scripts/batch-score.sh --status $job"
exit 124
