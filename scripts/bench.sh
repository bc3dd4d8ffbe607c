#!/usr/bin/env bash
# The benchmark: in-process limit, the service under load (batching on and off), its HTTP ceiling,
# open-loop tail latency, and the Python references, on this machine in one run; renders
# docs/BENCHMARKS.md.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/bench.sh [--quick] [options]

Measures, on this machine, in one run:
  1. in-process TensorFlow Java throughput of the demo model (dev.mlserve.bench.ModelThroughput)
     at batch 1, 32 and 256 from 1 and from 2 calling threads (rows/s, CPU per row); and, for
     comparison, raw SessionFunction calls with TensorFlow's default thread pools and with
     intra-op = inter-op = 1 (2 threads);
  2. the service (its own JVM) under wrk on loopback, one text per request
     (POST /v1/models/imdb-sentiment:predict), at 1, 8, 64 and 256 connections, with batching on
     and off: requests/s, p50/p90/p99 latency, errors, CPU of server/load generator/everything
     else, peak RSS (VmHWM); plus the HTTP ceiling (GET /v2/health/live, 64 connections) and an
     open-loop run (dev.mlserve.bench.OpenLoop: requests sent on a fixed schedule whatever the
     answers, latency from each request's due time) at half the best batching-on rate (p99 at
     half load); 32 texts per request at 64 connections (rows/s against the in-process limit);
     batching on with TensorFlow's default thread pools at 64 connections (the service's default
     is one intra-op and one inter-op thread per call); batching on with platform request threads
     at 64 connections (the service's default is virtual request threads); and batching on with a
     smaller heap cap (--small-heap), for peak RSS;
  3. the Python references, same model, same load: the strongest one first — Flask calling the
     SavedModel's serving_default signature directly (no Keras), TensorFlow pools of one thread
     per worker, gunicorn one worker per core, with sync workers and with threaded workers that
     keep connections alive (-k gthread); then Flask + Keras model.predict per request (how the
     original projects served) and the Keras model called directly;
then renders the tables, ratios and targets into docs/BENCHMARKS.md between its generated
markers (the hand-written Analysis section outside them is kept). Raw results (JSON lines, wrk
and open-loop output, service logs) go to build/bench/raw/ (--quick: build/bench/raw-quick/; gitignored).

Options:
  --quick                 smoke run: 3 s per point, 1 s warm-up (JIT 10 s), 3 s in-process; writes
                          build/bench/BENCHMARKS-quick.md instead of docs/BENCHMARKS.md
  --smoke                 the quickest check that every part runs (--quick, 64 connections only,
                          no smaller-heap series): a few minutes, numbers meaningless
  --seconds N             measured seconds per load point (default 15)
  --warmup N              warm-up seconds before each load point, not recorded (default 3)
  --jit-warmup N          seconds of load at 64 connections after each Java service starts,
                          before its first point: the JIT's warm-up (default 90)
  --inprocess-seconds N   measured seconds per in-process point (default 10; warm-up 3)
  --clients "1 8 64 256"  connection counts for the load points
  --no-build              reuse app/target (skip ./mvnw package)
  --no-flask              skip the Flask reference (no Python needed)
  --no-inprocess          skip the in-process limit
  --small-heap SIZE       also run batching on with -XmxSIZE, for peak RSS against a smaller
                          heap cap (default 256m; none: skip)
  --jfr                   record a JFR profile of each service run into build/bench/raw/
  --profile               after the batching-on points, profile the service for one more run at
                          64 connections with async-profiler (CPU samples every 1 ms, all threads;
                          fetched from Maven Central into build/bench/tools once) and render where
                          its CPU goes (section 5); that run is not a measured point
  --doc PATH              where to render (default docs/BENCHMARKS.md; --quick: build/bench/...)
  -h, --help              this text

Environment: BENCH_PORT (service, default 18080), BENCH_FLASK_PORT (default 18501),
BENCH_JAVA_OPTS (default "-XX:+UseG1GC -Xms64m -Xmx512m -Xss2m"), PIP_INDEX_URL (else a local
file:// index from pip's configuration when one exists), PYTHON (default python3).
Needs: java, wrk, curl, /usr/bin/time, python3 (+ venv module for the Flask reference):
  apt-get install -y wrk curl time python3-venv
A full run takes about 20 minutes on 2 cores; --quick about 7; --smoke about 4. Run the full one
on a quiet machine (nothing else busy): the tables show how much other work disturbed each point.
USAGE
}

quick=false
seconds=15
warmup=3
inproc_seconds=10
inproc_warmup=3
jit_warmup=90
clients="1 8 64 256"
build=true
flask=true
inprocess=true
jfr=false
profile=false
small_heap=256m
doc=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=true; shift ;;
    --smoke) quick=true; clients="64"; small_heap=none; shift ;;
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --warmup) warmup="${2:?--warmup needs a value}"; shift 2 ;;
    --jit-warmup) jit_warmup="${2:?--jit-warmup needs a value}"; shift 2 ;;
    --inprocess-seconds) inproc_seconds="${2:?--inprocess-seconds needs a value}"; shift 2 ;;
    --clients) clients="${2:?--clients needs a value}"; shift 2 ;;
    --no-build) build=false; shift ;;
    --no-flask) flask=false; shift ;;
    --no-inprocess) inprocess=false; shift ;;
    --jfr) jfr=true; shift ;;
    --profile) profile=true; shift ;;
    --small-heap) small_heap="${2:?--small-heap needs a value}"; shift 2 ;;
    --doc) doc="${2:?--doc needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
