#!/usr/bin/env bash
# Runs the project's Prometheus setup locally: Debian's prometheus scraping a running service's
# /metrics with the alert rules AMP runs (terraform/modules/prometheus/rules), and says how to
# look at it through the Grafana dashboard.
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
Usage: scripts/observe.sh [--target HOST:PORT] [--port PORT] [--data-dir DIR] [--interval DURATION]
                          [--check] [--help]

Starts Prometheus in the foreground, scraping http://TARGET/metrics of a running ml-serve-ecs
service (start one with: ./mvnw -q -pl app -DskipTests package exec:exec) and evaluating the
same alert rules that Amazon Managed Service for Prometheus runs in AWS. Stop it with Ctrl-C.
Then prints how to import the Grafana dashboard (terraform/modules/prometheus/dashboards/
mlserve.json) into any Grafana with this Prometheus as its data source.

Options:
  --target HOST:PORT    the service to scrape (default 127.0.0.1:8080)
  --port PORT           where Prometheus listens, on 127.0.0.1 (default 9090)
  --data-dir DIR        Prometheus' configuration and data (default: a new temporary folder)
  --interval DURATION   scrape and rule evaluation interval (default 5s)
  --check               validate the rules (promtool) and write the configuration, then exit
                        without starting Prometheus
  -h, --help            this help

Needs prometheus and promtool (Debian: apt-get install prometheus).
EOF_USAGE
}

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

target="127.0.0.1:8080"
port=9090
data_dir=""
interval="5s"
check_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) target="${2:?--target needs HOST:PORT}"; shift ;;
    --port) port="${2:?--port needs a number}"; shift ;;
    --data-dir) data_dir="${2:?--data-dir needs a folder}"; shift ;;
    --interval) interval="${2:?--interval needs a duration}"; shift ;;
    --check) check_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$target" =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || die "--target must be HOST:PORT, got '$target'"
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$port'"
[[ "$interval" =~ ^[0-9]+[smh]$ ]] || die "--interval must be a duration such as 5s, got '$interval'"

require_tool promtool "Install Debian's prometheus package (apt-get install prometheus)."
require_tool prometheus "Install Debian's prometheus package (apt-get install prometheus)."

module="$REPO_ROOT/terraform/modules/prometheus"
rules="$module/rules/mlserve.rules.yml"
dashboard="$module/dashboards/mlserve.json"
promtool check rules "$rules" >&2 || die "promtool rejects $rules"

if [[ -z "$data_dir" ]]; then
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/observe.XXXXXX")"
fi
mkdir -p "$data_dir/data"
config="$data_dir/prometheus.yml"
cat >"$config" <<EOF_CONFIG
# Written by scripts/observe.sh: the service's /metrics, the rules AMP evaluates in AWS.
global:
  scrape_interval: $interval
  evaluation_interval: $interval
rule_files:
  - "$rules"
scrape_configs:
  - job_name: mlserve
    metrics_path: /metrics
    static_configs:
      - targets: ["$target"]
EOF_CONFIG
promtool check config "$config" >&2 || die "promtool rejects the generated $config"

cat >&2 <<EOF_HOWTO

Prometheus: http://127.0.0.1:$port  (targets: /targets, alerts: /alerts, config: $config)
Scraping:   http://$target/metrics every $interval

To see the dashboard in a Grafana (10 or newer; e.g. one you run locally):
  1. Connections > Data sources > Add > Prometheus, URL http://127.0.0.1:$port, Save & test.
  2. Dashboards > New > Import > Upload JSON file: $dashboard
  3. Pick that data source for "Prometheus" and open "ml-serve-ecs: models in production".
  The same JSON imports into Amazon Managed Grafana with the AMP workspace as data source
  (docs/MONITORING.md).

EOF_HOWTO

if [[ $check_only -eq 1 ]]; then
  echo "observe: configuration ok ($config)"
  exit 0
fi
exec prometheus --config.file="$config" --storage.tsdb.path="$data_dir/data" \
  --web.listen-address="127.0.0.1:$port" --log.level=warn
