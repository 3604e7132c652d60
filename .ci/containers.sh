#!/usr/bin/env bash
# Container engines for the tests: install Docker and podman from Debian, start dockerd in the
# background (overlay2, falling back to vfs), make `podman run` work on a machine whose root
# lacks CAP_SYS_RESOURCE (see .ci/podman/README.md), then build the test plugin images
# (images/build-test-image.sh, cached by content hash) and load them into both engines.
#
# Idempotent: a second run finds dockerd answering, the podman drop-in in place and the images
# up to date, and returns in about a second. Needs root.
#
#   bash .ci/containers.sh            engines + images (what .ci/run calls)
#   bash .ci/containers.sh engines    only install/start/configure the engines
#   bash .ci/containers.sh stop       stop the dockerd this script started
#
# Environment: DOCKERD_LOG (default /var/log/arcaflow-steps-dockerd.log),
# DOCKER_STORAGE_DRIVER (force overlay2 or vfs), ARCAFLOW_STEPS_IMAGE_CACHE (see the builder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mode="${1:-all}"
log="${DOCKERD_LOG:-/var/log/arcaflow-steps-dockerd.log}"
pidfile=/var/run/arcaflow-steps-dockerd.pid

say() { printf '[containers] %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v podman >/dev/null || missing+=(podman)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  # sshd (never started as a service) lets a test reach dockerd over ssh:// like a remote host.
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

docker_ready() { timeout 10 docker info >/dev/null 2>&1; }

# Whether a process runs (a zombie does not: a killed dockerd may stay <defunct> when PID 1
# does not reap it, and kill -0 still succeeds on it).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  case "${stat%% *}" in Z | X) return 1 ;; *) return 0 ;; esac
}

# A dockerd or containerd killed without cleanup leaves pid files that make the next start fail
# ("pid file found, ensure docker is not running").
remove_stale_pidfiles() {
  local file pid
  for file in /var/run/docker.pid /var/run/docker/containerd/containerd.pid "$pidfile"; do
    [ -f "$file" ] || continue
    pid="$(cat "$file" 2>/dev/null || true)"
    if [ -z "$pid" ] || ! alive "$pid"; then
      rm -f "$file"
    fi
  done
}

start_dockerd_with() {
  local driver="$1" i
  say "starting dockerd (storage driver $driver), log $log"
  remove_stale_pidfiles
  # setsid: dockerd must not die with the calling shell's process group or get its signals.
  setsid dockerd --storage-driver "$driver" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for i in $(seq 1 120); do
    if docker_ready; then
      say "dockerd answers after $((i / 4)).$((i % 4 * 25))s"
      return 0
    fi
    if ! alive "$(cat "$pidfile")"; then
      say "dockerd ($driver) exited; last log lines:"
      tail -n 5 "$log" >&2 || true
      return 1
    fi
    sleep 0.25
  done
  say "dockerd ($driver) did not answer in 30s"
  kill "$(cat "$pidfile")" 2>/dev/null || true
  return 1
}

start_dockerd() {
  if docker_ready; then
    say "dockerd already answers ($(docker info -f '{{.Driver}}' 2>/dev/null))"
    return 0
  fi
  if [ -n "${DOCKER_STORAGE_DRIVER:-}" ]; then
    start_dockerd_with "$DOCKER_STORAGE_DRIVER"
    return
  fi
  start_dockerd_with overlay2 || {
    say "overlay2 failed; falling back to vfs (slow: every layer is a full copy)"
    start_dockerd_with vfs
  }
}

stop_dockerd() {
  if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
    kill "$(cat "$pidfile")"
    say "stopped dockerd $(cat "$pidfile")"
  fi
  rm -f "$pidfile"
}

# Podman's default container rlimits (nofile 1048576, nproc 4194304) are above this machine's
# hard limits, and root here lacks CAP_SYS_RESOURCE, so runc's setrlimit() is refused. Podman
# also lowers its own RLIMIT_NPROC to 32768 when it cannot raise it (observed in
# /proc/<podman>/limits), and the container inherits from podman, so nproc must stay <= 32768.
configure_podman() {
  local nofile nproc dropin=/etc/containers/containers.conf.d/50-arcaflow-steps-rlimits.conf
  nofile="$(ulimit -Hn)"
  nproc="$(ulimit -Hu)"
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=4194304
  [ "$nofile" -gt 1048576 ] && nofile=1048576
  [ "$nproc" -gt 32768 ] && nproc=32768
  local wanted
  wanted="$(printf '%s\n%s\n%s\n' \
    '# Written by arcaflow-steps .ci/containers.sh; see .ci/podman/README.md.' \
    '[containers]' \
    "default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]")"
  if [ "$(cat "$dropin" 2>/dev/null || true)" != "$wanted" ]; then
    mkdir -p "$(dirname "$dropin")"
    printf '%s\n' "$wanted" >"$dropin"
    say "podman: wrote $dropin (nofile=$nofile nproc=$nproc)"
  else
    say "podman: $dropin up to date"
  fi
}

case "$mode" in
  stop)
    stop_dockerd
    exit 0
    ;;
  engines | all) ;;
  *)
    echo "usage: $0 [all|engines|stop]" >&2
    exit 1
    ;;
esac

install_packages
start_dockerd
configure_podman
if [ "$mode" = all ]; then
  bash "$repo/images/build-test-image.sh"
fi
