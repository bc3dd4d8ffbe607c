#!/usr/bin/env bash
# Cold start of the image under podman, with and without its JVM AOT cache, in one run: time to
# ready, throughput in the first seconds of load against throughput after a minute, memory.
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/cold-start.sh [--image NAME] [--modes LIST] [--windows N] [--clients N] [--out DIR]

Starts the demo-model image under podman as the image test does (read-only root, no tmpfs, 1 GiB
memory where cgroups allow), once per mode, one mode after the other:
  aot        the image as shipped: -XX:AOTCache=/app/aot/app.aot (classes + method profiles)
  classes    the same cache, its method profiles ignored (-XX:-AOTReplayTraining): what class
             loading and linking alone buy
  off        no cache (-XX:AOTMode=off): the JVM as before
and for each measures
  - podman run → first 200 on /v2/health/ready, and JVM process start (container StartedAt) → ready;
  - wrk load right after ready (1 text per request, --clients connections, 2 threads), in 10 s
    windows: req/s of the first window, of the last (after (N-1)×10 s of load), and their ratio;
  - the container's memory (cgroup) when idle after ready and after the load;
and prints a table (Markdown) plus each mode's per-window req/s. The image's AOT cache layer size
is printed from podman's history.

Options:
  --image NAME    image in podman's storage (default: localhost/ml-serve-image-test:demo, what
                  scripts/test-image.sh leaves in build/image-test/podman)
  --modes LIST    comma-separated, default aot,classes,off; NAME:OPTIONS adds a mode that runs
                  the image as shipped with extra JVM options (e.g. cc6:-XX:CICompilerCount=6)
  --windows N     10 s load windows per mode (default 7: first 10 s and 60-70 s)
  --clients N     wrk connections (default 64)
  --out DIR       where results go (default build/cold-start)
  -h, --help      this text

Uses build/image-test/podman's storage and configuration when they exist (run
scripts/test-image.sh first). The machine's other load skews absolute numbers: compare modes
within one run only. Needs: podman, wrk, curl, jq, python3.
USAGE
}

image="localhost/ml-serve-image-test:demo"
modes="aot,classes,off"
windows=7
clients=64
out="$REPO_ROOT/build/cold-start"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --image) image="${2:?--image needs a value}"; shift 2 ;;
    --modes) modes="${2:?--modes needs a value}"; shift 2 ;;
    --windows) windows="${2:?--windows needs a value}"; shift 2 ;;
    --clients) clients="${2:?--clients needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$windows" =~ ^[0-9]+$ && "$windows" -ge 2 ]] || die "--windows must be a number >= 2"
[[ "$clients" =~ ^[0-9]+$ && "$clients" -ge 1 ]] || die "--clients must be a number >= 1"
for tool in podman wrk curl jq python3; do
  require_tool "$tool" "Install it (apt-get install -y podman wrk curl jq python3)."
done

pod="$REPO_ROOT/build/image-test/podman"
if [[ -z "${CONTAINERS_CONF:-}" && -f "$pod/containers.conf" ]]; then
  export CONTAINERS_CONF="$pod/containers.conf" CONTAINERS_STORAGE_CONF="$pod/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$pod/registries.conf"
fi
podman image exists "$image" || die "no image '$image' in podman's storage; run scripts/test-image.sh first"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

container=""
cleanup() {
  [[ -z "$container" ]] || podman rm -f -t 0 "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

memory_args=()
if podman info --format '{{.Host.CgroupControllers}}' | grep -qw memory; then
  memory_args=(--memory 1g)
fi
now() { date +%s.%N; }
mem_mib() { # the container's memory use in MiB (cgroup), or n/a
  podman stats --no-stream --format '{{.MemUsage}}' "$1" 2>/dev/null |
    awk '{ v = $1; u = v; gsub(/[0-9.]/, "", u); gsub(/[^0-9.]/, "", v);
           f = (u == "GB" || u == "GiB") ? 1024 : (u == "kB" || u == "KiB") ? 1 / 1024 : 1;
           printf "%.0f", v * f }' || printf 'n/a'
}

