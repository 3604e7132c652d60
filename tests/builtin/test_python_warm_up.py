"""The ``plugin`` kind's warm-up: which interpreter it starts, and that the run reuses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from plugin_support import GREETER_PACKAGE, HELLO, PLUGINS, descendants, is_running, wait_gone

from arcaflow_steps_builtin.deployers._forkserver import (
    acquire_fork_server,
    close_all_fork_servers,
    release_fork_server,
)
from arcaflow_steps_builtin.deployers._python_paths import venv_directory
from arcaflow_steps_builtin.deployers._python_warm_up import (
    plugin_step_interpreter,
    warm_up_python_steps,
)
from arcaflow_steps_builtin.deployers.python import PythonDeployerFactory, parse_python_source

PIP_SOURCE = "arcaflow-plugin-greeter@git+https://example.invalid/greeter.git@v1"


@pytest.fixture(autouse=True)
def _no_fork_server_left() -> Iterator[None]:
    yield
    close_all_fork_servers()


def step(src: str = HELLO, deployment_type: str = "python", **extra: Any) -> dict[str, Any]:
    return {"plugin": {"src": src, "deployment_type": deployment_type}, **extra}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (step(), sys.executable),
        (step(str(GREETER_PACKAGE)), sys.executable),
        (step("some_module"), sys.executable),
        (step(deploy={"deployer_name": "python"}), sys.executable),
        (step(deploy={"pythonPath": "/opt/python3"}), "/opt/python3"),
        (step(deploy={"deployer_name": "python", "pythonPath": "py3"}), "py3"),
        (step(deploy={"forkServer": True}), sys.executable),
    ],
)
def test_the_interpreter_of_a_local_source(definition: dict[str, Any], expected: str) -> None:
    assert plugin_step_interpreter(definition) == expected


@pytest.mark.parametrize(
    "definition",
    [
        step(deployment_type="image"),
        step(deployment_type="command"),
        step(deploy={"deployer_name": "command"}),
        step(deploy={"forkServer": False}),
        step(PIP_SOURCE),  # not installed yet: the deployer installs first
        step(PIP_SOURCE, deploy={"modulePullPolicy": "Always"}),
        {"plugin": "not a mapping"},
        {"plugin": {"deployment_type": "python"}},  # no src
        {"plugin": {"src": 42, "deployment_type": "python"}},
        step(deploy="python"),
        step(deploy={"pythonPath": ["python3"]}),
        {},
    ],
)
def test_definitions_it_is_not_sure_about_are_left_alone(definition: dict[str, Any]) -> None:
    assert plugin_step_interpreter(definition) is None


def test_a_pip_source_with_a_complete_cached_environment(tmp_path: Path) -> None:
    deploy = {"workdir": str(tmp_path), "pythonSemver": "3.11.7"}
    deployer = PythonDeployerFactory().create(deploy)
    directory = deployer.venv_dir(parse_python_source(PIP_SOURCE))
    # The warm-up computes the same place as the deployer (one function serves both).
    assert directory == venv_directory(
        PIP_SOURCE,
        "arcaflow_plugin_greeter",
        python_path=sys.executable,
        python_semver="3.11.7",
        workdir=str(tmp_path),
    )
    assert plugin_step_interpreter(step(PIP_SOURCE, deploy=deploy)) is None
    directory.mkdir(parents=True)
    (directory / ".ready").write_text(PIP_SOURCE)
    assert plugin_step_interpreter(step(PIP_SOURCE, deploy=deploy)) == str(
        directory / "venv" / "bin" / "python"
    )
    always = {**deploy, "modulePullPolicy": "Always"}
    assert plugin_step_interpreter(step(PIP_SOURCE, deploy=always)) is None


def test_one_fork_server_per_interpreter_shared_with_the_deployer() -> None:
    before = descendants()
    warm = warm_up_python_steps([step(), step(str(GREETER_PACKAGE)), step(deployment_type="image")])
    assert warm is not None
    assert len(warm.servers) == 1
    zygotes = descendants() - before
    assert len(zygotes) == 1  # started at once, not on first use
    server = acquire_fork_server(sys.executable)  # what the python deployer does
    assert server is warm.servers[0]
    warm.close()
    warm.close()  # idempotent
    (zygote,) = zygotes
    assert is_running(zygote)  # the deployer still holds it
    release_fork_server(server)
    assert not wait_gone(zygotes)


def test_nothing_to_warm_up() -> None:
    assert warm_up_python_steps([step(deployment_type="image"), "garbage"]) is None  # type: ignore[list-item]


def test_a_missing_interpreter_starts_nothing() -> None:
    before = descendants()
    assert warm_up_python_steps([step(deploy={"pythonPath": "/nonexistent/python3"})]) is None
    assert descendants() == before


INTROSPECT = str(PLUGINS / "plugin_introspect.py")

#: Runs the CLI; reports on stderr how many zygotes it forked from itself and how many it started
#: as ``python _zygote.py`` (and apart from those, how many launchers it started), and whether
#: the plugin provider was imported before any of them.
AUDIT_STARTS = """\
import sys

