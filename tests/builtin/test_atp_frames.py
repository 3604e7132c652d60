"""Bounded memory on the ATP wire: the frame reader, the message limit, large outputs."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cbor2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from plugin_support import PLUGINS, ROOT, descendants, wait_gone
from test_atp import PROMPT, LocalProcessConnection, Spawn, spawn  # noqa: F401 (a fixture)
from test_plugin_cli import CLI

from arcaflow_steps import LocalProtocolError, RemoteProtocolError
from arcaflow_steps_builtin.plugin._atp import ATPClient
from arcaflow_steps_builtin.plugin._atp_frames import (
    DEFAULT_MAX_MESSAGE_BYTES,
    EndOfStreamError,
    FrameReader,
    MessageTooLargeError,
    TruncatedFrameError,
)

LARGE = str(PLUGINS / "fake_large.py")
MB = 1_000_000


def frames(data: bytes, *, limit: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[Any]:
    """Return every frame the reader decodes from ``data``, read as a pipe would give it."""
    reader = FrameReader(io.BufferedReader(io.BytesIO(data), 7), max_message_bytes=limit)
    items = []
    while True:
        try:
            items.append(reader.read_frame())
        except EndOfStreamError:
            return items


# -- the frame reader ------------------------------------------------------------------------

json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_like, min_size=1, max_size=4))
def test_frames_decode_as_cbor2_does(items: list[Any]) -> None:
    """Back-to-back items come out one per frame, equal to what cbor2 decodes."""
    assert items == frames(b"".join(cbor2.dumps(item) for item in items))


@settings(max_examples=200, deadline=None)
@given(json_like, st.integers(min_value=1, max_value=400))
def test_limit_refuses_exactly_the_frames_above_it(item: Any, limit: int) -> None:
    """A frame decodes if it fits the limit, and is refused (naming at most its size) if not."""
    data = cbor2.dumps(item)
    if len(data) <= limit:
        assert [item] == frames(data, limit=limit)
    else:
        with pytest.raises(MessageTooLargeError) as excinfo:
            frames(data, limit=limit)
        assert limit < excinfo.value.size <= len(data)


def test_large_and_indefinite_strings_are_read_out_of_line() -> None:
    """Strings past 64 KiB, text or bytes, definite or chunked, decode whole and in place."""
    text = "ä" * 70_000
    blob = bytes(range(256)) * 300
    chunked = b"\x7f" + cbor2.dumps("ab") + cbor2.dumps("c" * 70_000) + b"\xff"
    item = {"text": text, "blob": blob, "list": [text, 1, blob]}
    data = cbor2.dumps(item) + b"\xa1\x61k" + chunked + cbor2.dumps([1])
    assert [item, {"k": "ab" + "c" * 70_000}, [1]] == frames(data)


def frames_taking(data: bytes, expected: bytes, expected_item: Any) -> list[Any]:
    """Like :func:`frames`, the first frame taken undecoded if it is ``expected`` (the
    caller's ``expected_item`` stands for it)."""
    reader = FrameReader(io.BufferedReader(io.BytesIO(data), 7), max_message_bytes=MB)
    items = []
    if reader.take_frame(expected):
        assert expected == reader.frame_bytes
        items.append(expected_item)
    while True:
        try:
            items.append(reader.read_frame())
        except EndOfStreamError:
            return items


@settings(max_examples=200, deadline=None)
@given(st.lists(json_like, min_size=1, max_size=4), json_like, st.integers(0, 3))
def test_a_frame_taken_undecoded_changes_nothing_but_the_work(
    items: list[Any], other: Any, cut: int
) -> None:
    """``take_frame`` (a repeated hello) takes exactly the expected frame or nothing: whether
    the stream starts with it, differs, ends inside it or holds only its start, what is read
    after it (frames or error) is what the walk reads."""
    encoded = [cbor2.dumps(item) for item in items]
    data = b"".join(encoded)
    for expected, item in ((encoded[0], items[0]), (cbor2.dumps(other), other)):
        for stream in (data, data[: max(0, len(encoded[0]) - cut)], b""):
            try:
                walked: Any = frames(stream, limit=MB)
            except TruncatedFrameError as exc:
                walked = str(exc)
            try:
                taken: Any = frames_taking(stream, expected, item)
            except TruncatedFrameError as exc:
                taken = str(exc)
            assert walked == taken


def test_an_expected_frame_above_the_limit_is_not_taken() -> None:
    """A repeat of an expected frame larger than the reader's limit is refused, as walked."""
    data = cbor2.dumps({"steps": ["x" * 100]})
    reader = FrameReader(io.BufferedReader(io.BytesIO(data), 7), max_message_bytes=50)
    assert not reader.take_frame(data)
    with pytest.raises(MessageTooLargeError):
        reader.read_frame()


def test_a_frame_keeps_its_bytes_unless_a_string_was_read_out_of_line() -> None:
    """``frame_bytes`` is each frame as sent (what the schema cache keys on); None for a frame
    a large string was taken out of, whose remaining bytes do not identify it."""
    small, large = {"steps": {"a": [1, "x"]}}, {"text": "x" * 70_000}
    data = [cbor2.dumps(small), cbor2.dumps(large), cbor2.dumps(small)]
    reader = FrameReader(io.BufferedReader(io.BytesIO(b"".join(data)), 7), max_message_bytes=MB)
    seen = []
    for _ in data:
        reader.read_frame()
        seen.append(reader.frame_bytes)
    assert [data[0], None, data[2]] == seen


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            b"\x81" * 129 + b"\x01",
            "a message nests deeper than 128 levels (after 129 bytes: " + repr(b"\x81" * 80) + ")",
            id="too-deep",
        ),
        pytest.param(
            b"\x82\xd8\x1c\x81\x01\xd8\x1d\x00",
            "malformed CBOR: tag 28 (a shared value), which ATP does not use (bytes: "
            "b'\\x82\\xd8\\x1c\\x81\\x01\\xd8\\x1d\\x00')",
            id="shared-value",
        ),
        pytest.param(
            b"\xd9\x01\x00\x80",
            "malformed CBOR: tag 256 (a string reference namespace), which ATP does not use "
            "(bytes: b'\\xd9\\x01\\x00\\x80')",
            id="string-references",
        ),
        pytest.param(
            b"\xff",
            "malformed CBOR: a break code outside an indefinite-length item (bytes: b'\\xff')",
            id="stray-break",
        ),
        pytest.param(
            b"\x1c",
            "malformed CBOR: the reserved head 0x1c (bytes: b'\\x1c')",
            id="reserved-head",
        ),
        pytest.param(
            b"\x7a\x00\x01\x00\x00" + b"\xff" * 65536,
            "malformed CBOR: a text string of 65536 bytes is not UTF-8 (invalid start byte at "
            "byte 0)",
            id="bad-utf8",
        ),
    ],
)
def test_refused_frames(data: bytes, message: str) -> None:
    """Nesting past the limit, expanding tags and malformed heads are one clear error."""
    with pytest.raises(RemoteProtocolError) as excinfo:
        frames(data)
    assert message == str(excinfo.value)


