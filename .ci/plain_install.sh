#!/usr/bin/env bash
# The install a user does: a fresh venv with `pip install .` (no extras, the newest dependencies
# the index offers, so cbor2 6 where the dev venv has the SDK's cbor2 5), the plugin in a venv of
# its own with the plugin SDK, reached through `deploy: {pythonPath: ...}`. Then, from that plain
# venv: a plugin step, a podman step, and a docker step, which must fail with the one-line
# "needs the docker extra" error (exit 3), not a traceback; and the example workflow.
#
# Usage: .ci/plain_install.sh [--require-container-engines]
# Uses pip's cache; about 20 s with a warm cache. PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
require_engines=0
[ "${1:-}" = "--require-container-engines" ] && require_engines=1
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/arcaflow-steps-plain-XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { printf 'plain install: %s\n' "$*"; }
fail() { printf 'plain install: FAILED: %s\n' "$*" >&2; exit 1; }
export PIP_DISABLE_PIP_VERSION_CHECK=1

# Build from a copy of the tracked and new files: an in-tree build/ may hold stale modules.
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard \
  | xargs -0 tar --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$work/src"
"$python" -m venv "$work/user"
"$python" -m venv "$work/plugin"
"$work/user/bin/pip" install --quiet "$work/src" 2> >(grep -v '^WARNING: Location' >&2) &
user_pid=$!
"$work/plugin/bin/pip" install --quiet 'arcaflow-plugin-sdk==0.14.3' 2> >(grep -v '^WARNING: Location' >&2) &
plugin_pid=$!
wait "$user_pid" || fail "pip install . did not install"
wait "$plugin_pid" || fail "the plugin SDK did not install"
user_cbor2=$("$work/user/bin/python" -c 'import importlib.metadata as m; print(m.version("cbor2"))')
say "arcaflow-steps venv: cbor2 $user_cbor2; docker extra absent: $(
  "$work/user/bin/python" -c 'import importlib.util as u; print(u.find_spec("docker") is None)')"

# run NAME EXPECTED_EXIT: run $work/NAME.yaml with the plain venv's CLI; keep stdout and stderr.
run() {
  local code=0
  "$work/user/bin/arcaflow-steps" run -q "$work/$1.yaml" >"$work/$1.out" 2>"$work/$1.err" \
    || code=$?
  if [ "$code" != "$2" ]; then
    cat "$work/$1.out" "$work/$1.err" >&2
    fail "$1: exit $code, expected $2"
  fi
}

cat >"$work/plugin_step.yaml" <<YAML
plugin: {src: $PWD/examples/plugins/greeter/arcaflow_plugin_greeter, deployment_type: python}
deploy: {deployer_name: python, pythonPath: $work/plugin/bin/python}
input: {name: Arca, times: 2, shout: false}
YAML
run plugin_step 0
grep -qx '    message: Hello, Arca! Hello, Arca!' "$work/plugin_step.out" \
  || fail "plugin step: unexpected result: $(cat "$work/plugin_step.out")"
say "plugin step (pythonPath venv): ok"

if command -v podman >/dev/null && podman image exists arcaflow-steps-test/plugin_hello:latest; then
  cat >"$work/podman_step.yaml" <<YAML
plugin: {src: arcaflow-steps-test/plugin_hello:latest, deployment_type: image}
deploy: {deployer_name: podman}
input: {name: Arca}
YAML
  run podman_step 0
  grep -qx '    message: Hello, Arca!' "$work/podman_step.out" \
    || fail "podman step: unexpected result: $(cat "$work/podman_step.out")"
  say "podman step: ok"
elif [ "$require_engines" = 1 ]; then
  fail "podman or the image arcaflow-steps-test/plugin_hello:latest is missing (.ci/containers.sh)"
else
  say "podman step: skipped (no podman or no test image)"
fi

cat >"$work/docker_step.yaml" <<YAML
plugin: {src: arcaflow-steps-test/plugin_hello:latest, deployment_type: image}
deploy: {deployer_name: docker}
input: {name: Arca}
YAML
run docker_step 3
expected="arcaflow-steps: error: $work/docker_step.yaml: deployer 'docker' needs the docker extra: pip install 'arcaflow-steps[docker]'"
[ "$(cat "$work/docker_step.err")" = "$expected" ] \
  || fail "docker step: expected the one-line extra error, got: $(cat "$work/docker_step.err")"
say "docker step without the docker extra: the one-line error, exit 3"

# The example workflow (data passing, a wait, a disabled step, a foreach): the config file's
# python deployer runs every plugin, the foreach items' too, on the plugin's own venv.
printf 'deployers:\n  python: {deployer_name: python, pythonPath: %s}\n' \
  "$work/plugin/bin/python" >"$work/workflow-config.yaml"
code=0
"$work/user/bin/arcaflow-steps" workflow -context examples/workflow -input input.yaml \
  -config "$work/workflow-config.yaml" >"$work/workflow.out" 2>"$work/workflow.err" || code=$?
if [ "$code" != 0 ]; then
  cat "$work/workflow.out" "$work/workflow.err" >&2
  fail "example workflow: exit $code, expected 0"
fi
grep -qx '        - message: Hello, Ada!' "$work/workflow.out" \
  || fail "example workflow: unexpected output: $(cat "$work/workflow.out")"
say "example workflow (config pythonPath venv, foreach included): ok"
