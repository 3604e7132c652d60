#!/usr/bin/env bash
# Build the container images of the test plugins, without any image registry.
#
# Two layers, each cached by a content hash (a rebuild happens only when its inputs change):
#
#   arcaflow-steps-test/base:<hash>     a minimal Debian root filesystem (debootstrap from the
#                                       mirror apt is configured with) + python3 + the plugin SDK
#                                       (arcaflow-plugin-sdk and its dependencies as PyPI wheels)
#   arcaflow-steps-test/<module>:latest one image per test plugin module in tests/plugins/,
#                                       sharing one layer with all of tests/plugins/ in
#                                       /opt/arcaflow-steps-test/plugins (on PYTHONPATH);
#                                       ENTRYPOINT ["python3", "-m", "<module>"], CMD ["--atp"]
#
# One image per plugin is how Arcaflow uses images (an image IS a plugin): a deployer runs the
# image with the single argument --atp. The images go into Docker, then into podman
# (`docker save | podman load`). The Debian rootfs tarball is kept in the cache directory, so
# a wiped Docker storage does not mean another debootstrap.
#
# Usage: images/build-test-image.sh [--force | --if-base-present]
#   --force             rebuild everything (a fresh debootstrap)
#   --if-base-present   only refresh the plugin images, and only when the base image is already
#                       built (exit 0 otherwise); the container tests call this once per session
#                       so an edited tests/plugins/ module is picked up in a few seconds
# Environment: ARCAFLOW_STEPS_IMAGE_CACHE (default /var/cache/arcaflow-steps/images),
#              ARCAFLOW_STEPS_PLUGINS_DIR (default tests/plugins),
#              SKIP_PODMAN=1 (Docker only), PYTHON (host interpreter running pip; default
#              .venv/bin/python, else python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
plugins_dir="${ARCAFLOW_STEPS_PLUGINS_DIR:-$repo/tests/plugins}"
cache="${ARCAFLOW_STEPS_IMAGE_CACHE:-/var/cache/arcaflow-steps/images}"
# The interpreter that runs pip on the host: the project's venv (scripts/setup) when present.
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then python="$repo/.venv/bin/python"; else python=python3; fi
fi
force="${1:-}"

SDK_REQUIREMENTS="arcaflow-plugin-sdk==0.14.3 cbor2==5.6.5 PyYAML==6.0.4"
PREFIX=arcaflow-steps-test
LABEL=org.arcaflow-steps.content-hash
PLUGIN_ROOT=/opt/arcaflow-steps-test/plugins

start=$(date +%s)
say() { printf '[images %3ss] %s\n' "$(($(date +%s) - start))" "$*" >&2; }

# The Debian mirror and suite apt is configured with, read at build time from
# /etc/apt/sources.list* (one-line and deb822 formats); security/updates entries are skipped.
debian_source() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    case "$file" in
      *.sources)
        awk '
          function flush() {
            if (types ~ /(^| )deb( |$)/ && uri != "" && uri !~ /security/ && suite != "") {
              print uri, suite; found = 1; exit
            }
            types = ""; uri = ""; suite = ""
          }
          /^[ \t]*$/ { flush(); next }
          /^Types:/ { types = $0; sub(/^Types:[ \t]*/, "", types) }
          /^URIs:/ { uri = $2 }
          /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-(updates|security|backports)$/) { suite = $i; break } }
          END { if (!found) flush() }
        ' "$file"
        ;;
      *)
        awk '$1 == "deb" {
               i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
               if ($i !~ /security/ && $(i+1) !~ /-(updates|security|backports)$/) { print $i, $(i+1); exit }
             }' "$file"
        ;;
    esac
  done | head -n 1
}

image_label() { # engine image -> the content-hash label, empty when the image is missing
  "$1" image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$2" 2>/dev/null || true
}

# --- the base image ------------------------------------------------------------------------

build_base_rootfs() { # rootfs mirror suite
  local rootfs="$1" mirror="$2" suite="$3" pyver site
  debootstrap --variant=minbase --include=python3 "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -n 20 "$rootfs.log" >&2
    return 1
  }
  pyver="$(basename "$(ls -d "$rootfs"/usr/lib/python3.[0-9]* | grep -E 'python3\.[0-9]+$' | head -n 1)")"
  pyver="${pyver#python}"
  site="$rootfs/usr/local/lib/python$pyver/dist-packages"
  mkdir -p "$site"
  # Wheels only, for the image's Python (not the host's): no compiler, no pip in the image.
  # shellcheck disable=SC2086
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore \
    --target "$site" --platform "manylinux2014_$(uname -m)" --implementation cp \
    --python-version "$pyver" --abi "cp${pyver/./}" --only-binary=:all: $SDK_REQUIREMENTS
  rm -rf "$site/bin" "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/*
}

