"""Warm-ups: which are called, with what, how failures are contained, and what ``run`` imports
before calling them."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import types
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from arcaflow_steps._entry_points import PROVIDER_GROUP, WARM_UP_GROUP, EntryPointInfo
from arcaflow_steps._warm_up import WarmUps, start_warm_ups, usable_warm_ups

MODULE = "_arcaflow_steps_warm_up_fixture"


class Recorder:
    """The warm-up functions of a fixture module; records calls and closes in ``log``."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def handle(self, name: str, *, fail_close: bool = False) -> Any:
        log = self.log

        class Handle:
            def close(self) -> None:
                log.append(("close", name))
                if fail_close:
                    raise RuntimeError(f"{name} cannot close")

        return Handle()

    def module(self) -> types.ModuleType:
        module = types.ModuleType(MODULE)

        def plugin(definitions: Sequence[Mapping[str, Any]]) -> Any:
            self.log.append(("plugin", definitions))
            return self.handle("plugin")

        def shell(definitions: Sequence[Mapping[str, Any]]) -> Any:
            self.log.append(("shell", definitions))
            return self.handle("shell", fail_close=True)

        def nothing(definitions: Sequence[Mapping[str, Any]]) -> None:
            self.log.append(("nothing", definitions))

        def broken(definitions: Sequence[Mapping[str, Any]]) -> Any:
            raise ValueError("warm-up bug")

        module.__dict__.update(plugin=plugin, shell=shell, nothing=nothing, broken=broken)
        return module


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setitem(sys.modules, MODULE, recorder.module())
    return recorder


def info(group: str, name: str, value: str = "", distribution: str = "acme-steps") -> Any:
    return EntryPointInfo(group, name, value or MODULE, distribution, "1.0")


def provider(kind: str, distribution: str = "acme-steps") -> Any:
    return info(PROVIDER_GROUP, kind, f"acme.{kind}", distribution)


def warm_up(kind: str, function: str | None = None, distribution: str = "acme-steps") -> Any:
    return info(WARM_UP_GROUP, kind, f"{MODULE}:{function or kind}", distribution)


def test_each_kind_is_warmed_up_once_with_all_its_definitions(recorder: Recorder) -> None:
    definitions = [
        {"plugin": {"src": "a"}},
        {"kind": "shell", "command": "true"},
        {"kind": "plugin", "plugin": {"src": "b"}},
        {"kind": "dummy"},  # no warm-up for dummy
        "not a mapping",
        {"kind": 7},  # not a kind
    ]
    providers = [provider("plugin"), provider("shell"), provider("dummy")]
    warm_ups = start_warm_ups(providers, [warm_up("plugin"), warm_up("shell")], definitions)
    assert recorder.log == [
        ("plugin", (definitions[0], definitions[2])),
        ("shell", (definitions[1],)),
    ]
    assert warm_ups.kinds == ("plugin", "shell")
    recorder.log.clear()
    warm_ups.close()
    assert recorder.log == [("close", "shell"), ("close", "plugin")]  # last started first
    warm_ups.close()
    assert recorder.log == [("close", "shell"), ("close", "plugin")]  # closed once


def test_kinds_without_definitions_are_not_warmed_up(recorder: Recorder) -> None:
    start_warm_ups([provider("shell")], [warm_up("shell")], [{"plugin": {}}]).close()
    assert recorder.log == []


def test_a_failing_warm_up_is_logged_and_ignored(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="arcaflow_steps")
    providers = [provider("plugin"), provider("shell"), provider("gone")]
    warm_ups = start_warm_ups(
        providers,
        [
            warm_up("plugin", "broken"),
            warm_up("shell"),
            info(WARM_UP_GROUP, "gone", "no_such_module_for_warm_ups:warm_up"),
        ],
        [{"plugin": {}}, {"kind": "shell"}, {"kind": "gone"}],
    )
    assert warm_ups.kinds == ("shell",)
    warm_ups.close()  # shell's close raises: logged too
    messages = [record.getMessage() for record in caplog.records]
    assert any("'plugin'" in m and "failed while starting" in m for m in messages)
    assert any("'gone'" in m and "failed while starting" in m for m in messages)
    assert any("'shell'" in m and "failed while closing" in m for m in messages)


def test_a_warm_up_that_returns_nothing_is_not_kept(recorder: Recorder) -> None:
    warm_ups = start_warm_ups(
        [provider("dummy")], [warm_up("dummy", "nothing")], [{"kind": "dummy"}]
    )
    assert recorder.log == [("nothing", ({"kind": "dummy"},))]
    assert warm_ups.kinds == ()


def test_only_the_distribution_providing_the_kind_may_warm_it_up() -> None:
    providers = [
        provider("plugin"),
        provider("shell"),
        provider("twin", "a"),
        provider("twin", "b"),
    ]
    usable = usable_warm_ups(
        providers,
        [
            warm_up("plugin"),
            warm_up("shell", distribution="intruder"),  # not the provider's distribution
            warm_up("twin", distribution="a"),  # the kind itself is declared twice
            warm_up("orphan"),  # no such kind
        ],
    )
    assert list(usable) == ["plugin"]
    assert usable_warm_ups([provider("x")], [warm_up("x"), warm_up("x", "other")]) == {}


def test_warm_ups_close_as_a_context_manager(recorder: Recorder) -> None:
    with start_warm_ups([provider("plugin")], [warm_up("plugin")], [{}]) as warm_ups:
        assert isinstance(warm_ups, WarmUps)
    assert recorder.log[-1] == ("close", "plugin")


def test_run_imports_nothing_heavy_before_the_warm_ups() -> None:
    """Everything ``run`` imports before calling the warm-ups, and the built-in warm-up itself,
    stays free of attrs, pluggy, cattrs, rich and the schema package: each would delay the
    plugin interpreter the warm-up exists to start early."""
    code = textwrap.dedent(
        """\
        import sys
        import arcaflow_steps.cli, arcaflow_steps.cli._run, arcaflow_steps.cli._files
        import arcaflow_steps._entry_points, arcaflow_steps._warm_up
        import arcaflow_steps_builtin.deployers._python_warm_up
        from arcaflow_steps import DeploymentError, StepDefinitionError
        heavy = ("attr", "attrs", "pluggy", "cattrs", "rich", "arcaflow_steps._schema",
                 "arcaflow_steps._registry", "arcaflow_steps_builtin.deployers.python")
        print(sorted(name for name in heavy if name in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
