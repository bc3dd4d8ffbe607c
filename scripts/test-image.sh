#!/usr/bin/env bash
# Image test: builds the service image with Jib into a registry on loopback, inspects it with
# skopeo, then starts the demo-model variant under podman (read-only root) and calls it.
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/aot.sh
source "$REPO_ROOT/scripts/lib/aot.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/test-image.sh [--no-run]

Builds both image variants with Jib into a throwaway docker-registry on 127.0.0.1 (on top of a
local stand-in base image, scripts/build-base-image.sh, since public registries may be out of
reach), with the JVM AOT cache recorded by a training run of the image itself (scripts/lib/aot.sh,
the same step a deploy runs), inspects them with skopeo (user, entrypoint and JVM flags, port,
env, labels, tags, layers and what is in them), then runs the demo-model variant under podman
with a read-only root and checks readiness, that the JVM used the AOT cache, predict, the
in-image health check, heap sizing and shutdown, and that a mismatched cache still starts.

  --no-run     inspect only; do not start the image
  -h, --help   this text

Everything it writes stays under build/image-test/ (registry, podman storage, base image, caches).
Run by `./mvnw verify` in the integration-test phase (skip with -DskipImageTest or -DskipTests).
Missing tools: prints SKIP and exits 0, except with CI=true, where it fails.
Environment: IMAGE_TEST_PACKAGED=true when Maven has already run `package` (set by the pom).
Ends with "image: N passed, M failed".
USAGE
}

run_container=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-run) run_container=false; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

for tool in skopeo umoci docker-registry jq curl python3 apt-get dpkg-deb timeout; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip_or_fail "image test needs '$tool' (apt-get install -y skopeo umoci docker-registry jq curl)"
done

started=$SECONDS
work="$REPO_ROOT/build/image-test"
logs="$work/logs"
mkdir -p "$logs"
stage() { printf '[image] %s (%ds)\n' "$1" "$((SECONDS - started))"; }