if $quick; then
  seconds=3 warmup=1 inproc_seconds=3 inproc_warmup=1 jit_warmup=10
  doc="${doc:-build/bench/BENCHMARKS-quick.md}"
fi
doc="${doc:-docs/BENCHMARKS.md}"
for n in "$seconds" "$warmup" "$inproc_seconds" "$jit_warmup"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "durations are whole seconds, got '$n'"
done
((seconds > 0)) || die "--seconds must be at least 1"
for c in $clients; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "--clients takes positive integers, got '$c'"
done
[[ "$small_heap" == none || "$small_heap" =~ ^[0-9]+[mMgG]$ ]] || die "--small-heap takes a size like 256m, or none"

cd "$REPO_ROOT"
python="${PYTHON:-python3}"
port="${BENCH_PORT:-18080}"
flask_port="${BENCH_FLASK_PORT:-18501}"
java_opts="${BENCH_JAVA_OPTS:--XX:+UseG1GC -Xms64m -Xmx512m -Xss2m}"
model_name="imdb-sentiment"
model_dir="models/$model_name/1"
out="build/bench"
raw="$out/raw"
if $quick; then raw="$out/raw-quick"; fi # a smoke run never overwrites a full run's results
venv="$out/venv"
texts="scripts/bench/texts.txt"
lib="scripts/bench/benchlib.py"
results="$raw/results.jsonl"

# ---- tools
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed. $2"; }
need java "Install a JDK 17 or newer."
need wrk "apt-get install -y wrk"
need curl "apt-get install -y curl"
need "$python" "apt-get install -y python3 (or set PYTHON)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (it measures the load generator's CPU): apt-get install -y time"
if $flask; then
  "$python" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$python has no venv/ensurepip module (apt-get install -y python3-venv), or pass --no-flask"
fi
[[ -f "$model_dir/saved_model.pb" ]] || die "no model at $model_dir"
port_free() { ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; }
port_free "$port" || die "port $port is in use (set BENCH_PORT)"
if $flask; then port_free "$flask_port" || die "port $flask_port is in use (set BENCH_FLASK_PORT)"; fi

# ---- processes we start; every one is stopped on exit, whatever happens
server_pid=""
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