def test_truncated_large_string() -> None:
    """EOF inside a large string says how far the message got."""
    with pytest.raises(TruncatedFrameError) as excinfo:
        frames(b"\x5a\x00\x10\x00\x00" + b"\x00" * 70_000)
    assert (
        "truncated CBOR: stdout ended in the middle of a string of 1048576 bytes (after 70005 "
        "bytes of the message: " + repr(b"\x5a\x00\x10\x00\x00" + b"\x00" * 75) + ")"
    ) == str(excinfo.value)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        pytest.param(b"\x5b" + (2**40).to_bytes(8, "big"), 2**40 + 9, id="announced"),
        pytest.param(cbor2.dumps(["x" * 600] * 2), 1207, id="many-small-items"),
    ],
)
def test_message_limit(data: bytes, size: int) -> None:
    """A frame past the limit is refused before it is read (an announced size) or as it grows."""
    with pytest.raises(MessageTooLargeError) as excinfo:
        frames(data, limit=1000)
    assert (
        f"a message of at least {size} bytes exceeds the limit of 1000 bytes (set "
        "ARCAFLOW_STEPS_MAX_MESSAGE_BYTES to raise it)"
    ) == str(excinfo.value)


# -- a real plugin ---------------------------------------------------------------------------


def test_output_past_the_limit_fails_the_run(spawn: Spawn) -> None:  # noqa: F811
    """A WORK_DONE larger than the limit ends the run with the limit error, promptly."""
    connection = spawn("fake_large")
    client = ATPClient(connection, max_message_bytes=MB)
    client.handshake(timeout=10.0)
    handle = client.start_run("r", "large", {"size": 2 * MB})
    assert handle.wait(PROMPT)
    assert (
        f"plugin {connection.description}: a message of at least 2000080 bytes exceeds the "
        "limit of 1000000 bytes (set ARCAFLOW_STEPS_MAX_MESSAGE_BYTES to raise it)"
    ) == str(handle.exception(0))
    client.close(1.0)


