# shellcheck shell=bash
# shellcheck disable=SC2034 # AOT_MAVEN_ARGS is set here for the caller to read
# The image's JVM AOT cache (JEP 483 class loading and linking, JEP 514 one-step recording, JEP 515
# method profiles). Source after common.sh. One function does the whole job for every image build
# (scripts/lib/image.sh for deploys and CI, scripts/test-image.sh):
#
#   aot_prepare OUT_DIR MAVEN_ARGS...
#
# 1. Jib builds the image without a cache into OUT_DIR/image.tar (jib:buildTar; nothing pushed),
#    with the caller's Maven arguments (base image, registry settings), so the classpath and the
#    JVM are exactly those of the image about to be pushed;
# 2. podman (or docker) loads it and runs it once as `aot-training` with a read-only root,
#    JDK_JAVA_OPTIONS=-XX:AOTCacheOutput=... and the training models mounted read-only: the
#    service starts on those models, serves a request mix through both APIs, stops, exits 0, and
#    the image's own `java` writes OUT_DIR/app.aot;
# 3. sets AOT_MAVEN_ARGS=(-Paot-cache -Daot.cache.dir=OUT_DIR) for the caller's real Jib build,
#    which adds the cache as a layer (/app/aot/app.aot) and -XX:AOTCache to the entrypoint.
#
# Settings (environment):
#   AOT_CACHE             auto (default): record when a container runtime can run the image, else
#                         warn and build without a cache; required: fail instead; off: no cache
#   AOT_MODEL_BASE_PATH   models folder (<model>/<version>/) for the training run; default the
#                         bundled models/. Use the models the service will serve, or any with the
#                         same kind of signatures: the cache holds the code paths, not the model.
#   AOT_TRAINING_SECONDS  how long the training run sends requests (default 20)
#   CONTAINER_RUNTIME     podman or docker (default: whichever is installed and works, podman first)
# After a call, AOT_MAVEN_ARGS is empty when no cache was made (AOT_CACHE=auto or off).

AOT_MAVEN_ARGS=()

# aot_container_runtime: prints podman or docker, whichever can run containers here.
aot_container_runtime() {
  local rt
  for rt in ${CONTAINER_RUNTIME:-podman docker}; do
    if command -v "$rt" >/dev/null 2>&1 && "$rt" info >/dev/null 2>&1; then
      printf '%s\n' "$rt"
      return 0
    fi
  done
  return 1
}

# aot_prepare OUT_DIR MAVEN_ARGS...: see the top of this file.
aot_prepare() {
  local out="$1"
  shift
  local mode="${AOT_CACHE:-auto}" models="${AOT_MODEL_BASE_PATH:-$REPO_ROOT/models}"
  local seconds="${AOT_TRAINING_SECONDS:-20}" rt
  AOT_MAVEN_ARGS=()
  case "$mode" in
    off) log "AOT cache: off (AOT_CACHE=off)"; return 0 ;;
    auto | required) ;;
    *) die "AOT_CACHE must be auto, required or off, got '$mode'" ;;
  esac
  [[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 ]] || die "AOT_TRAINING_SECONDS must be a whole number >= 1"
  if ! rt="$(aot_container_runtime)"; then
    [[ "$mode" != required ]] || die "AOT_CACHE=required but neither podman nor docker can run containers here"
    log "WARNING: no container runtime (podman/docker) works here: building the image WITHOUT an AOT cache" \
      "(it starts and serves, but runs below full speed for its first ~40 s). Set AOT_CACHE=required to fail instead."
    return 0
  fi
  [[ -d "$models" ]] || die "AOT_MODEL_BASE_PATH '$models' is not a folder of models"
  models="$(cd "$models" && pwd)"
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  rm -f "$out/app.aot" "$out/app.aot.config" "$out/image.tar"

  local started=$SECONDS
  log "AOT cache: building the image without a cache (jib:buildTar)"
  if ! (cd "$REPO_ROOT" && ./mvnw -B -q -pl app jib:buildTar "$@" \
    -Dimage.repository=ml-serve-ecs-aot-training -Dimage.tag=latest \
    "-Djib.outputPaths.tar=$out/image.tar") >"$out/jib.log" 2>&1; then
    tail -n 30 "$out/jib.log" >&2
    die "Jib could not build the image for the AOT training run; full log: $out/jib.log"
  fi
  local loaded image
  loaded="$("$rt" load -i "$out/image.tar" 2>&1)" || die "$rt load failed: $loaded"
  rm -f "$out/image.tar"
  image="$(sed -n 's/^Loaded image[^:]*: *//p' <<<"$loaded" | tail -n 1)"
  [[ -n "$image" ]] || die "cannot tell which image '$rt load' loaded: $loaded"

  # The image runs as a non-root uid: let it write the cache into the mounted folder.
  chmod 0777 "$out"
  local run_args=(--rm --read-only -v "$models:/aot/models:ro" -v "$out:/aot/out"
    -e MODEL_BASE_PATH=/aot/models -e MODEL_POLL_SECONDS=0
    -e JDK_JAVA_OPTIONS=-XX:AOTCacheOutput=/aot/out/app.aot)
  # podman mounts tmpfs on /tmp and /run under --read-only unless told not to; Fargate does not.
  [[ "$rt" != podman ]] || run_args+=(--read-only-tmpfs=false)
  log "AOT cache: training run of $image with $rt (models from $models, ${seconds} s of requests)"
  if ! timeout 900 "$rt" run "${run_args[@]}" "$image" aot-training --seconds "$seconds" \
    >"$out/training.log" 2>&1; then
    tail -n 30 "$out/training.log" >&2
    die "the AOT training run failed; full log: $out/training.log"
  fi
  [[ -s "$out/app.aot" ]] || die "the training run wrote no $out/app.aot; see $out/training.log"
  log "AOT cache: $(du -m "$out/app.aot" | cut -f1) MiB recorded in $((SECONDS - started)) s" \
    "($(grep -o 'aot-training: [^"]*' "$out/training.log" | tail -n 1))"
  AOT_MAVEN_ARGS=(-Paot-cache "-Daot.cache.dir=$out")
}