started=$SECONDS
rm -rf "$raw"
mkdir -p "$raw" "$(dirname "$doc")"
"$python" "$lib" meta "$raw/meta.json" start \
  quick="$quick" seconds="$seconds" warmup="$warmup" jit_warmup="$jit_warmup" \
  inprocess_seconds="$inproc_seconds" \
  inprocess_warmup="$inproc_warmup" clients="$clients" java_opts="$java_opts" venv="$venv"

# ---- build
if $build; then
  log "building the service (./mvnw -o -pl app -DskipTests package)"
  ./mvnw -q -B -o -pl app -DskipTests package ||
    die "the build failed (offline: run ./mvnw -pl app -DskipTests package once with network access)"
fi
[[ -d app/target/classes/dev/mlserve && -f app/target/test-classes/dev/mlserve/bench/ModelThroughput.class ]] ||
  die "app/target has no compiled classes: run without --no-build"

# ---- async-profiler (--profile): the native library from its Maven Central jar, fetched once
profiler=""
if $profile; then
  case "$(uname -sm)" in
    "Linux x86_64") profiler_platform=linux-x64 ;;
    "Linux aarch64") profiler_platform=linux-arm64 ;;
    *) die "--profile: async-profiler has no build for $(uname -sm)" ;;
  esac
  profiler_version=4.1
  profiler="$REPO_ROOT/$out/tools/async-profiler-$profiler_version/libasyncProfiler.so"
  if [[ ! -f "$profiler" ]]; then
    log "fetching async-profiler $profiler_version ($profiler_platform) from Maven Central"
    ./mvnw -q -B dependency:copy \
      -Dartifact="tools.profiler:async-profiler:$profiler_version:jar:$profiler_platform" \
      -DoutputDirectory="$out/tools" ||
      die "--profile: could not fetch tools.profiler:async-profiler:$profiler_version (network?)"
    "$python" - "$out/tools/async-profiler-$profiler_version-$profiler_platform.jar" "$profiler" <<'PY'
import os, sys, zipfile
jar, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as z:
    name = next(n for n in z.namelist() if n.endswith("/libasyncProfiler.so"))
    data = z.read(name)
os.makedirs(os.path.dirname(dest), exist_ok=True)
with open(dest, "wb") as f:
    f.write(data)
PY
  fi
fi
./mvnw -q -B -o -pl app dependency:build-classpath -Dmdep.outputFile="$REPO_ROOT/$raw/classpath.txt" >/dev/null ||
  die "could not resolve the runtime classpath (./mvnw dependency:build-classpath)"
deps="$(cat "$raw/classpath.txt")"
jvm=(java --enable-native-access=ALL-UNNAMED)
read -r -a extra_opts <<<"$java_opts"
jvm+=("${extra_opts[@]}" "-Dorg.bytedeco.javacpp.cachedir=$HOME/.javacpp/cache")
# the open-loop generator: a small JVM of its own, no TensorFlow on its path
loadgen_jvm=(java -XX:+UseSerialGC -Xmx256m -cp app/target/test-classes)