def test_announced_size_is_refused_without_reading(spawn: Spawn) -> None:  # noqa: F811
    """A head announcing 1 TB fails the run at once; nothing of that size is allocated."""
    connection = spawn("fake_large")
    client = ATPClient(connection)
    client.handshake(timeout=10.0)
    handle = client.start_run("r", "announce", {"size": 10**12})
    assert handle.wait(PROMPT)
    assert (
        f"plugin {connection.description}: a message of at least {10**12 + 80} bytes exceeds "
        f"the limit of {DEFAULT_MAX_MESSAGE_BYTES} bytes (set ARCAFLOW_STEPS_MAX_MESSAGE_BYTES "
        "to raise it)"
    ) == str(handle.exception(0))
    client.close(1.0)


def test_deep_output_fails_the_run(spawn: Spawn) -> None:  # noqa: F811
    """An output nested 200 levels ends the run with the depth error, not a RecursionError."""
    connection = spawn("fake_large")
    client = ATPClient(connection)
    client.handshake(timeout=10.0)
    handle = client.start_run("r", "deep-output", {})
    assert handle.wait(PROMPT)
    assert str(handle.exception(0)).startswith(
        f"plugin {connection.description}: a message nests deeper than 128 levels (after 185 "
        "bytes: "
    )
    client.close(1.0)


def test_invalid_limit_setting(spawn: Spawn, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A limit that is not a positive integer is refused, naming the variable."""
    monkeypatch.setenv("ARCAFLOW_STEPS_MAX_MESSAGE_BYTES", "10MB")
    with pytest.raises(LocalProtocolError) as excinfo:
        ATPClient(spawn("fake_large"))
    assert (
        "ARCAFLOW_STEPS_MAX_MESSAGE_BYTES must be a positive integer number of bytes, got '10MB'"
    ) == str(excinfo.value)


# -- the CLI ---------------------------------------------------------------------------------


def run_large(
    tmp_path: Path,
    size: int,
    *args: str,
    env: dict[str, str] | None = None,
    cli: str = CLI,
    deploy: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """Run the ``large`` step with ``arcaflow-steps run``; return it and its peak RSS in bytes."""
    path = tmp_path / "large.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "plugin": {"src": LARGE, "deployment_type": "python"},
                "step": "large",
                "input": {"size": size},
                **({"deploy": deploy} if deploy else {}),
            }
        )
    )
    # A parent of its own, so RUSAGE_CHILDREN is the CLI's (and its plugin's) alone.
    measure = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'wb') as out:\n"
        "    code = subprocess.run(sys.argv[2:], stdout=out, check=False).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
        "sys.exit(code)\n"
    )
    output = tmp_path / "stdout"
    completed = subprocess.run(
        [sys.executable, "-c", measure, str(output), cli, "run", "-q", str(path), *args],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
    peak = int(completed.stdout)
    completed.stdout = output.read_bytes()
    return completed, peak


@pytest.mark.slow
@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_100_mb_output_passes_with_bounded_memory(tmp_path: Path, output_format: str) -> None:
    """A 100 MB output string is printed whole; the CLI's peak RSS stays under 3x its size."""
    completed, peak = run_large(tmp_path, 100 * MB, "--format", output_format)
    assert 0 == completed.returncode, completed.stderr
    assert peak <= 300 * MB, f"peak RSS {peak / MB:.0f} MB"
    assert 100 * MB == completed.stdout.count(b"x")
    assert 100 * MB + 200 > len(completed.stdout)
    assert set() == wait_gone(descendants())


def test_output_past_the_limit_crashes_the_step(tmp_path: Path) -> None:
    """Above ARCAFLOW_STEPS_MAX_MESSAGE_BYTES the step ends crashed (exit 3) with the limit."""
    completed, _ = run_large(tmp_path, 2 * MB, env={"ARCAFLOW_STEPS_MAX_MESSAGE_BYTES": str(MB)})
    assert 3 == completed.returncode, completed.stderr
    result = yaml.safe_load(completed.stdout)["large"]
    assert "crashed" == result["stage"]
    assert (
        "a message of at least 2000084 bytes exceeds the limit of 1000000 bytes (set "
        "ARCAFLOW_STEPS_MAX_MESSAGE_BYTES to raise it)"
    ) in result["output_data"]["output"]
    assert set() == wait_gone(descendants())


# -- deeply nested plugin schemas --------------------------------------------------------------


def deep_schema_step(tmp_path: Path) -> str:
    path = tmp_path / "deep.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "plugin": {
                    "src": str(PLUGINS / "fake_deep_schema.py"),
                    "deployment_type": "python",
                },
                "input": {"value": []},
            }
        )
    )
    return str(path)


