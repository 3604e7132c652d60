"""Every user mistake is one line on stderr and exit 1, never a traceback (issue 9 §5)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from arcaflow_steps.cli import COMMANDS, main

Capture = pytest.CaptureFixture[str]
PREFIX = "arcaflow-steps: error: "


def run_cli(capsys: Capture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def step_file(tmp_path: Path, data: str | bytes, name: str = "steps.yaml") -> str:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return str(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            "{[a]: 1}\n",
            "{file}: invalid YAML at line 1, column 2: a list cannot be a mapping key",
            id="list-key",
        ),
        pytest.param(
            "steps:\n  {a: 1}: {kind: dummy, name: x}\n",
            "{file}: invalid YAML at line 2, column 3: a mapping cannot be a mapping key",
            id="mapping-key",
        ),
        pytest.param(
            "steps:\n  '': {kind: dummy, name: x}\n",
            "{file}: step id '' is empty; name each step @ $.steps.",
            id="empty-step-id",
        ),
        pytest.param(
            "steps:\n  ' ': {kind: dummy, name: x}\n",
            "{file}: step id ' ' is empty; name each step @ $.steps. ",
            id="blank-step-id",
        ),
        pytest.param(
            "steps:\n  1: {kind: dummy, name: x}\n",
            "{file}: step id 1 must be a string (quote it) @ $.steps",
            id="int-step-id",
        ),
        pytest.param(
            "steps:\n  ~: {kind: dummy, name: x}\n",
            "{file}: step id None must be a string (quote it) @ $.steps",
            id="null-step-id",
        ),
        pytest.param(
            b"kind: dummy\nname: \xff\n",
            "step file '{file}' is not UTF-8 text: byte 0xff at line 2 cannot be decoded",
            id="not-utf-8",
        ),
        pytest.param(
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00"
            b"\x00\x10m\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x00\xd0\x02\x00",
            "step file '{file}' is not UTF-8 text: byte 0xd0 at line 1 cannot be decoded",
            id="binary",
        ),
        pytest.param(
            "kind: dummy\nname: !!binary aGVsbG8=\n",
            "{file}: invalid YAML at line 2, column 7: unknown tag '!!binary'; valid tags: "
            "!!bool, !!float, !!int, !!map, !!null, !!seq, !!str",
            id="binary-tag",
        ),
        pytest.param(
            "kind: dummy\nname: !!python/object:os.system x\n",
            "{file}: invalid YAML at line 2, column 7: unknown tag '!!python/object:os.system'; "
            "valid tags: !!bool, !!float, !!int, !!map, !!null, !!seq, !!str",
            id="python-tag",
        ),
        pytest.param(
            "kind: dummy\nname: x\n---\nkind: dummy\n",
            "{file}: invalid YAML at line 3, column 1: a second document starts here; the file "
            "must hold exactly one",
            id="two-documents",
        ),
        pytest.param(
            "kind: [dummy]\n",
            "{file}: 'kind' of step 'steps' must be a string, got a list @ $.kind",
            id="kind-list",
        ),
        pytest.param(
            "kind: 123456789012345678901234567890\nname: x\n",
            "{file}: 'kind' of step 'steps' must be a string, got 123456789012345678901234567890 "
            "@ $.kind",
            id="huge-int",
        ),
    ],
)
def test_a_hostile_step_file_is_one_line(
    capsys: Capture, tmp_path: Path, data: str | bytes, message: str
) -> None:
    """Keys that cannot be hashed, bad step ids, bytes that are not UTF-8, unsafe tags: one
    line naming the file, exit 1, nothing on stdout."""
    file = step_file(tmp_path, data)
    expected = (1, "", PREFIX + message.format(file=file) + "\n")
    assert expected == run_cli(capsys, "run", file)


def test_non_utf_8_stdin_is_one_line(capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run -`` with bytes that are not UTF-8 on stdin: one line, exit 1."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"kind: dummy\nname: \xfe\n")))
    expected = (
        1,
        "",
        f"{PREFIX}step file '<stdin>' is not UTF-8 text: byte 0xfe at line 2 cannot be decoded\n",
    )
    assert expected == run_cli(capsys, "run", "-")


def test_an_endless_step_file_is_refused_at_64_mib(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run /dev/zero`` and ``run -`` with more than 64 MiB on stdin: one line, exit 1,
    instead of reading until memory runs out."""
    expected = (1, "", f"{PREFIX}cannot read step file '/dev/zero': larger than 64 MiB\n")
    assert expected == run_cli(capsys, "run", "/dev/zero")
    with open("/dev/zero", "rb") as zero:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(zero))
        expected = (1, "", f"{PREFIX}cannot read step file '<stdin>': larger than 64 MiB\n")
        assert expected == run_cli(capsys, "run", "-")


def test_a_directory_as_step_file_is_one_line(capsys: Capture, tmp_path: Path) -> None:
    """A directory given as FILE: one line, exit 1."""
    expected = (1, "", f"{PREFIX}step file {str(tmp_path)!r} is a directory\n")
    assert expected == run_cli(capsys, "run", str(tmp_path))