# ---- Flask virtualenv (reused while scripts/bench/requirements.txt is unchanged)
if $flask; then
  stamp="$venv/.requirements.sha256"
  want="$(sha256sum scripts/bench/requirements.txt | cut -d' ' -f1)"
  if [[ ! -x "$venv/bin/gunicorn" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    if [[ -z "${PIP_INDEX_URL:-}" ]]; then
      while read -r url; do
        if [[ -d "${url#file://}" ]]; then export PIP_INDEX_URL="$url"; break; fi
      done < <("$python" -m pip config list 2>/dev/null | grep -o "file://[^' \"]*" || true)
    fi
    log "installing the Flask reference into $venv (index: ${PIP_INDEX_URL:-pip default})"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    mkdir -p "$out"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/bench/requirements.txt \
      >"$out/pip.log" 2>&1 ||
      { tail -n 20 "$out/pip.log" >&2; die "pip could not install scripts/bench/requirements.txt (set PIP_INDEX_URL to a reachable index; log: $out/pip.log)"; }
    echo "$want" >"$stamp"
  fi
fi

# ---- 1. in-process limit
if $inprocess; then
  log "1. in-process limit: ${inproc_seconds} s per point after ${inproc_warmup} s"
  TF_CPP_MIN_LOG_LEVEL=1 "${jvm[@]}" -cp "app/target/test-classes:app/target/classes:$deps" \
    dev.mlserve.bench.ModelThroughput --model-dir "$model_dir" --texts "$texts" \
    --batches 1,32,256 --threads 1,2 --seconds "$inproc_seconds" --warmup "$inproc_warmup" \
    --tf-threads 0,0/1,1 --out "$raw/inprocess.json" >"$raw/inprocess.log" 2>&1 ||
    { tail -n 20 "$raw/inprocess.log" >&2; die "the in-process benchmark failed ($raw/inprocess.log)"; }
  grep -E 'rows/s|^loaded' "$raw/inprocess.log" | sed 's/^/  /' >&2
fi

wait_ready() { # URL NAME TIMEOUT_S
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true)" == 200 ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || die "$2 exited before it was ready (see $raw/$2.log)"
    sleep 0.2
  done
  die "$2 was not ready after $3 s (see $raw/$2.log)"
}

metrics_url="" # the Java service's /metrics while it runs: mean batch size per point
snap() { "$python" "$lib" snap "$server_pid" ${metrics_url:+"$metrics_url"}; }
# quiesce: wait (up to 60 s) until the server is idle, so a point never pays for the previous one's
# backlog (gunicorn's sync workers still answer requests whose clients have already gone)
quiesce() { "$python" "$lib" idle "$server_pid" 60 || log "  (server still busy after 60 s; measuring anyway)"; }

# run_wrk NAME SERVER ENDPOINT CLIENTS URL [ROWS]: warm-up, then one measured wrk run -> results.jsonl
run_wrk() {
  local name="$1" server="$2" endpoint="$3" c="$4" url="$5" rows="${6:-1}" threads before after get=0
  threads=$((c < $(nproc) ? c : $(nproc)))
  [[ "$endpoint" == predict ]] || get=1
  if ((warmup > 0)); then
    BENCH_TEXTS="$texts" BENCH_ROWS="$rows" BENCH_GET="$get" wrk -t"$threads" -c"$c" -d"${warmup}s" --timeout 10s \
      -s scripts/bench/post.lua "$url" >/dev/null
  fi
  quiesce
  before="$(snap)"
  BENCH_TEXTS="$texts" BENCH_ROWS="$rows" BENCH_GET="$get" BENCH_OUT="$raw/$name.json" \
    /usr/bin/time -f '%e %U %S' -o "$raw/$name.time" \
    wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 10s --latency -s scripts/bench/post.lua "$url" \
    >"$raw/$name.txt"
  after="$(snap)"
  "$python" "$lib" point --results "$results" --name "$name" --server "$server" \
    --endpoint "$endpoint" --kind wrk --clients "$c" --rows "$rows" --result "$raw/$name.json" \
    --time "$raw/$name.time" --before "$before" --after "$after"
}

# run_open_loop NAME SERVER RATE URL: requests on a fixed schedule at RATE req/s, whatever the
# answers (dev.mlserve.bench.OpenLoop); latency counts from each request's due time
run_open_loop() {
  local name="$1" server="$2" rate="$3" url="$4" before after
  local body="$raw/body.json"
  printf '{"instances": ["%s"]}\n' "$(head -n 1 "$texts")" >"$body"
  quiesce
  before="$(snap)"
  /usr/bin/time -f '%e %U %S' -o "$raw/$name.time" \
    "${loadgen_jvm[@]}" dev.mlserve.bench.OpenLoop --url "$url" --body "$body" --rate "$rate" \
    --seconds "$seconds" --warmup "$warmup" --out "$raw/$name.json" >"$raw/$name.txt"
  after="$(snap)"
  "$python" "$lib" point --results "$results" --name "$name" --server "$server" \
    --endpoint predict --kind openloop --clients 0 --target-rate "$rate" --result "$raw/$name.json" \
    --time "$raw/$name.time" --before "$before" --after "$after"
}

predict_url() { echo "http://127.0.0.1:$1/v1/models/$model_name:predict"; }

# profile_service NAME: one more run at 64 connections with async-profiler in the server (not a
# measured point: sampling costs a little CPU); collapsed stacks and a summary go to raw/
profile_service() {
  local name="$1" collapsed="$REPO_ROOT/$raw/profile-$1.collapsed"
  log "  profiling $name: 64 connections for ${seconds} s with async-profiler (itimer, 1 ms)"
  quiesce
  "${loadgen_jvm[@]}" dev.mlserve.bench.AttachAgent "$server_pid" "$profiler" \
    "start,event=itimer,interval=1ms" || die "could not start async-profiler in the service"
  BENCH_TEXTS="$texts" wrk -t"$(nproc)" -c64 -d"${seconds}s" -s scripts/bench/post.lua \
    "$(predict_url "$port")" >/dev/null
  "${loadgen_jvm[@]}" dev.mlserve.bench.AttachAgent "$server_pid" "$profiler" \
    "stop,file=$collapsed,collapsed" || die "could not stop async-profiler in the service"
  "$python" "$lib" profile "$collapsed" "$raw/profile.json"
}

# ---- 2. the service, batching on and off
java_series() { # on|off|tf-default|platform|small-heap
  local mode="$1" name="java-batch-$1" enabled=true c points="$clients" tf_intra=1 tf_inter=1
  local opts=() vthreads=true
  case "$mode" in
    off) enabled=false ;;
    platform)
      # request threads as before virtual threads became the default: 64 only
      name="java-batch-on-platform" vthreads=false points=64
      ;;
    tf-default)
      # TensorFlow's own pools (one thread per core each) against the default of one: 64 only
      name="java-batch-on-tfdefault" tf_intra=0 tf_inter=0 points=64
      ;;
    small-heap)
      # the same service with a smaller heap cap (a later -Xmx wins): peak RSS against throughput.
      # All the points, not only the big ones: the JIT needs them as warm-up to compare fairly.
      name="java-batch-on-xmx$small_heap"
      opts+=("-Xmx$small_heap")
      ;;
  esac
  if $jfr; then
    opts+=("-XX:StartFlightRecording=filename=$raw/$name.jfr,settings=profile,dumponexit=true")
  fi
  log "2. service, $name (port $port)"
  PORT="$port" MODEL_BASE_PATH=models LOG_FORMAT=json TF_CPP_MIN_LOG_LEVEL=1 \
    BATCH_ENABLED="$enabled" TF_INTRA_OP_THREADS="$tf_intra" TF_INTER_OP_THREADS="$tf_inter" \
    HTTP_VIRTUAL_THREADS="$vthreads" \
    "${jvm[@]}" "${opts[@]}" -cp "app/target/classes:$deps" dev.mlserve.Main \
    >"$raw/$name.log" 2>&1 &
  server_pid=$!
  wait_ready "http://127.0.0.1:$port/v2/health/ready" "$name" 180
  if [[ "$mode" == on ]]; then
    "$python" "$lib" scores "$(predict_url "$port")" "$texts" "$raw/scores-java.json"
  fi
  # one long warm-up first: under load on 2 cores, C2 compiles the request path for well over
  # 40 s (throughput at 64 connections climbs from ~4k to ~13k req/s meanwhile; a profile at
  # 40-55 s still spent 21 % of the CPU in the JIT, at 90-110 s 5 %)
  if ((jit_warmup > 0)); then
    BENCH_TEXTS="$texts" wrk -t"$(nproc)" -c64 -d"${jit_warmup}s" -s scripts/bench/post.lua \
      "$(predict_url "$port")" >/dev/null
  fi
  metrics_url="http://127.0.0.1:$port/metrics"
  for c in $points; do
    run_wrk "$name-c$c" "$name" predict "$c" "$(predict_url "$port")"
  done
  if [[ "$mode" == on ]]; then
    run_wrk "java-live-c64" "$name" live 64 "http://127.0.0.1:$port/v2/health/live"
    # many rows per request: how close the service gets to the in-process limit when HTTP is not
    # paid once per row (the batcher merges 8 such requests into one batch of 256)
    run_wrk "$name-rows32-c64" "$name" predict 64 "$(predict_url "$port")" 32
    local best half
    best="$("$python" "$lib" rate "$results" "$name")"
    half=$((best / 2))
    if ((half > 0)); then
      run_open_loop "$name-half-load" "$name" "$half" "$(predict_url "$port")"
    fi
    # last: the profiler's own memory (~400 MB of symbols and traces) would count in the peak RSS
    # of any point after it
    if $profile; then
      profile_service "$name"
    fi
  fi
  metrics_url=""
  stop_server
}
java_series on
java_series off
java_series tf-default
java_series platform
[[ "$small_heap" == none ]] || java_series small-heap