forks, scripts, launchers, provider_first = [], [], [], []
def audit(event, args):
    is_script = event == "subprocess.Popen" and any("_zygote" in str(a) for a in args[1])
    if is_script and "-S" in args[1]:  # a launcher (forkServer: false, command)
        launchers.append(1)
    elif event == "os.fork" or is_script:
        (scripts if is_script else forks).append(1)
        provider_first.append("arcaflow_steps_builtin.plugin" in sys.modules)
sys.addaudithook(audit)
from arcaflow_steps.cli import main
code = main(sys.argv[1:])
print(f"forked zygotes: {len(forks)}; started zygotes: {len(scripts)}", file=sys.stderr)
print(f"launchers: {len(launchers)}", file=sys.stderr)
print(f"provider imported first: {any(provider_first)}", file=sys.stderr)
sys.exit(code)
"""


def run_audited(
    tmp_path: Path, steps: str, *options: str, python_options: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``arcaflow-steps run`` on the step file text ``steps`` under :data:`AUDIT_STARTS`
    (on this interpreter, started with ``python_options``)."""
    path = tmp_path / "steps.yaml"
    path.write_text(textwrap.dedent(steps))
    script = tmp_path / "audit_starts.py"
    script.write_text(AUDIT_STARTS)
    result = subprocess.run(
        [sys.executable, *python_options, str(script), "run", "-q", *options, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_the_run_uses_the_zygote_the_warm_up_started(tmp_path: Path) -> None:
    """One zygote for a three-step run: the warm-up's (a fork of the CLI, made before the
    plugin provider was even imported), reused by the deployer."""
    result = run_audited(
        tmp_path,
        f"""\
        steps:
          a: {{plugin: {{src: {HELLO}, deployment_type: python}}, input: {{name: a}}}}
          b: {{plugin: {{src: {HELLO}, deployment_type: python}}, input: {{name: b}}}}
          c:
            plugin: {{src: {GREETER_PACKAGE}, deployment_type: python}}
            input: {{name: c}}
        """,
    )
    assert "forked zygotes: 1; started zygotes: 0" in result.stderr
    assert "provider imported first: False" in result.stderr
    assert result.stdout.count("output_id: success") == 3


def test_a_forked_zygotes_plugin_sees_what_other_plugins_see(tmp_path: Path) -> None:
    """On its own interpreter the CLI forks the zygote from itself. A plugin forked from that
    zygote must see the process state a plugin of a started zygote sees, and one started as a
    fresh interpreter (forkServer: false): no CLI signal handler or descriptor, its own
    session, its own argv."""
    directory, name = os.path.split(sys.executable)
    same_interpreter_other_name = f"{directory}/./{name}"  # pathlib would drop the "."
    before = descendants()
    result = run_audited(
        tmp_path,
        f"""\
        steps:
          forked:
            plugin: {{src: {INTROSPECT}, deployment_type: python}}
            input: {{label: forked}}
          started:
            plugin: {{src: {INTROSPECT}, deployment_type: python}}
            input: {{label: started}}
            deploy: {{deployer_name: python, pythonPath: "{same_interpreter_other_name}"}}
          spawned:
            plugin: {{src: {INTROSPECT}, deployment_type: python}}
            input: {{label: spawned}}
            deploy: {{deployer_name: python, forkServer: false}}
        """,
        "--format",
        "json",
    )
    assert "forked zygotes: 1; started zygotes: 1" in result.stderr
    assert "launchers: 1" in result.stderr  # forkServer: false execs through a launcher
    reports = {
        step_id: record["output_data"] for step_id, record in json.loads(result.stdout).items()
    }
    assert reports["forked"] == reports["started"] == reports["spawned"]
    assert reports["forked"]["extra_fds"] == []
    assert reports["forked"]["leads_session"] is True
    assert reports["forked"]["argv"] == [INTROSPECT, "--atp"]
    assert descendants() == before


def test_a_step_with_its_own_deploy_is_probed_with_it(tmp_path: Path) -> None:
    """The schema is read with the step's own ``deploy`` (a hint to load_schema), so a step on
    another interpreter starts one zygote, the warm-up's, and its probe process runs the step;
    reading the schema with the default interpreter would start a second one."""
    result = run_audited(
        tmp_path,
        f"""\
        plugin: {{src: {HELLO}, deployment_type: python}}
        deploy: {{deployer_name: python, pythonPath: "{_other_venv(tmp_path)}"}}
        input: {{name: other}}
        """,
    )
    assert "forked zygotes: 0; started zygotes: 1" in result.stderr
    assert "Hello, other!" in result.stdout


def test_another_name_of_this_interpreter_still_forks_the_zygote(tmp_path: Path) -> None:
    """``bin/./python`` (or a venv's ``python3`` beside its ``python``) is this very
    interpreter in this very environment: the zygote is a fork of the CLI, not started."""
    directory, name = os.path.split(sys.executable)
    result = run_audited(
        tmp_path,
        f"""\
        plugin: {{src: {HELLO}, deployment_type: python}}
        deploy: {{deployer_name: python, pythonPath: "{directory}/./{name}"}}
        input: {{name: same}}
        """,
    )
    assert "forked zygotes: 1; started zygotes: 0" in result.stderr
    assert "Hello, same!" in result.stdout


def _other_venv(tmp_path: Path) -> str:
    """Return the test venv's interpreter in another directory: a venv of its own (its
    ``pyvenv.cfg``, the test venv's packages through a link), so another interpreter."""
    venv = tmp_path / "other-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    shutil.copy(Path(sys.prefix) / "pyvenv.cfg", venv / "pyvenv.cfg")
    (venv / "lib").symlink_to(Path(sys.prefix) / "lib")
    return str(venv / "bin" / "python")


@pytest.mark.parametrize(
    "python_options",
    [("-W", "error::DeprecationWarning"), ("-O",), ("-X", "dev")],
    ids=["warnings", "optimize", "dev-mode"],
)
def test_interpreter_options_are_not_forked_into_plugins(
    tmp_path: Path, python_options: tuple[str, ...]
) -> None:
    """Options given to the CLI's interpreter would reach plugins through a forked zygote (a
    started one does not see them): then the zygote is started, not forked."""
    result = run_audited(
        tmp_path,
        f"""\
        plugin: {{src: {HELLO}, deployment_type: python}}
        input: {{name: options}}
        """,
        python_options=python_options,
    )
    assert "forked zygotes: 0; started zygotes: 1" in result.stderr
    assert "Hello, options!" in result.stdout


@pytest.mark.parametrize(
    "deploy",
    [
        {},
        {"deployer_name": "python", "pythonPath": "/opt/other/python3"},
        {"deployer_name": "python", "forkServer": False},
        {"deployer_name": "python", "workdir": "/tmp/x", "pythonSemver": "3.11"},
    ],
    ids=["default", "python-path", "no-fork-server", "workdir"],
)
def test_warm_up_and_deployer_read_one_configuration_record(deploy: dict[str, Any]) -> None:
    """The warm-up reads a step's ``deploy`` into the deployer's own record, so both agree on
    the interpreter and on whether a fork server is used."""
    config = PythonDeployerFactory().create({"deployer_name": "python", **deploy}).config
    expected = config.python_path if config.fork_server else None
    assert expected == plugin_step_interpreter(step(deploy=deploy))