@pytest.mark.parametrize(
    ("target", "reason"),
    [("nonexistent/x.json", "No such file or directory"), ("", "Is a directory")],
    ids=["missing-directory", "a-directory"],
)
def test_schema_output_that_cannot_be_written_is_one_line(
    capsys: Capture, tmp_path: Path, target: str, reason: str
) -> None:
    """``schema -o`` into a missing directory or onto a directory: one line, exit 1."""
    output = str(tmp_path / target) if target else str(tmp_path)
    expected = (1, "", f"{PREFIX}cannot write the schema to {output!r}: {reason}\n")
    assert expected == run_cli(capsys, "schema", "-o", output)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nan", "expected a finite number of seconds above 0, got 'nan'"),
        ("inf", "expected a finite number of seconds above 0, got 'inf'"),
        ("-1", "expected a finite number of seconds above 0, got '-1'"),
        ("0", "expected a finite number of seconds above 0, got '0'"),
        ("1e400", "expected a finite number of seconds above 0, got '1e400'"),
        ("soon", "expected a number of seconds, got 'soon'"),
    ],
)
def test_timeout_must_be_finite_and_positive(
    capsys: Capture, tmp_path: Path, value: str, message: str
) -> None:
    """``--timeout`` refuses NaN, infinity, zero, negative and non-numbers: exit 1."""
    file = step_file(tmp_path, "kind: dummy\nname: x\n")
    with pytest.raises(SystemExit) as excinfo:
        main(["run", f"--timeout={value}", file])
    err = capsys.readouterr().err
    assert 1 == excinfo.value.code
    assert f"arcaflow-steps run: error: argument --timeout: {message}" == err.splitlines()[-1]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_usage_errors_exit_1_in_every_command(capsys: Capture, command: str) -> None:
    """An unknown option is a usage error: exit 1 (2 means an error output), no traceback."""
    with pytest.raises(SystemExit) as excinfo:
        main([command, "--no-such-option"])
    err = capsys.readouterr().err
    assert 1 == excinfo.value.code
    last = err.splitlines()[-1]
    assert last.startswith("arcaflow-steps"), err
    assert ": error: " in last, err
    assert "Traceback" not in err


def test_missing_arguments_exit_1(capsys: Capture) -> None:
    """``run`` without FILE and no command at all: usage errors, exit 1."""
    for args in (["run"], []):
        with pytest.raises(SystemExit) as excinfo:
            main(args)
        assert 1 == excinfo.value.code
    assert "error: the following arguments are required" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "args", [("run", "--format", "json"), ("run",), ("list",)], ids=["json", "yaml", "list"]
)
def test_output_that_cannot_be_written_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Stdout on a full device (``> /dev/full``): one line, exit 1, no traceback, and no
    second complaint when the interpreter flushes at exit."""
    cli = Path(sys.executable).with_name("arcaflow-steps")
    file = step_file(tmp_path, "kind: dummy\nname: x\n")
    extra = ("-q", file) if args[0] == "run" else ()
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [str(cli), *args, *extra],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    expected = f"{PREFIX}cannot write the output: No space left on device\n"
    assert (1, expected) == (completed.returncode, completed.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["kind"],
            "provider name 'kind' cannot be used: the scaffold's provider keyword is the kind, "
            "and these keys are taken: 'delay', 'kind', 'message'",
        ),
        (
            ["message"],
            "provider name 'message' cannot be used: the scaffold's provider keyword is the "
            "kind, and these keys are taken: 'delay', 'kind', 'message'",
        ),
        (["--directory", "{tmp}/a-file", "hello"], "'{tmp}/a-file' exists and is not a directory"),
        (
            ["--directory", "{tmp}/a-file/sub", "hello"],
            "cannot create directory '{tmp}/a-file/sub': Not a directory",
        ),
    ],
    ids=["kind", "run-keyword", "file-as-directory", "under-a-file"],
)
def test_new_provider_mistakes_are_one_line(
    capsys: Capture, tmp_path: Path, args: list[str], message: str
) -> None:
    """A scaffold whose keys would collide, or a directory that cannot be one: one line."""
    (tmp_path / "a-file").write_text("")
    argv = [arg.format(tmp=tmp_path) for arg in args]
    expected = (1, "", f"{PREFIX}{message.format(tmp=tmp_path)}\n")
    assert expected == run_cli(capsys, "new-provider", *argv)


def test_stdin_given_twice_is_one_line(capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run - -`` cannot read stdin twice (the second read was silently empty): exit 1."""
    monkeypatch.setattr("sys.stdin", io.StringIO("kind: dummy\nname: x\n"))
    expected = (1, "", f"{PREFIX}'-' (stdin) is given more than once; it can be read once\n")
    assert expected == run_cli(capsys, "run", "-", "-")


def test_ctrl_c_before_main_handles_it_is_one_line() -> None:
    """A Ctrl-C that lands before ``main`` catches it (argument parsing, command imports) ends
    the program as an interrupt does later: one line, exit 130, no traceback."""
    code = (
        "import arcaflow_steps.cli as cli\n"
        "def interrupted():\n"
        "    raise KeyboardInterrupt\n"
        "cli.main = interrupted\n"
        "cli.console_main()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (130, "", "arcaflow-steps: interrupted\n") == (
        completed.returncode,
        completed.stdout,
        completed.stderr,
    )
