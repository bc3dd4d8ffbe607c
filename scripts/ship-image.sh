#!/usr/bin/env bash
# Build once, push once: CI builds and tests the image, keeps it byte for byte; the deploy pushes
# exactly those bytes, so the digest that runs is the digest that was tested.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/image.sh
source "$REPO_ROOT/scripts/lib/image.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/ship-image.sh build --tag SHA --out DIR [--smoke] [--base REF]
       scripts/ship-image.sh push --from DIR [--to REPOSITORY_URL]

build  Jib-builds the service image for commit SHA into a throwaway docker-registry on loopback
       (no Docker daemon), then copies it with `skopeo copy --preserve-digests` into DIR/image
       (skopeo's dir: layout: the manifest and blobs as they are) and writes DIR/digest and DIR/tag.
       --smoke runs that image (docker, else podman) with models/ mounted as MODEL_BASE_PATH,
       read-only root, and runs scripts/smoke.sh against it. --base overrides the base image
       (-Dimage.base), e.g. a stand-in where public registries are out of reach.
push   copies DIR/image to REPOSITORY_URL:<DIR/tag> (default: ECR_REPOSITORY_URL; ECR login with
       the AWS CLI) with --preserve-digests, then checks the registry serves DIR/digest under that
       tag. A tag that already exists (ECR tags are immutable) must already hold DIR/digest: a
       different image under the commit's tag is an error, never silently deployed.
       Writes build/deploy/last.json: {image, digest, image_by_digest}.
Registries on 127.0.0.1 are used without TLS or credentials (tests).
Needs: skopeo, jq; build also docker-registry, a JDK 17+ for ./mvnw; push to ECR also aws.
USAGE
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
case "$command" in
  -h | --help) usage; exit 0 ;;
  build | push) ;;
  "") usage >&2; die "missing command (build or push)" ;;
  *) usage >&2; die "unknown command: $command" ;;
esac

tag="" out="" from="" to="${ECR_REPOSITORY_URL:-}" smoke=false base=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --from) from="${2:?--from needs a value}"; shift 2 ;;
    --to) to="${2:?--to needs a value}"; shift 2 ;;
    --smoke) smoke=true; shift ;;
    --base) base="${2:?--base needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
require_tool skopeo "Install skopeo (apt-get install -y skopeo)."
require_tool jq "Install jq (apt-get install -y jq)."

# is_loopback HOST: registries on loopback are test registries (plain HTTP, no credentials).
is_loopback() { [[ "$1" == 127.0.0.1:* || "$1" == localhost:* ]]; }

cleanup_pids=()
cleanup_dirs=()
cleanup() {
  local pid
  for pid in "${cleanup_pids[@]+"${cleanup_pids[@]}"}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ((${#cleanup_dirs[@]} == 0)) || rm -rf "${cleanup_dirs[@]}"
}
trap cleanup EXIT