registry_pid=""
container=""
cleanup() {
  if [[ -n "$container" ]]; then
    podman rm -f -t 0 "$container" >/dev/null 2>&1 || true
  fi
  if [[ -n "$registry_pid" ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- registry on loopback (fresh storage each run: hermetic, and the disk stays bounded) ---
port="$(free_port)"
registry="127.0.0.1:$port"
rm -rf "$work/registry"
mkdir -p "$work/registry/data"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: $registry
EOF
docker-registry serve "$work/registry/config.yml" >"$logs/registry.log" 2>&1 &
registry_pid=$!
wait_for_http "http://$registry/v2/" 20 || die "docker-registry did not start; see $logs/registry.log"
stage "registry up at $registry"

# --- base image ---
base_digest="$(timeout 600 "$REPO_ROOT/scripts/build-base-image.sh" \
  --push "docker://$registry/ml-serve-base:local" 2>"$logs/base.log")" ||
  die "base image build failed: $(tail -n 20 "$logs/base.log")"
base_ref="$registry/ml-serve-base@$base_digest"
stage "base image $base_ref"

# --- podman (the AOT training run and the run checks), kept inside the build folder: storage, a
# containers.conf with ulimits podman accepts here, and the loopback registry marked insecure ---
pod="$work/podman"
mkdir -p "$pod"
cat >"$pod/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
# No systemd in build containers (CI runs this in a privileged Debian container).
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$pod/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$pod/storage"
runroot = "$pod/run"
EOF
cat >"$pod/registries.conf" <<EOF
unqualified-search-registries = []
[[registry]]
location = "$registry"
insecure = true
EOF
export CONTAINERS_CONF="$pod/containers.conf" CONTAINERS_STORAGE_CONF="$pod/storage.conf" \
  CONTAINERS_REGISTRIES_CONF="$pod/registries.conf"
podman_ok=false
podman_reason=""
if ! command -v podman >/dev/null 2>&1; then
  podman_reason="podman not installed: apt-get install -y podman uidmap slirp4netns fuse-overlayfs"
elif ! podman info >"$logs/podman-info.log" 2>&1; then
  podman_reason="podman cannot run here: $(tail -n 1 "$logs/podman-info.log")"
else
  podman_ok=true
fi
[[ "$podman_ok" == true || "${CI:-}" != "true" ]] || die "$podman_reason (CI=true: the image test must run the image)"

# --- Jib builds: the default (S3) image and the demo-model variant ---
commit="$(git -C "$REPO_ROOT" rev-parse --verify -q HEAD 2>/dev/null)" || commit="$(printf '%040d' 0)"
repo="$registry/ml-serve-ecs"
source_url="https://example.invalid/ml-serve-ecs"
mvn_args=(-B -pl app
  "-Dimage.base=$base_ref" "-Dimage.repository=$repo" "-Dgit.commit=$commit"
  "-Dimage.source=$source_url"
  -Djib.allowInsecureRegistries=true "-Djib.baseImageCache=$work/jib-base-cache" -Djib.console=plain)
[[ -z "${MAVEN_REPO_LOCAL:-}" ]] || mvn_args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
if [[ "${IMAGE_TEST_PACKAGED:-}" != "true" ]]; then
  (cd "$REPO_ROOT" && timeout 900 ./mvnw "${mvn_args[@]}" package -DskipTests) >"$logs/package.log" 2>&1 ||
    die "mvn package failed; see $logs/package.log"
fi

jib_build() { # jib_build LOGNAME EXTRA-ARGS...
  local name="$1"
  shift
  if ! (cd "$REPO_ROOT" && timeout 600 ./mvnw "${mvn_args[@]}" "$@") >"$logs/$name.log" 2>&1; then
    tail -n 40 "$logs/$name.log" >&2
    die "Jib build '$name' failed; full log: $logs/$name.log"
  fi
}
# The AOT cache: required wherever podman runs (always on CI); without podman the images are
# built and inspected without one.
aot_built=false
if [[ "$podman_ok" == true ]]; then
  AOT_CACHE=required AOT_TRAINING_SECONDS="${AOT_TRAINING_SECONDS:-10}" aot_prepare "$work/aot-cache" "${mvn_args[@]}"
  aot_built=true
  stage "AOT cache recorded ($(du -m "$work/aot-cache/app.aot" | cut -f1) MiB)"
else
  printf 'SKIP: AOT cache (%s)\n' "$podman_reason"
fi
jib_build jib-default jib:build "${AOT_MAVEN_ARGS[@]}"
stage "built $repo:$commit"

demo_model="$REPO_ROOT/models/imdb-sentiment/1/saved_model.pb"
demo_built=false
if [[ -f "$demo_model" ]]; then
  jib_build jib-demo jib:build -Pdemo-model-image "${AOT_MAVEN_ARGS[@]}"
  demo_built=true
  stage "built $repo:$commit-demo"
else
  [[ "${CI:-}" != "true" ]] || die "demo model missing: $demo_model"
  printf 'SKIP: demo-model variant (no %s yet)\n' "${demo_model#"$REPO_ROOT/"}"
fi

# --- inspection ---
sk() { skopeo "$@" --tls-verify=false; }
# json_is FILE JQ-EXPR: passes when the jq expression is true for FILE.
json_is() { jq -e "$2" "$1" >/dev/null; }

inspect_image() { # inspect_image TAG VARIANT
  local tag="$1" variant="$2" dir="$work/inspect/$2"
  rm -rf "$dir"
  mkdir -p "$dir"
  sk inspect --config "docker://$repo:$tag" >"$dir/config.json"
  sk inspect --raw "docker://$repo:$tag" >"$dir/manifest.json"
  local c="$dir/config.json" m="$dir/manifest.json" label_variant=s3
  [[ "$variant" != demo ]] || label_variant=demo

  printf '%s image (%s):\n' "$variant" "$tag"
  check "$variant: runs as non-root 65532:65532" json_is "$c" '.config.User == "65532:65532"'
  check "$variant: port 8080/tcp exposed" json_is "$c" '.config.ExposedPorts | has("8080/tcp")'
  check "$variant: working dir /app" json_is "$c" '.config.WorkingDir == "/app"'
  check "$variant: entrypoint runs java ... dev.mlserve.Main" json_is "$c" \
    '.config.Entrypoint[0] == "java" and .config.Entrypoint[-1] == "dev.mlserve.Main"'
  local flag
  for flag in -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError --enable-native-access=ALL-UNNAMED \
    -Djava.library.path=/app/native -Dsun.misc.unsafe.memory.access=allow; do
    check "$variant: JVM flag $flag" json_is "$c" ".config.Entrypoint | index([\"$flag\"]) != null"
  done
  check "$variant: env PORT=8080, LOG_FORMAT=json, TF_CPP_MIN_LOG_LEVEL=1" json_is "$c" \
    '.config.Env as $e | all(("PORT=8080", "LOG_FORMAT=json", "TF_CPP_MIN_LOG_LEVEL=1"); . as $v | $e | index([$v]) != null)'
  if [[ "$variant" == demo ]]; then
    check "demo: env MODEL_BASE_PATH=/app/models" json_is "$c" '.config.Env | index(["MODEL_BASE_PATH=/app/models"]) != null'
  else
    check "default: no baked-in MODEL_BASE_PATH (set by the task definition)" json_is "$c" \
      '[.config.Env[] | select(startswith("MODEL_BASE_PATH="))] | length == 0'
  fi
  check "$variant: label revision = commit" json_is "$c" ".config.Labels[\"org.opencontainers.image.revision\"] == \"$commit\""
  check "$variant: labels source, version, base, variant" json_is "$c" \
    ".config.Labels as \$l | \$l[\"org.opencontainers.image.source\"] == \"$source_url\"
     and (\$l[\"org.opencontainers.image.version\"] | length > 0)
     and \$l[\"org.opencontainers.image.base.name\"] == \"$base_ref\"
     and \$l[\"dev.mlserve.model-variant\"] == \"$label_variant\""

  # Layers: pair each manifest layer with its history entry (Jib names them in the comment).
  jq -r '[.history[] | select(.empty_layer != true) | {name: (.comment // .created_by // "base"), jib: (.author == "Jib")}]' \
    "$c" >"$dir/names.json"
  jq -r --slurpfile names "$dir/names.json" \
    '[.layers | to_entries[] | $names[0][.key] + {digest: .value.digest, size: .value.size}]' "$m" >"$dir/layers.json"
  check "$variant: every layer has a history entry" json_is "$dir/layers.json" 'all(.[]; .name != null)'
  # Jib's packaged mode puts app.jar in a layer it calls "extra files".
  local expected='["dependencies","extra files","jvm arg files","tensorflow natives"'
  [[ "$variant" != demo ]] || expected+=',"demo model"'
  [[ "$aot_built" != true ]] || expected+=',"aot cache"'
  expected+=']'
  check "$variant: Jib layers $(jq -c . <<<"$expected")" json_is "$dir/layers.json" \
    "[.[] | select(.jib) | .name] == $expected"

  list_layer() { # list_layer NAME: file list of the layer called NAME
    local digest
    digest="$(jq -r --arg n "$1" '.[] | select(.name == $n) | .digest' "$dir/layers.json")"
    [[ -n "$digest" ]] || return 1
    curl -fsS "http://$registry/v2/ml-serve-ecs/blobs/$digest" | tar --warning=no-unknown-keyword -tzf - | sed 's#^\./##; s#^/##'
  }
  list_layer dependencies >"$dir/dependencies.txt"
  list_layer "extra files" >"$dir/jar.txt"
  list_layer "tensorflow natives" >"$dir/natives.txt"
  check "$variant: TF natives unpacked in /app/native" grep -qx 'app/native/libtensorflow_cc.so.2' "$dir/natives.txt"
  check "$variant: all three TF .so files present, with TF's LICENSE" bash -c \
    "[[ \$(grep -c '^app/native/lib.*\.so' '$dir/natives.txt') -eq 3 ]] && grep -qx 'app/native/LICENSE' '$dir/natives.txt'"
  check "$variant: native jar kept out of /app/libs" bash -c "! grep -q 'tensorflow-core-native-.*-linux-x86_64.*\.jar' '$dir/dependencies.txt'"
  check "$variant: TF API jars in /app/libs" grep -q '^app/libs/tensorflow-core-api-' "$dir/dependencies.txt"
  check "$variant: the app is one jar, /app/classpath/app.jar (a fixed classpath of jars for the AOT cache)" \
    grep -qx 'app/classpath/app.jar' "$dir/jar.txt"
  if [[ "$aot_built" == true ]]; then
    check "$variant: entrypoint uses the AOT cache (-XX:AOTCache=/app/aot/app.aot)" json_is "$c" \
      '.config.Entrypoint | index(["-XX:AOTCache=/app/aot/app.aot"]) != null'
    list_layer "aot cache" >"$dir/aot.txt"
    check "$variant: AOT cache layer holds /app/aot/app.aot only" bash -c "[[ \"\$(cat '$dir/aot.txt' | grep -v '/$')\" == app/aot/app.aot ]]"
  fi
  if [[ "$variant" == demo ]]; then
    list_layer "demo model" >"$dir/model.txt"
    check "demo: model baked in at /app/models/imdb-sentiment/1" grep -qx 'app/models/imdb-sentiment/1/saved_model.pb' "$dir/model.txt"
  fi
  jq -r '.[] | "    layer \(.size / 1048576 * 10 | floor / 10) MiB  \(.name)"' "$dir/layers.json"
  jq -r '"    total \(map(.size) | add / 1048576 | floor) MiB compressed in \(length) layers"' "$dir/layers.json"
}

inspect_image "$commit" default
[[ "$demo_built" != true ]] || inspect_image "$commit-demo" demo

sk list-tags "docker://$repo" >"$work/inspect/tags.json"
check "tags are the commit SHA only (no latest)" json_is "$work/inspect/tags.json" \
  "[.Tags[] | select(. != \"$commit\" and . != \"$commit-demo\")] | length == 0"
stage "inspected"

# --- run the demo variant under podman ---
if [[ "$run_container" != true ]]; then
  summary image
  exit
fi
if [[ "$demo_built" != true ]]; then
  printf 'SKIP: running the image (no demo-model variant to run)\n'
  summary image
  exit
fi
if [[ "$podman_ok" != true ]]; then
  printf 'SKIP: running the image (%s)\n' "$podman_reason"
  summary image
  exit
fi

# Leftovers of an interrupted run.
podman ps -a --format '{{.Names}}' | grep '^mlserve-image-test-' | xargs -r podman rm -f -t 0 >/dev/null 2>&1 || true

image="$repo:$commit-demo"
local_name="localhost/ml-serve-image-test:demo"
timeout 300 podman pull -q "$image" >"$logs/podman-pull.log" 2>&1 || die "podman pull failed: $(cat "$logs/podman-pull.log")"
# Keep layers cached between runs under one stable name; drop the registry-named tag and old images.
podman tag "$image" "$local_name"
podman rmi "$image" >/dev/null
podman image prune -f >/dev/null 2>&1 || true
stage "pulled into podman"

host_port="$(free_port)"
container="mlserve-image-test-$$"
memory_args=()
memory_limited=false
if podman info --format '{{.Host.CgroupControllers}}' | grep -qw memory; then
  memory_args=(--memory 1g)
  memory_limited=true
fi
# --read-only without podman's default tmpfs mounts: like Fargate with readonlyRootFilesystem,
# nothing in the image may need a writable path. -XshowSettings:vm prints the heap the JVM chose;
# -XX:AOTMode=on makes the JVM refuse to start unless it can use the image's AOT cache, and
# -Xlog:aot says so in the log.
java_options=-XshowSettings:vm
[[ "$aot_built" != true ]] || java_options+=" -XX:AOTMode=on -Xlog:aot=info"
run_args=(-d --name "$container" --read-only --read-only-tmpfs=false
  -e "JDK_JAVA_OPTIONS=$java_options" -p "127.0.0.1:$host_port:8080")
launched=$SECONDS
if ! podman run "${run_args[@]}" "${memory_args[@]}" "$local_name" >/dev/null 2>"$logs/podman-run.log"; then
  # Nested or rootless cgroups may refuse a memory limit: run without it, skip the heap check.
  podman rm -f -t 0 "$container" >/dev/null 2>&1 || true
  [[ "$memory_limited" == true ]] || die "podman run failed: $(cat "$logs/podman-run.log")"
  printf '    note: podman refused --memory (%s); running without a limit\n' "$(tail -n 1 "$logs/podman-run.log")"
  memory_limited=false
  launched=$SECONDS
  podman run "${run_args[@]}" "$local_name" >/dev/null 2>"$logs/podman-run.log" ||
    die "podman run failed: $(cat "$logs/podman-run.log")"
fi
base_url="http://127.0.0.1:$host_port"

# ready_within SECONDS: polls $base_url until ready; fails early when $container stops.
ready_within() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    curl -fsS -o /dev/null --max-time 2 "$base_url/v2/health/ready" 2>/dev/null && return 0
    [[ "$(podman inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" == true ]] || return 1
    sleep 0.5
  done
  return 1
}
ready=false
if ready_within 120; then ready=true; fi
podman logs "$container" >"$logs/container.log" 2>&1 || true
if [[ "$ready" == true ]]; then
  pass "demo: ready in $((SECONDS - launched)) s under --read-only (GET /v2/health/ready)"
else
  fail "demo: ready within 120 s" "$(tail -n 15 "$logs/container.log")"
  summary image
  exit
fi

if [[ "$aot_built" == true ]]; then
  check "demo: the JVM used the AOT cache (started with -XX:AOTMode=on; log: Opened AOT cache, full module graph)" \
    bash -c "grep -q 'Opened AOT cache /app/aot/app.aot' '$logs/container.log' &&
      grep -q 'full module graph: enabled' '$logs/container.log'"
fi
# the image's JVM (Java 25) has virtual threads, and HTTP_VIRTUAL_THREADS is on by default
# (TensorFlow itself stays on platform threads: model.PlatformCalls)
check "demo: HTTP requests run on virtual threads by default (log: requests on virtual threads)" \
  grep -q 'requests on virtual threads' "$logs/container.log"
check "demo: process runs as uid 65532" bash -c \
  "[[ \"\$(podman top '$container' huser user | tail -n +2 | awk '{print \$2}' | sort -u)\" == 65532 ]]"

# The same smoke test a deploy runs against the load balancer.
if "$REPO_ROOT/scripts/smoke.sh" --timeout 30 "$base_url" >"$logs/smoke.log" 2>&1; then
  pass "demo: scripts/smoke.sh passes (ready, live, home, predict, metrics)"
else
  fail "demo: scripts/smoke.sh passes" "$(grep -E 'FAIL|error' "$logs/smoke.log" | head -n 5)"
fi
sed 's/^/    /' "$logs/smoke.log"
check "demo: HealthCheck class inside the image (ECS health check)" \
  podman exec -e JDK_JAVA_OPTIONS= "$container" java -cp /app/classpath/app.jar dev.mlserve.HealthCheck \
  http://127.0.0.1:8080/v2/health/live

podman logs "$container" >"$logs/container.log" 2>&1 || true
if [[ "$memory_limited" == true ]]; then
  # 60 % of 1 GiB is ~614 MiB; the JVM's estimate lands a little below.
  check "demo: heap is ~60% of the container's memory" bash -c \
    "heap=\$(sed -n 's/.*Max. Heap Size (Estimated): \([0-9.]*\)M.*/\1/p' '$logs/container.log' | head -n 1);
     [[ -n \"\$heap\" ]] && awk -v h=\"\$heap\" 'BEGIN { exit !(h > 540 && h < 640) }'"
fi
check "demo: no native-access, JNI or Unsafe warnings from the JVM" bash -c \
  "! grep -Ei 'restricted method|enable-native-access|sun\.misc\.Unsafe' '$logs/container.log'"
check "demo: service logs are JSON lines" bash -c \
  "grep '^{' '$logs/container.log' | head -n 5 | jq -e . >/dev/null && [[ \$(grep -c '^{' '$logs/container.log') -gt 0 ]]"
printf '    log lines: %d JSON, %d other (JVM settings, TensorFlow native warnings)\n' \
  "$(grep -c '^{' "$logs/container.log" || true)" "$(grep -vc '^{' "$logs/container.log" || true)"
mem="$(podman stats --no-stream --format '{{.MemUsage}}' "$container" 2>/dev/null || echo n/a)"
printf '    container memory after the checks: %s\n' "$mem"

stop_started=$SECONDS
podman stop -t 30 "$container" >/dev/null 2>&1 || true
stop_seconds=$((SECONDS - stop_started))
exit_code="$(podman inspect -f '{{.State.ExitCode}}' "$container")"
check "demo: stops on SIGTERM within 20 s (took ${stop_seconds} s, exit $exit_code)" \
  test "$stop_seconds" -lt 20 -a "$exit_code" != 137
podman logs "$container" >"$logs/container.log" 2>&1 || true
podman rm -f "$container" >/dev/null 2>&1 || true
container=""
stage "ran the image"

# --- a mismatched AOT cache: the JVM logs it and starts without ---
# A cache recorded by the image's own JVM under other JVM options (no --enable-native-access, no
# classpath), mounted over the image's own; AOTMode stays at its default (auto).
if [[ "$aot_built" == true ]]; then
  mismatch="$work/aot-mismatch"
  rm -rf "$mismatch"
  mkdir -p "$mismatch"
  chmod 0777 "$mismatch"
  if ! podman run --rm --read-only --read-only-tmpfs=false -v "$mismatch:/aot/out" --entrypoint java \
    "$local_name" -XX:AOTCacheOutput=/aot/out/app.aot -version >"$logs/aot-mismatch-record.log" 2>&1; then
    fail "demo: record a mismatched AOT cache" "$(tail -n 5 "$logs/aot-mismatch-record.log")"
  fi
  host_port="$(free_port)"
  container="mlserve-image-test-mismatch-$$"
  launched=$SECONDS
  podman run -d --name "$container" --read-only --read-only-tmpfs=false \
    -v "$mismatch/app.aot:/app/aot/app.aot:ro" -p "127.0.0.1:$host_port:8080" "$local_name" \
    >/dev/null 2>"$logs/podman-run.log" || die "podman run failed: $(cat "$logs/podman-run.log")"
  base_url="http://127.0.0.1:$host_port"
  ready=false
  if ready_within 120; then ready=true; fi
  podman logs "$container" >"$logs/container-mismatch.log" 2>&1 || true
  if [[ "$ready" == true ]]; then
    pass "demo: starts with a mismatched AOT cache (ready in $((SECONDS - launched)) s)"
  else
    fail "demo: starts with a mismatched AOT cache" "$(tail -n 15 "$logs/container-mismatch.log")"
  fi
  check "demo: the JVM logged the mismatched AOT cache" \
    grep -q 'An error has occurred while processing the AOT cache' "$logs/container-mismatch.log"
  check "demo: predicts the golden score with a mismatched AOT cache" bash -c \
    "curl -fsS --max-time 10 '$base_url/v1/models/imdb-sentiment:predict' -d '{\"instances\": [\"great movie\"]}' |
     jq -e '.predictions[0][0] | . > 0.61933 and . < 0.61943' >/dev/null"
  podman rm -f -t 5 "$container" >/dev/null 2>&1 || true
  container=""
  stage "ran the image with a mismatched AOT cache"
fi

summary image