ensure_base() { # -> prints the base image reference
  local source mirror suite hash image tarball work
  source="$(debian_source)"
  [ -n "$source" ] || {
    echo "no Debian mirror found in /etc/apt/sources.list*" >&2
    return 1
  }
  mirror="${source% *}"
  suite="${source#* }"
  # The mirror is not part of the hash: every mirror serves the same suite.
  hash="$(printf '%s\n' "$suite" "$SDK_REQUIREMENTS" "$(uname -m)" "$(declare -f build_base_rootfs)" |
    sha256sum | cut -c1-16)"
  image="$PREFIX/base:$hash"
  if [ "$force" != --force ] && [ "$(image_label docker "$image")" = "$hash" ]; then
    say "base image $image is up to date"
    echo "$image"
    return 0
  fi
  if [ "$force" = --if-base-present ]; then
    say "base image $image is not built; skipped (run without --if-base-present)"
    return 3
  fi
  mkdir -p "$cache"
  tarball="$cache/base-$hash.tar"
  if [ "$force" = --force ] || [ ! -s "$tarball" ]; then
    say "debootstrap $suite from $mirror (+ $SDK_REQUIREMENTS)"
    work="$(mktemp -d "$cache/build.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    build_base_rootfs "$work/rootfs" "$mirror" "$suite"
    tar --numeric-owner -C "$work/rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
    trap - EXIT
    find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "base-$hash.tar" -delete
  fi
  say "docker import $tarball as $image"
  docker import \
    --change "LABEL $LABEL=$hash" \
    --change 'ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1' \
    --change 'CMD ["python3"]' \
    "$tarball" "$image" >/dev/null
  echo "$image"
}

# --- the plugin images ---------------------------------------------------------------------

plugin_modules() { # one module name per line: tests/plugins/<m>.py and packages with __main__
  local path name
  for path in "$plugins_dir"/*.py "$plugins_dir"/*/__main__.py; do
    [ -f "$path" ] || continue
    case "$path" in
      */__main__.py) name="$(basename "$(dirname "$path")")" ;;
      *) name="$(basename "$path" .py)" ;;
    esac
    case "$name" in _* | conftest | test_*) continue ;; esac
    echo "$name"
  done | sort -u
}

plugins_hash() { # base-image
  {
    echo "$1"
    declare -f build_plugin_images
    (cd "$plugins_dir" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

build_plugin_images() { # base hash modules...
  local base="$1" hash="$2" container module layer="$PREFIX/plugins:$2"
  shift 2
  container="$(docker create "$base" true)"
  # shellcheck disable=SC2064
  trap "docker rm -f '$container' >/dev/null 2>&1 || true" RETURN
  tar -C "$plugins_dir" --exclude=__pycache__ --exclude='*.pyc' --owner=0 --group=0 \
    --transform "s,^\.,${PLUGIN_ROOT#/},S" -cf - . | docker cp - "$container:/"
  docker commit \
    --change "LABEL $LABEL=$hash" \
    --change "ENV PYTHONPATH=$PLUGIN_ROOT" \
    --change "WORKDIR /tmp" \
    "$container" "$layer" >/dev/null
  docker rm -f "$container" >/dev/null
  for module in "$@"; do
    container="$(docker create "$layer" true)"
    docker commit \
      --change "ENTRYPOINT [\"python3\", \"-m\", \"$module\"]" \
      --change 'CMD ["--atp"]' \
      "$container" "$PREFIX/$module:latest" >/dev/null
    docker rm -f "$container" >/dev/null
  done
}

remove_old_bases() { # current-base
  local ref
  {
    docker image ls --format '{{.Repository}}:{{.Tag}}' "$PREFIX/base"
    docker image ls --format '{{.Repository}}:{{.Tag}}' "$PREFIX/plugins"
  } | while read -r ref; do
      case "$ref" in "$1" | "$PREFIX/plugins:$2") ;; *) docker image rm "$ref" >/dev/null 2>&1 || true ;; esac
    done
}

main() {
  local base hash modules=() module stale=0 images
  command -v docker >/dev/null && docker info >/dev/null 2>&1 || {
    echo "docker is not reachable; run .ci/containers.sh first" >&2
    return 1
  }
  local status=0
  base="$(ensure_base)" || status=$?
  if [ "$status" = 3 ]; then
    return 0
  elif [ "$status" != 0 ]; then
    return "$status"
  fi
  mapfile -t modules < <(plugin_modules)
  if [ "${#modules[@]}" -eq 0 ]; then
    say "no plugin modules in $plugins_dir; only the base image was built"
    return 0
  fi
  hash="$(plugins_hash "$base")"
  for module in "${modules[@]}"; do
    [ "$(image_label docker "$PREFIX/$module:latest")" = "$hash" ] || stale=1
  done
  if [ "$force" = --force ] || [ "$stale" = 1 ]; then
    say "building ${#modules[@]} plugin images: ${modules[*]}"
    build_plugin_images "$base" "$hash" "${modules[@]}"
  else
    say "${#modules[@]} plugin images are up to date"
  fi
  images=()
  for module in "${modules[@]}"; do images+=("$PREFIX/$module:latest"); done
  if [ "${SKIP_PODMAN:-}" != 1 ] && command -v podman >/dev/null; then
    stale=0
    for module in "${modules[@]}"; do
      [ "$(image_label podman "localhost/$PREFIX/$module:latest")" = "$hash" ] || stale=1
    done
    if [ "$stale" = 1 ]; then
      say "loading ${#images[@]} images into podman"
      docker save "${images[@]}" | podman load >"$cache/podman-load.log" 2>&1 || {
        cat "$cache/podman-load.log" >&2
        return 1
      }
      # Retagging leaves the previous build's images dangling; drop them.
      podman image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
    else
      say "podman images are up to date"
    fi
  fi
  remove_old_bases "$base" "$hash"
  docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
  say "done: ${images[*]}"
}

main