build() {
  [[ "$tag" =~ ^[0-9a-f]{7,40}$ ]] || die "--tag must be a git commit SHA, got '$tag'"
  [[ -n "$out" ]] || die "build needs --out DIR"
  require_tool docker-registry "Install docker-registry (apt-get install -y docker-registry)."
  local work port registry repo digest copied engine container="" url
  work="$(mktemp -d)"
  cleanup_dirs+=("$work")
  port="$(free_port)"
  registry="127.0.0.1:$port"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/data" "$registry" >"$work/config.yml"
  docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
  cleanup_pids+=($!)
  wait_for_http "http://$registry/v2/" 20 || die "docker-registry did not start: $(tail -n 5 "$work/registry.log")"

  repo="$registry/ml-serve-ecs"
  local jib_args=(-Djib.allowInsecureRegistries=true)
  [[ -z "$base" ]] || jib_args+=("-Dimage.base=$base")
  jib_push "$repo" "$tag" "$work/jib-digest" "${jib_args[@]}"
  digest="$(cat "$work/jib-digest")"

  rm -rf "$out"
  mkdir -p "$out"
  skopeo copy --quiet --preserve-digests --src-tls-verify=false "docker://$repo:$tag" "dir:$out/image"
  copied="$(skopeo manifest-digest "$out/image/manifest.json")"
  [[ "$copied" == "$digest" ]] || die "the copied image has digest $copied, Jib pushed $digest"
  printf '%s\n' "$digest" >"$out/digest"
  printf '%s\n' "$tag" >"$out/tag"
  log "image $tag ($digest) saved in $out"

  if [[ "$smoke" == true ]]; then
    if command -v docker >/dev/null 2>&1; then
      engine=(docker)
    elif command -v podman >/dev/null 2>&1; then
      engine=(podman)
    else
      die "--smoke needs docker or podman"
    fi
    local app_port
    app_port="$(free_port)"
    local pull_args=()
    [[ "${engine[0]}" != podman ]] || pull_args=(--tls-verify=false)
    container="$("${engine[@]}" run -d "${pull_args[@]+"${pull_args[@]}"}" --read-only --tmpfs /tmp \
      -p "127.0.0.1:$app_port:8080" -v "$REPO_ROOT/models:/models:ro" -e MODEL_BASE_PATH=/models \
      "$repo@$digest")"
    url="http://127.0.0.1:$app_port"
    if ! "$REPO_ROOT/scripts/smoke.sh" --timeout 120 "$url"; then
      "${engine[@]}" logs "$container" 2>&1 | tail -n 40 >&2 || true
      "${engine[@]}" rm -f "$container" >/dev/null 2>&1 || true
      die "the image $digest failed its smoke test"
    fi
    "${engine[@]}" rm -f "$container" >/dev/null 2>&1 || true
    log "image $digest passed the smoke test"
  fi
  printf '%s\n' "$digest"
}

push() {
  [[ -n "$from" ]] || die "push needs --from DIR (made by build)"
  [[ -f "$from/digest" && -f "$from/tag" && -f "$from/image/manifest.json" ]] ||
    die "$from is not an image saved by 'ship-image.sh build' (digest, tag, image/manifest.json)"
  [[ -n "$to" ]] || die "push needs --to REPOSITORY_URL (or ECR_REPOSITORY_URL)"
  local digest tag_ ref host work auth=() dest=()
  digest="$(cat "$from/digest")"
  tag_="$(cat "$from/tag")"
  [[ "$(skopeo manifest-digest "$from/image/manifest.json")" == "$digest" ]] ||
    die "$from/image does not match $from/digest (altered after build?)"
  ref="$to:$tag_"
  host="${to%%/*}"
  if is_loopback "$host"; then
    auth=(--tls-verify=false)
    dest=(--dest-tls-verify=false)
  else
    require_tool aws "Install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)."
    ecr_login "$to" # exports DOCKER_CONFIG with the ECR token
    cleanup_dirs+=("$DOCKER_CONFIG")
    auth=(--authfile "$DOCKER_CONFIG/config.json")
    dest=(--dest-authfile "$DOCKER_CONFIG/config.json")
  fi
  work="$(mktemp -d)"
  cleanup_dirs+=("$work")

  # The manifest's digest is the SHA-256 of its exact bytes: keep them in a file.
  if skopeo inspect --raw "${auth[@]}" "docker://$ref" >"$work/existing.json" 2>"$work/inspect.log"; then
    local existing
    existing="$(skopeo manifest-digest "$work/existing.json")"
    [[ "$existing" == "$digest" ]] ||
      die "$ref already holds $existing, not the tested $digest (tags are immutable): deploy that image with \
scripts/deploy.sh --skip-build, or build a new commit"
    log "$ref already holds $digest: nothing to push"
  else
    skopeo copy --quiet --preserve-digests "${dest[@]}" "dir:$from/image" "docker://$ref"
    log "pushed $ref ($digest)"
  fi
  skopeo inspect --raw "${auth[@]}" "docker://$ref" >"$work/served.json"
  local served
  served="$(skopeo manifest-digest "$work/served.json")"
  [[ "$served" == "$digest" ]] || die "the registry serves $served under $ref, expected $digest"

  mkdir -p "$REPO_ROOT/build/deploy"
  jq -n --arg image "$ref" --arg digest "$digest" --arg by_digest "$to@$digest" \
    '{image: $image, digest: $digest, image_by_digest: $by_digest}' >"$REPO_ROOT/build/deploy/last.json"
  printf '%s@%s\n' "$to" "$digest"
}

"$command"
