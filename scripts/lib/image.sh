# shellcheck shell=bash
# Builds the service image with Jib and pushes it to ECR. Source after common.sh.
# shellcheck source=scripts/lib/aot.sh
source "$REPO_ROOT/scripts/lib/aot.sh"

# ecr_login REPOSITORY_URL: writes a private Docker config with a fresh ECR token and exports
# DOCKER_CONFIG, which Jib reads (no Docker daemon or CLI involved). The token lives 12 hours;
# the caller removes "$DOCKER_CONFIG" when done.
ecr_login() {
  local host="${1%%/*}" region token
  region="$(sed -n 's/^[0-9]*\.dkr\.ecr\.\([a-z0-9-]*\)\.amazonaws\.com.*/\1/p' <<<"$host")"
  region="${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
  [[ -n "$region" ]] || die "cannot tell the ECR region from '$host'; set AWS_REGION"
  token="$(aws ecr get-login-password --region "$region")" ||
    die "aws ecr get-login-password failed (credentials? ecr:GetAuthorizationToken allowed?)"
  DOCKER_CONFIG="$(mktemp -d)"
  export DOCKER_CONFIG
  (
    umask 077
    jq -n --arg host "$host" --arg auth "$(printf 'AWS:%s' "$token" | base64 -w0)" \
      '{auths: {($host): {auth: $auth}}}' >"$DOCKER_CONFIG/config.json"
  )
}

# jib_push REPOSITORY_URL COMMIT DIGEST_FILE [MAVEN_ARGS...]: builds and pushes
# REPOSITORY_URL:COMMIT (REPOSITORY_URL:COMMIT-demo with -Pdemo-model-image), writing the image
# digest (sha256:...) to DIGEST_FILE. The image carries a JVM AOT cache recorded by a training run
# of itself when podman or docker can run it (scripts/lib/aot.sh: AOT_CACHE=auto|required|off).
jib_push() {
  local repository="$1" commit="$2" digest_file="$3"
  shift 3
  local source_url="${IMAGE_SOURCE_URL:-}"
  if [[ -z "$source_url" ]]; then
    source_url="$(git -C "$REPO_ROOT" config --get remote.origin.url 2>/dev/null || true)"
    source_url="${source_url:-https://github.com/unknown/ml-serve-ecs}"
  fi
  mkdir -p "$(dirname "$digest_file")"
  (cd "$REPO_ROOT" && ./mvnw -B -pl app -am package -DskipTests -DskipImageTest)
  # The JVM AOT cache, recorded by running this very image (scripts/lib/aot.sh; AOT_CACHE=off skips it).
  aot_prepare "$REPO_ROOT/build/aot-cache" -Djib.console=plain "-Dgit.commit=$commit" "-Dimage.source=$source_url" "$@"
  (cd "$REPO_ROOT" && ./mvnw -B -pl app jib:build \
    -Djib.console=plain "-Dimage.repository=$repository" "-Dgit.commit=$commit" \
    "-Dimage.source=$source_url" "-Djib.outputPaths.digest=$digest_file" "$@" "${AOT_MAVEN_ARGS[@]}")
  [[ -s "$digest_file" ]] || die "Jib wrote no digest to $digest_file"
}
