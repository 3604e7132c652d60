#!/usr/bin/env bash
# Recreate everything bench/plugin_vs_go.py needs, from PyPI (nothing here is committed):
#
#   <work>/go-venv                  venv with arcaflow==0.21.0 (the Go engine binary is in the
#                                   wheel: lib/python*/site-packages/arcaflow/bin/arcaflow)
#   <work>/go-python/connector_<py-semver with dashes>_1/arcaflow-plugin-bench_latest/venv
#                                   the benchmark plugin (bench/plugins/arcaflow_plugin_bench,
#                                   arcaflow-plugin-sdk==0.14.3) pre-installed where the Go
#                                   engine's python deployer looks for the source
#                                   arcaflow-plugin-bench@git+…: its first connector in a
#                                   process is numbered 1, the module directory is
#                                   <module-name>_<commit|latest>; with modulePullPolicy:
#                                   IfNotPresent it never pulls. The same venv's python runs
#                                   the floor measurements.
#   <work>/ours-venv                arcaflow-steps installed from this checkout as a user gets it
#                                   (a regular, not editable, install; no dev tools) with
#                                   arcaflow-plugin-sdk==0.14.3: plugin_vs_go.py runs this
#                                   arcaflow-steps, whose interpreter also runs our plugins.
#
# Usage: bench/setup.sh
# Environment: BENCH_WORK (default bench/.work), BENCH_GO_VENV (default <work>/go-venv),
#              PYTHON (interpreter for both venvs, default python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${BENCH_WORK:-$here/.work}"
go_venv="${BENCH_GO_VENV:-$work/go-venv}"
ours_venv="$work/ours-venv"
python="${PYTHON:-python3}"

semver="$("$python" -c 'import platform; print(platform.python_version())')"
plugin_venv="$work/go-python/connector_${semver//./-}_1/arcaflow-plugin-bench_latest/venv"

if [ ! -x "$go_venv/bin/python" ]; then
  "$python" -m venv "$go_venv"
fi
"$go_venv/bin/pip" install --quiet --disable-pip-version-check arcaflow==0.21.0
engine="$(ls "$go_venv"/lib/python*/site-packages/arcaflow/bin/arcaflow)"
"$engine" -version | sed -n 3p

"$python" -m venv --clear "$plugin_venv"
"$plugin_venv/bin/pip" install --quiet --disable-pip-version-check \
  "$here/plugins/arcaflow_plugin_bench"
rm -rf "$here/plugins/arcaflow_plugin_bench/build" \
  "$here/plugins/arcaflow_plugin_bench/"*.egg-info
echo "plugin venv: $plugin_venv"
"$plugin_venv/bin/python" -c 'import arcaflow_plugin_bench, importlib.metadata as m; print("arcaflow-plugin-sdk", m.version("arcaflow-plugin-sdk"))'

# Ours as installed by a user: a development venv adds ~12 ms to every interpreter start
# (the editable-install finder and coverage's .pth hook), ours and its plugins' alike.
"$python" -m venv --clear "$ours_venv"
"$ours_venv/bin/pip" install --quiet --disable-pip-version-check "$here/.." \
  arcaflow-plugin-sdk==0.14.3
rm -rf "$here/../build"
echo "ours venv: $ours_venv ($("$ours_venv/bin/arcaflow-steps" --version))"
