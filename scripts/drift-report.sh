#!/usr/bin/env bash
# Runs the drift report (the image's `drift` command) from this checkout, e.g. over a past
# window or with other thresholds than the hourly schedule in AWS uses.
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
Usage: scripts/drift-report.sh [--help] --model MODEL [DRIFT OPTIONS...]

Compiles app/ (offline when ~/.m2 has everything) and runs `dev.mlserve.Main drift` with the
given options: it reads the model's captured predictions in a window, compares every version
and variant seen with the version's training baseline (assets.extra/baseline.json), writes a
report per version/variant to S3 and publishes to SNS when a check fails. `--model M --help`
lists the job's own options (--window, --end, --version, --variant, --min-rows, ...).

Environment (the same names as the scheduled task in AWS):
  CAPTURE_S3_URI        s3://bucket/prefix of the capture
  MODEL_BASE_PATH       folder or s3://bucket/prefix holding <model>/<version>/
  DRIFT_REPORT_S3_URI   s3://bucket/prefix the reports go to
  DRIFT_SNS_TOPIC_ARN   topic for violations (optional)
  AWS_REGION, AWS_PROFILE or credentials, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (emulators)
Exit status: 0 reports written, 1 a version could not be judged or S3 failed, 2 bad options.

In AWS the job runs hourly from EventBridge Scheduler (terraform/modules/drift-report); run
it there at once with: aws ecs run-task --cluster CLUSTER --launch-type FARGATE \
  --task-definition PROJECT-ENV-drift-MODEL --network-configuration ...
EOF_USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
require_tool java "Install a JDK 17 or newer."

classpath_file="$REPO_ROOT/app/target/drift-classpath.txt"
build_app_classpath "$classpath_file" \
  || die "could not compile app/ (run ./mvnw -pl app compile to see why)"
exec java -cp "$REPO_ROOT/app/target/classes:$(cat "$classpath_file")" dev.mlserve.Main drift "$@"