# ---- 3. the Flask reference
flask_series() { # predict|call|signature|signature-gthread
  local mode="$1" name="flask-$1" c workers=()
  if [[ "$mode" == signature-gthread ]]; then
    # threaded workers keep connections alive (sync workers close after each answer)
    mode=signature
    workers=(-k gthread --threads 4 --keep-alive 30)
  fi
  log "3. Flask reference, MODE=$mode, gunicorn -w $(nproc) ${workers[*]} (port $flask_port)"
  MODE="$mode" MODEL_DIR="$REPO_ROOT/$model_dir" MODEL_NAME="$model_name" TF_CPP_MIN_LOG_LEVEL=1 \
    TF_INTRA_OP_THREADS=1 TF_INTER_OP_THREADS=1 \
    "$venv/bin/gunicorn" -w "$(nproc)" "${workers[@]}" -b "127.0.0.1:$flask_port" --graceful-timeout 5 \
    --chdir scripts/bench flask_app:app >"$raw/$name.log" 2>&1 &
  server_pid=$!
  wait_ready "http://127.0.0.1:$flask_port/v2/health/ready" "$name" 180
  # the master answers as soon as one worker has loaded the model: wait for all of them
  "$python" "$lib" workers "http://127.0.0.1:$flask_port/v2/health/ready" "$(nproc)" 120 ||
    die "not every gunicorn worker of $name came up (see $raw/$name.log)"
  "$python" "$lib" scores "$(predict_url "$flask_port")" "$texts" "$raw/scores-$name.json"
  if [[ -f "$raw/scores-java.json" ]]; then
    "$python" "$lib" compare "$raw/scores-java.json" "$raw/scores-$name.json" 1e-5 ||
      die "$name scores differ from the Java service's by more than 1e-5"
  fi
  for c in $clients; do
    run_wrk "$name-c$c" "$name" predict "$c" "$(predict_url "$flask_port")"
  done
  stop_server
}
if $flask; then
  flask_series signature
  flask_series signature-gthread
  flask_series predict
  flask_series call
fi

# ---- 4. render
"$python" "$lib" meta "$raw/meta.json" end duration_s="$((SECONDS - started))" \
  python_venv="$venv" doc="$doc"
"$python" scripts/bench/render.py --raw "$raw" --doc "$doc"
log "bench: done in $((SECONDS - started)) s; raw results in $raw, report in $doc"
