"""The config file of ``arcaflow-steps workflow``: the Go engine's keys, checked against our
deployers, mapped to step defaults; ``logged_outputs`` logs stage outputs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import Registry, StepEvent, StepEventKind
from arcaflow_steps.cli._workflow_config import (
    WorkflowConfig,
    WorkflowConfigError,
    check_deployers,
    parse_config,
    step_defaults,
)
from arcaflow_steps.cli._workflow_log import LoggedOutputs, WorkflowLog
from arcaflow_steps_builtin.deployers import _hooks as deployers_module

SOURCE = "/wf/config.yaml"


@pytest.fixture
def deploy_schema() -> Iterator[Any]:
    """The plugin provider's ``deploy_schema`` of a registry with the built-in deployers."""
    registry = Registry.from_plugins([plugin_module, deployers_module])
    yield registry.get("plugin").deploy_schema  # type: ignore[attr-defined]
    registry.close()


def test_a_go_engine_config_is_read() -> None:
    """Every key of the Go engine's config; ``log.destination`` is accepted (logs go to
    stderr, as the Go engine's do)."""
    config = parse_config(
        {
            "log": {"level": "debug", "destination": "stdout"},
            "deployers": {
                "python": {"deployer_name": "python", "workdir": "/tmp/af"},
                "image": {"deployer_name": "docker"},
            },
            "logged_outputs": {"error": {"level": "warning"}, "success": {}},
            "plugins": ["quay.io/arcalot/example"],
        },
        source=SOURCE,
    )
    assert (
        WorkflowConfig(
            log_level="debug",
            deployers={
                "python": {"deployer_name": "python", "workdir": "/tmp/af"},
                "image": {"deployer_name": "docker"},
            },
            logged_outputs={"error": "warning", "success": "info"},
            plugins=("quay.io/arcalot/example",),
            source=SOURCE,
        )
        == config
    )


@pytest.mark.parametrize("data", [None, {}])
def test_an_empty_config_is_the_default(data: Any) -> None:
    """An empty file (or ``{}``) is the default config: level info, our default deployers."""
    assert WorkflowConfig(source=SOURCE) == parse_config(data, source=SOURCE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"foo": 1},
            "unknown field 'foo'; valid fields: 'deployers', 'log', 'logged_outputs', "
            "'plugins' @ $",
        ),
        (
            {"log": {"level": "verbose"}},
            "expected one of 'debug', 'error', 'info', 'warning', got 'verbose' @ $.log.level",
        ),
        (
            {"log": {"destination": "stderr"}},
            "expected one of 'stdout', got 'stderr' @ $.log.destination",
        ),
        (
            {"deployers": {"python": "python"}},
            "expected a mapping, got 'python' @ $.deployers.python",
        ),
        (
            {"deployers": {"python": {"workdir": "/x"}}},
            "missing field 'deployer_name' (a string) @ $.deployers.python",
        ),
        ({"plugins": [""]}, None),
        ({"logged_outputs": {"a b": {"level": "info"}}}, None),
        ([1], None),
    ],
)
def test_config_mistakes_name_their_path(data: Any, message: str | None) -> None:
    """Unknown keys list the valid ones; every problem names its path in the file."""
    with pytest.raises(WorkflowConfigError) as excinfo:
        parse_config(data, source=SOURCE)
    text = str(excinfo.value)
    assert text.startswith(f"{SOURCE}: ")
    if message is not None:
        assert f"{SOURCE}: {message}" == text
    else:
        assert re.search(r" @ \$", text), text


def test_deployers_are_checked_against_the_installed_deployers(deploy_schema: Any) -> None:
    """Each ``deployers`` entry must name a deployer of its type with a configuration that
    deployer accepts (Go: 'expected one of: python')."""
    config = parse_config(
        {
            "deployers": {
                "python": {"deployer_name": "python", "workdir": "/x", "foo": 1},
                "image": {"deployer_name": "kubernetes"},
                "nope": {"deployer_name": "x"},
            }
        },
        source=SOURCE,
    )
    with pytest.raises(WorkflowConfigError) as excinfo:
        check_deployers(config, deploy_schema)
    assert (
        f"{SOURCE}: unknown field 'foo'; valid fields: 'forkServer', 'modulePullPolicy', "
        "'pythonPath', 'pythonSemver', 'workdir' @ $.deployers.python\n"
        "invalid discriminator 'kubernetes'; valid values: 'docker', 'podman' "
        "@ $.deployers.image.deployer_name\n"
        "unknown deployment type 'nope'; valid: 'command', 'image', 'python' @ $.deployers.nope"
    ) == str(excinfo.value)


def test_valid_deployers_pass(deploy_schema: Any) -> None:
    """Go's python deployer fields are ours too."""
    config = parse_config(
        {
            "deployers": {
                "python": {
                    "deployer_name": "python",
                    "pythonPath": "/usr/bin/python3",
                    "workdir": "/tmp/af",
                    "modulePullPolicy": "Always",
                    "pythonSemver": "3.11.2",
                },
                "image": {"deployer_name": "podman"},
            }
        }
    )
    check_deployers(config, deploy_schema)


def test_a_plugin_step_without_deploy_gets_its_types_entry() -> None:
    """The Go engine reuses the config's deployer for a step without ``deploy``; a step with
    its own ``deploy`` keeps only that; other kinds and types are untouched."""
    entry = {"deployer_name": "python", "workdir": "/tmp/af"}
    fill_in = step_defaults(parse_config({"deployers": {"python": entry}}))
    plain = {"plugin": {"src": "x", "deployment_type": "python"}, "input": {}}
    assert {**plain, "deploy": entry} == fill_in("a", "plugin", plain)
    own = {**plain, "deploy": {"deployer_name": "python"}}
    assert own == fill_in("a", "plugin", own)
    image = {"plugin": {"src": "x", "deployment_type": "image"}, "input": {}}
    assert image == fill_in("a", "plugin", image)
    assert {"workflow": "sub.yaml"} == fill_in("f", "foreach", {"workflow": "sub.yaml"})
    no_config = step_defaults(parse_config(None))
    assert plain == no_config("a", "plugin", plain)


def test_logged_outputs_log_at_their_level(capsys: pytest.CaptureFixture[str]) -> None:
    """A stage ending with a listed output id is logged at its level, in the Go engine's line
    format; levels below the log level and other ids are not."""
    log = WorkflowLog("info")
    observer = LoggedOutputs(log, {"error": "warning", "success": "debug"})
    for output_id, kind in (
        ("error", StepEventKind.COMPLETED),
        ("success", StepEventKind.COMPLETED),
        ("resolved", StepEventKind.STAGE_CHANGED),
    ):
        observer.on_event(
            StepEvent(
                step_id="p",
                sequence=1,
                kind=kind,
                previous_output_id=output_id,
                previous_output={"error": "no"},
            )
        )
    lines = capsys.readouterr().err.splitlines()
    assert 2 == len(lines), lines
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\twarning\tsource=workflow\t"
        r'Output ID for step "p" is "error"\.',
        lines[0],
    ), lines
    assert 'Output data: {"error": "no"}' == lines[1]