@pytest.mark.parametrize(
    ("depth", "problem"),
    [
        pytest.param(
            500,
            "a message nests deeper than 128 levels (after 2487 bytes: b'\\xa2gversion\\x03fschema"
            "\\xa1esteps\\xa1ddeep\\xa3bidddeepeinput\\xa2drooteInputgobjects\\xa1eInput"
            "\\xa2bideInp')",
            id="past-the-frame-depth",
        ),
        pytest.param(
            110,
            "invalid schema: the schema nests deeper than 100 mappings and lists @ "
            "$['steps']['deep']['input']['objects']['Input']['properties']['value']['type']"
            + "['items']" * 9
            + "[…",
            id="past-the-schema-depth",
        ),
    ],
)
def test_deep_plugin_schema_is_one_line_exit_3(tmp_path: Path, depth: int, problem: str) -> None:
    """A plugin whose schema nests too deep fails to start: one line, exit 3, no traceback."""
    completed = subprocess.run(
        [CLI, "run", "-q", deep_schema_step(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "FAKE_SCHEMA_DEPTH": str(depth)},
        timeout=60,
        check=False,
    )
    assert 3 == completed.returncode, completed.stderr
    source = PLUGINS / "fake_deep_schema.py"
    pid = f"plugin python {source} [forked] (pid {{pid}}): " if depth == 500 else ""
    expected = (
        f"arcaflow-steps: error: {tmp_path / 'deep.yaml'}: plugin '{source}' did not start: "
        f"{pid}{problem}\n"
    )
    assert re.fullmatch(re.escape(expected).replace(r"\{pid\}", r"\d+"), completed.stderr), (
        completed.stderr
    )
    assert 1 == completed.stderr.count("\n")
    assert set() == wait_gone(descendants())


def test_endless_errors_and_signals_are_bounded(
    spawn: Spawn,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A run keeps its first 1000 non-fatal ERRORs and SIGNALs (so does the connection), says
    once that it drops the rest, and still ends with its result."""
    connection = spawn("fake_large")
    client = ATPClient(connection)
    client.handshake(timeout=10.0)
    handle = client.start_run("r", "chatty", {"size": 3000})
    result = handle.result(PROMPT * 4)
    assert "done" == result.output_data["message"]
    assert (1000, 1000, 1000) == (len(result.errors), len(handle.signals()), len(client.errors()))
    assert "warning 999" == result.errors[-1].error
    overflow = [
        record.getMessage()
        for record in caplog.records
        if "keeping the first" in record.getMessage()
    ]
    assert [
        f"plugin {connection.description}: more than 1000 {what} messages for {whose}; keeping "
        "the first 1000, dropping the rest"
        for what, whose in [
            ("non-fatal ERROR", "run 'r'"),
            ("non-fatal ERROR", "the connection"),
            ("SIGNAL", "run 'r'"),
        ]
    ] == overflow
    client.close(1.0)
