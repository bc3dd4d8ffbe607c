#!/usr/bin/env bash
# Builds a small glibc + Java runtime base image as an OCI layout, from distribution packages and a
# local JDK (jlink). It stands in for the production base (a public Temurin JRE image pinned by
# digest in app/pom.xml) where public registries cannot be reached, e.g. in the image test.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: scripts/build-base-image.sh [--out DIR] [--jdk DIR] [--push docker://HOST/REPO:TAG]

Builds a base image that mirrors the production one (eclipse-temurin JRE: glibc, Java in
/opt/java/openjdk, JAVA_HOME and PATH set, no application user) from:
  - libc6, libgcc-s1, libstdc++6, base-files, netbase   (apt-get download + dpkg-deb -x)
  - a jlink'ed Java 21+ runtime                          (from --jdk, $BASE_JDK, $JAVA_HOME_25_X64,
                                                          /usr/lib/jvm/temurin-25*, $JAVA_HOME_21_X64)
and packs it with umoci into DIR/oci (tag "base"). The result is cached: it is rebuilt only when
this script, the JDK or the package set changes.

Options:
  --out DIR     where to build (default: build/image-test/base)
  --jdk DIR     JDK (21+) whose jlink builds the runtime
  --push REF    also copy the image to REF with skopeo (plain HTTP allowed, for a loopback
                registry); prints the pushed digest on stdout
  -h, --help    this text

Needs: apt-get, dpkg-deb, umoci, jlink (and skopeo for --push). No root and no daemon.
USAGE
}

out="$REPO_ROOT/build/image-test/base"
jdk="${BASE_JDK:-}"
push=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --jdk) jdk="$2"; shift 2 ;;
    --push) push="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

for tool in apt-get dpkg-deb umoci sha256sum; do
  require_tool "$tool" "Install it (Debian/Ubuntu: apt-get install -y umoci dpkg apt coreutils)."
done
[[ -z "$push" ]] || require_tool skopeo "Install it (apt-get install -y skopeo)."

java_feature_version() { # prints the feature version of the JDK at $1, or nothing
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null
}
find_jdk() {
  local candidate version
  for candidate in "$jdk" "${JAVA_HOME_25_X64:-}" /usr/lib/jvm/temurin-25* "${JAVA_HOME_21_X64:-}" \
    /usr/lib/jvm/temurin-21* "${JAVA_HOME:-}"; do
    [[ -n "$candidate" && -x "$candidate/bin/jlink" ]] || continue
    version="$(java_feature_version "$candidate")"
    if [[ -n "$version" && "$version" -ge 21 ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}
jdk="$(find_jdk)" || die "no JDK 21+ with jlink found. Pass --jdk DIR or set BASE_JDK \
(e.g. actions/setup-java with java-version 25, or apt-get install temurin-25-jdk)."

packages=(libc6 libgcc-s1 libstdc++6 base-files netbase)
# Modules of a JRE (java.se plus the jdk.* runtime modules libraries reach for), not just what the
# app needs today: the stand-in must not pass where the production JRE would fail, or vice versa.
modules="java.se,jdk.unsupported,jdk.crypto.ec,jdk.management,jdk.management.jfr,jdk.jfr,jdk.zipfs,jdk.net,jdk.naming.dns"

key="$(
  {
    cat "${BASH_SOURCE[0]}"
    cat "$jdk/release"
    printf '%s\n' "${packages[@]}" "$modules"
  } | sha256sum | cut -c1-16
)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
layout="$out/oci"

if [[ -f "$out/stamp" && "$(cat "$out/stamp")" == "$key" && -f "$layout/index.json" ]]; then
  log "base image up to date: oci:$layout:base"
else
  log "building base image in $out (JDK: $jdk)"
  rm -rf "$layout" "$out/rootfs" "$out/stamp"
  mkdir -p "$out/debs" "$out/rootfs"
  apt_opts=()
  # As root apt would drop to the _apt user, which cannot write into the build folder.
  [[ "$(id -u)" != 0 ]] || apt_opts=(-o APT::Sandbox::User=root)
  (cd "$out/debs" && timeout 300 apt-get download -q "${apt_opts[@]}" "${packages[@]}" >&2) ||
    die "apt-get download failed (run 'apt-get update' first, or check the package mirror)"
  for package in "${packages[@]}"; do
    deb="$(find "$out/debs" -maxdepth 1 -name "${package}_*.deb" | sort | tail -n 1)"
    [[ -n "$deb" ]] || die "no .deb downloaded for $package"
    dpkg-deb -x "$deb" "$out/rootfs"
  done
  rootfs="$out/rootfs"
  rm -rf "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/info" "$rootfs/usr/share/lintian"

  timeout 300 "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files \
    --no-man-pages --compress=zip-6 --output "$rootfs/opt/java/openjdk" >&2

  # No application user on purpose (like the Temurin image): the app image sets a numeric uid, and
  # this proves it runs as a uid without a passwd entry.
  mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
    >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  # ld.so.cache is an optimisation only: Debian's loader searches the multiarch dirs without it.
  if [[ "$(id -u)" == 0 ]] && command -v ldconfig >/dev/null; then
    ldconfig -r "$rootfs" 2>/dev/null || true
  fi

  rootless=()
  [[ "$(id -u)" == 0 ]] || rootless=(--rootless)
  umoci init --layout "$layout"
  umoci new --image "$layout:base"
  umoci insert "${rootless[@]}" --image "$layout:base" "$rootfs" /
  umoci config --image "$layout:base" --os linux --architecture amd64 \
    --config.env "JAVA_HOME=/opt/java/openjdk" \
    --config.env "PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "LANG=C.UTF-8" \
    --config.label "org.opencontainers.image.description=ml-serve-ecs local test base: glibc + $(java_feature_version "$jdk") runtime" \
    --history.created_by "scripts/build-base-image.sh"
  umoci gc --layout "$layout"
  rm -rf "$rootfs"
  printf '%s\n' "$key" >"$out/stamp"
  log "built oci:$layout:base"
fi

if [[ -n "$push" ]]; then
  digest_file="$out/pushed.digest"
  timeout 300 skopeo copy --quiet --dest-tls-verify=false --digestfile "$digest_file" \
    "oci:$layout:base" "$push" >&2
  cat "$digest_file"
  echo
fi