results="$out/results.jsonl"
: >"$results"
# the commit the image was built from (its OCI label), not the checkout's HEAD
commit="$(podman image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "$image" 2>/dev/null | cut -c1-7)"
commit="${commit:-unknown}"
IFS=, read -r -a mode_list <<<"$modes"
for mode in "${mode_list[@]}"; do
  case "$mode" in
    aot) java_options="" ;;
    classes) java_options="-XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining" ;;
    off) java_options="-XX:AOTMode=off" ;;
    [a-z]*:-*) java_options="${mode#*:}"; mode="${mode%%:*}" ;;
    *) die "unknown mode '$mode' (aot, classes, off, or NAME:OPTIONS)" ;;
  esac
  port="$(free_port)"
  container="mlserve-cold-start-$$-$mode"
  base="http://127.0.0.1:$port"
  log "[$mode] starting $image"
  launched="$(now)"
  podman run -d --name "$container" --read-only --read-only-tmpfs=false "${memory_args[@]}" \
    -e "JDK_JAVA_OPTIONS=$java_options" -p "127.0.0.1:$port:8080" "$image" >/dev/null
  ready_at=""
  deadline=$((SECONDS + 180))
  while ((SECONDS < deadline)); do
    if curl -fsS -o /dev/null --max-time 1 "$base/v2/health/ready" 2>/dev/null; then
      ready_at="$(now)"
      break
    fi
    sleep 0.05
  done
  [[ -n "$ready_at" ]] || die "[$mode] not ready within 180 s: $(podman logs "$container" 2>&1 | tail -n 5)"
  started_at="$(podman inspect -f '{{.State.StartedAt}}' "$container")"
  started_epoch="$(date -d "$(sed 's/ +0000 UTC$/Z/; s/ UTC$//' <<<"$started_at")" +%s.%N 2>/dev/null || echo "$launched")"
  sleep 2
  idle_mib="$(mem_mib "$container")"
  rates=()
  for ((w = 1; w <= windows; w++)); do
    BENCH_TEXTS="$REPO_ROOT/scripts/bench/texts.txt" BENCH_OUT="$out/$mode-window-$w.json" \
      wrk -t2 "-c$clients" -d10s -s "$REPO_ROOT/scripts/bench/post.lua" \
      "$base/v1/models/imdb-sentiment:predict" >"$out/$mode-window-$w.txt" 2>&1
    rates+=("$(jq -r '(.requests / .duration_s) | floor' "$out/$mode-window-$w.json")")
    errors="$(jq -r '.errors | add' "$out/$mode-window-$w.json")"
    [[ "$errors" == 0 ]] || log "[$mode] window $w: $errors wrk errors (see $out/$mode-window-$w.txt)"
  done
  loaded_mib="$(mem_mib "$container")"
  podman logs "$container" >"$out/$mode-container.log" 2>&1 || true
  podman rm -f -t 5 "$container" >/dev/null 2>&1 || true
  container=""
  jq -n --arg mode "$mode" --argjson launched "$launched" --argjson started "$started_epoch" \
    --argjson ready "$ready_at" --arg idle "$idle_mib" --arg loaded "$loaded_mib" \
    --argjson rates "[$(IFS=,; printf '%s' "${rates[*]}")]" \
    '{mode: $mode, run_to_ready_s: ($ready - $launched), start_to_ready_s: ($ready - $started),
      rates: $rates, first: $rates[0], last: $rates[-1], ratio: ($rates[0] / $rates[-1]),
      idle_mib: $idle, loaded_mib: $loaded}' >>"$results"
  log "[$mode] ready after $(jq -r 'select(.mode == "'"$mode"'") | .run_to_ready_s * 100 | floor / 100' "$results") s; req/s per 10 s window: ${rates[*]}"
done

last_s=$(((windows - 1) * 10))
printf '\nCold start of %s at commit %s, %d clients, 1 text per request (%s)\n\n' "$image" "$commit" "$clients" "$(date -u +%FT%TZ)"
printf '| mode | podman run → ready (s) | JVM start → ready (s) | req/s 0-10 s | req/s %d-%d s | ratio | memory idle / after load (MiB) |\n' \
  "$last_s" "$((last_s + 10))"
printf '|---|---|---|---|---|---|---|\n'
jq -r '"| \(.mode) | \(.run_to_ready_s * 100 | round / 100) | \(.start_to_ready_s * 100 | round / 100) | \(.first) | \(.last) | \(.ratio * 100 | round / 100) | \(.idle_mib) / \(.loaded_mib) |"' "$results"
printf '\nreq/s per 10 s window:\n'
jq -r '"  \(.mode): \(.rates | map(tostring) | join(" "))"' "$results"
aot_layer="$(podman history --no-trunc --format '{{.Size}}\t{{.Comment}}' "$image" 2>/dev/null | awk -F'\t' '$2 ~ /aot cache/ {print $1}')"
printf '\nAOT cache layer: %s (uncompressed, podman history)\n' "${aot_layer:-none}"
