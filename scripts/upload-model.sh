#!/usr/bin/env bash
# Uploads one SavedModel version to the model store in the layout the service polls.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/upload-model.sh [options] [VERSION_DIR]

Uploads the SavedModel in VERSION_DIR (a folder holding saved_model.pb, variables/, assets/...)
to BASE/<name>/<version>/, the layout the service reads from MODEL_BASE_PATH. saved_model.pb is
uploaded LAST: the service treats a version as present only once saved_model.pb exists, so it
never loads a half-uploaded version. With --tar it uploads one object BASE/<name>/<version>.tar.gz
instead (the folder's contents at the archive root).

Name and version default to the last two path components, so models/imdb-sentiment/1 uploads
model "imdb-sentiment" version 1. Versions are immutable: an existing version is refused unless
--force. Without VERSION_DIR it uploads every bundled models/<name>/<version>/ of this repository
that the store does not have yet (the first-deploy step in docs/DEPLOY.md).

Options:
  --base s3://BUCKET/PREFIX  where models live (default: $MODEL_BASE_PATH if it is s3://...,
                             else `terraform output model_base_path` of --env)
  --env NAME                 Terraform environment under terraform/envs (default: dev)
  --name NAME                model name, ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
  --version N                positive integer version
  --tar                      upload a single <version>.tar.gz object
  --force                    overwrite an existing version
  --dry-run                  print what would be uploaded; change nothing
  -h, --help                 this text

Environment: the AWS CLI's own (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
for S3-compatible stores and emulators).
Example: scripts/upload-model.sh models/imdb-sentiment/1
USAGE
}

base="" env_name="dev" name="" version="" tar=false force=false dry_run=false dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base="${2:?--base needs a value}"; shift 2 ;;
    --env) env_name="${2:?--env needs a value}"; shift 2 ;;
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --version) version="${2:?--version needs a value}"; shift 2 ;;
    --tar) tar=true; shift ;;
    --force) force=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *) [[ -z "$dir" ]] || die "only one VERSION_DIR, got '$dir' and '$1'"; dir="$1"; shift ;;
  esac
done
if [[ -z "$dir" ]]; then
  # Every bundled version, each through this script; present ones are skipped, not overwritten.
  [[ -z "$name" && -z "$version" && "$tar" != true ]] || die "--name, --version and --tar need a VERSION_DIR"
  passthrough=(--env "$env_name")
  [[ -z "$base" ]] || passthrough+=(--base "$base")
  [[ "$force" != true ]] || passthrough+=(--force)
  [[ "$dry_run" != true ]] || passthrough+=(--dry-run)
  found=0
  for pb in "$REPO_ROOT"/models/*/*/saved_model.pb; do
    [[ -f "$pb" ]] || continue
    found=$((found + 1))
    out="$("$0" "${passthrough[@]}" "$(dirname "$pb")" 2>&1)" && { printf '%s\n' "$out"; continue; }
    if [[ "$out" == *"already exists"* ]]; then
      printf 'skipped %s: already in the store\n' "${pb#"$REPO_ROOT/"}"
    else
      printf '%s\n' "$out" >&2
      exit 1
    fi
  done
  ((found > 0)) || die "no models/<name>/<version>/saved_model.pb in $REPO_ROOT; pass a VERSION_DIR"
  exit 0
fi
[[ -d "$dir" ]] || die "not a folder: $dir"
dir="$(cd "$dir" && pwd)"
[[ -f "$dir/saved_model.pb" ]] || die "$dir has no saved_model.pb: pass a SavedModel version folder (e.g. models/imdb-sentiment/1)"

[[ -n "$version" ]] || version="$(basename "$dir")"
[[ -n "$name" ]] || name="$(basename "$(dirname "$dir")")"
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] ||
  die "invalid model name '$name': use ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\$ (or pass --name)"
[[ "$version" =~ ^[1-9][0-9]{0,17}$ ]] ||
  die "invalid version '$version': a positive integer (or pass --version)"

require_tool aws "Install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)."
if [[ -z "$base" && "${MODEL_BASE_PATH:-}" == s3://* ]]; then
  base="$MODEL_BASE_PATH"
fi
if [[ -z "$base" ]]; then
  require_tool terraform "Install Terraform, or pass --base s3://bucket/prefix."
  stack="$REPO_ROOT/terraform/envs/$env_name"
  [[ -d "$stack" ]] || die "no Terraform stack at $stack (pass --env or --base)"
  base="$(terraform -chdir="$stack" output -raw model_base_path 2>/dev/null)" ||
    die "could not read 'model_base_path' from terraform output in $stack (applied? initialised?); pass --base"
fi
[[ "$base" =~ ^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$ ]] || die "--base must look like s3://bucket/prefix, got '$base'"
base="${base%/}"
prefix="$base/$name"

[[ "$dry_run" == true ]] || require_aws_credentials

# Refuse to overwrite a published version: the service may already have loaded it.
existing="$(aws s3 ls "$prefix/$version/saved_model.pb" 2>/dev/null || true)$(aws s3 ls "$prefix/$version.tar.gz" 2>/dev/null || true)"
if [[ -n "$existing" && "$force" != true ]]; then
  die "$name version $version already exists under $prefix (versions are immutable: upload a new version, or --force)"
fi

if [[ "$tar" == true ]]; then
  require_tool tar "Install tar."
  target="$prefix/$version.tar.gz"
  if [[ "$dry_run" == true ]]; then
    printf 'would upload %s as %s\n' "$dir" "$target"
    exit 0
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  tar -C "$dir" -czf "$tmp/model.tar.gz" .
  # One object appears atomically: a reader sees the whole archive or nothing.
  aws s3 cp --only-show-errors "$tmp/model.tar.gz" "$target"
  printf 'uploaded %s\n' "$target"
  exit 0
fi

target="$prefix/$version"
if [[ "$dry_run" == true ]]; then
  printf 'would upload to %s/:\n' "$target"
  (cd "$dir" && find . -type f ! -name saved_model.pb -printf '  %P\n' | sort)
  printf '  saved_model.pb (last)\n'
  exit 0
fi
# Everything but saved_model.pb first; saved_model.pb last marks the version complete.
aws s3 cp --only-show-errors --recursive --exclude saved_model.pb "$dir" "$target/"
aws s3 cp --only-show-errors "$dir/saved_model.pb" "$target/saved_model.pb"
printf 'uploaded %s version %s to %s/ (%d files)\n' "$name" "$version" "$target" "$(find "$dir" -type f | wc -l)"
