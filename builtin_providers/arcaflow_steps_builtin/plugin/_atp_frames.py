"""Reading ATP frames off a plugin's stdout with bounded memory, on cbor2 5.x and 6.x.

Theory of operation. ATP frames are CBOR items written back to back, with no length prefix.
Instead of handing the pipe to ``cbor2.CBORDecoder`` (cbor2 6 refuses objects that are not
full file objects, and cbor2 5 decodes a long definite string in quadratic time and memory:
30 MB took 6.7 GB), :class:`FrameReader` walks the item heads itself, without recursion,
reading the pipe in bounded chunks, until it has one whole item:

* it counts the frame's bytes and refuses a frame above the message limit as soon as a head
  announces more (before reading or allocating it): :class:`MessageTooLargeError`;
* it refuses nesting deeper than :data:`MAX_FRAME_DEPTH` (everything downstream — schema
  parsing, validation, YAML output — recurses on the data), CBOR value sharing and string
  references (tags 25, 28, 29, 256: they expand into more data than was sent), and the
  reserved heads;
* it takes every string of :data:`_LARGE_STRING` bytes or more (and every indefinite-length
  string) out of the frame: its bytes are read into one buffer and decoded once, and the
  frame gets a private tag with the string's index in its place, which the decoder's
  ``tag_hook`` swaps back. So cbor2 only ever decodes small strings, from memory
  (``cbor2.loads``), on either major version.

Peak memory for a frame holding one string of N bytes is about 2 N (its bytes and the string
decoded from them), then N.
"""

from __future__ import annotations

import os
from typing import IO, Any, Final, NoReturn, final

import cbor2

from arcaflow_steps import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_FRAME_DEPTH",
    "MAX_MESSAGE_BYTES_ENV",
    "EndOfStreamError",
    "FrameLimitError",
    "FrameReader",
    "MessageTooLargeError",
    "TruncatedFrameError",
    "max_message_bytes_from_env",
]

#: The default limit of one ATP message, in bytes (256 MiB).
DEFAULT_MAX_MESSAGE_BYTES: Final = 256 * 1024 * 1024
#: The environment variable that sets the limit (a positive integer number of bytes).
MAX_MESSAGE_BYTES_ENV: Final = "ARCAFLOW_STEPS_MAX_MESSAGE_BYTES"
#: How deep arrays, maps and tags may nest in one frame (cbor2 6 refuses 400 on its own).
MAX_FRAME_DEPTH: Final = 128

#: Strings this long or longer are read and decoded by us, not by cbor2.
_LARGE_STRING: Final = 65536
#: How many bytes one read asks for.
_CHUNK: Final = 1024 * 1024
#: How many leading bytes of a frame an error message shows.
RAW_PREVIEW: Final = 80
#: The private tag that marks a string taken out of the frame (its value: the index).
_STRING_TAG: Final = 0x61726373  # "arcs"; unassigned by IANA
#: Tags whose values would expand into more data than was sent.
_EXPANDING_TAGS: Final = {25: "a string reference", 256: "a string reference namespace"} | {
    28: "a shared value",
    29: "a reference to a shared value",
}
_MAJOR_BYTES: Final = 2
_MAJOR_TEXT: Final = 3
_MAJOR_ARRAY: Final = 4
_MAJOR_MAP: Final = 5
_MAJOR_TAG: Final = 6
_MAJOR_SIMPLE: Final = 7
_INDEFINITE: Final = 31
_BREAK: Final = 0xFF


class EndOfStreamError(Exception):
    """The plugin's stdout ended cleanly between two frames."""


class TruncatedFrameError(RemoteProtocolError):
    """The plugin's stdout ended in the middle of a frame."""


class FrameLimitError(RemoteProtocolError):
    """A frame passes a limit; the rest of it is still on the stream."""


class MessageTooLargeError(FrameLimitError):
    """A frame is larger than the message limit."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"a message of at least {size} bytes exceeds the limit of {limit} bytes (set "
            f"{MAX_MESSAGE_BYTES_ENV} to raise it)"
        )


def max_message_bytes_from_env() -> int:
    """Return the message limit: ``$ARCAFLOW_STEPS_MAX_MESSAGE_BYTES`` or the default.

    Raises:
        LocalProtocolError: the variable is set but is not a positive integer.
    """
    raw = os.environ.get(MAX_MESSAGE_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_MESSAGE_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise LocalProtocolError(
            f"{MAX_MESSAGE_BYTES_ENV} must be a positive integer number of bytes, got {raw!r}"
        )
    return value


@final
class FrameReader:
    """Reads one CBOR item at a time from a plugin's stdout; see the module docstring.

    Thread safety: not thread-safe; confine to the connection's reader thread.
    """

    def __init__(self, stream: IO[bytes], *, max_message_bytes: int) -> None:
        self._stream = stream
        self._read = getattr(stream, "read1", stream.read)  # never waits for more than exists
        self._limit = max_message_bytes
        self._buffer = bytearray()  # bytes read but not yet part of a returned frame
        self._strings: list[str | bytes] = []
        self._base = 0  # bytes of the current frame consumed before the buffer's start
        #: The first bytes of the current frame, for error messages.
        self.head = b""
        #: The bytes of the frame ``read_frame`` returned last, exactly as the plugin sent them;
        #: None when a large string was taken out of it (see the module docstring).
        self.frame_bytes: bytes | None = None
        #: Whether the last ``read_frame`` failed inside its frame (truncated, malformed or
        #: too large): what is buffered and what the stream yields next are that frame's rest,
        #: not the frames after it.
        self.mid_frame = False

    def read_frame(self) -> Any:
        """Return the next CBOR item, decoded.

        Raises:
            EndOfStreamError: stdout ended before the first byte of a frame.
            TruncatedFrameError: stdout ended in the middle of a frame.
            MessageTooLargeError: the frame is larger than the message limit.
            RemoteProtocolError: the bytes are not a CBOR item this client accepts.
        """
        self._start_frame()
        if not self._buffer and not self._fill(1):
            raise EndOfStreamError
        self.head = bytes(self._buffer[:RAW_PREVIEW])
        try:
            frame = self._split()
        except RemoteProtocolError:
            self.mid_frame = True  # the buffer still holds (part of) the frame that failed
            raise
        strings = self._strings
        self._strings = []
        self.frame_bytes = None if strings else frame

        def tag_hook(first: object, second: object) -> object:
            # cbor2 5 calls tag_hook(decoder, tag), cbor2 6 calls tag_hook(tag, immutable).
            tag = first if isinstance(first, cbor2.CBORTag) else second
            assert isinstance(tag, cbor2.CBORTag)
            if tag.tag == _STRING_TAG:
                return strings[tag.value]
            return tag

        try:
            return cbor2.loads(frame, tag_hook=tag_hook)
        except Exception as exc:  # cbor2's semantic tags raise TypeError, ValueError, …
            raise RemoteProtocolError(f"malformed CBOR: {exc} (bytes: {self.head!r})") from exc

    def take_frame(self, expected: bytes) -> bool:
        """Consume the next frame without walking or decoding it if its bytes are exactly
        ``expected`` (``frame_bytes`` of a frame read before, whose item the caller kept: a
        source's hello) and return True; else consume nothing and return False (also at the
        end of the stream, when it ends inside ``expected``, or when ``expected`` is above the
        limit: :meth:`read_frame` then reports what is there). A well-formed CBOR item is
        never the prefix of another, and those bytes passed the walk's checks once."""
        self._start_frame()
        if not self._buffer and not self._fill(1):
            return False
        if self._take(expected) is None:
            return False
        self.frame_bytes = expected
        return True

    def _start_frame(self) -> None:
        self._base = 0
        self._strings = []
        self.head = b""
        self.mid_frame = False
        self.frame_bytes = None

    def take_buffered(self) -> bytes:
        """Return and forget the buffered bytes (for draining after a failure).

        They follow the last frame, unless ``mid_frame``: then they are part of the frame
        that failed.
        """
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    @property
    def count(self) -> int:
        """How many bytes of the current frame were consumed so far."""
        return self._base

    def _take(self, expected: bytes) -> bytes | None:
        """Consume ``expected`` if the next bytes are exactly it; else consume nothing."""
        size = len(expected)
        if size > self._limit:
            return None
        buffer = self._buffer
        while len(buffer) < size:
            if not expected.startswith(buffer) or not self._fill(size - len(buffer)):
                return None
        if not buffer.startswith(expected):
            return None
        del buffer[:size]
        self._base = size
        return expected

    # -- the walk ------------------------------------------------------------------------------

    def _split(self) -> bytes:
        """Consume one whole item; return its bytes, large strings replaced by private tags.

        The loop takes the common heads inline (a scalar, a small string or a non-empty
        array or map lying wholly in the buffer, within the limit): a method call per CBOR
        value would double the walk's cost. Everything else goes through :meth:`_head`.
        """
        out = bytearray()
        buffer = self._buffer  # one bytearray for the reader's life (changed in place only)
        pos = 0  # in the buffer; frame bytes before it: self._base + pos
        # Per open container: how many items it still expects (-1: indefinite, until break).
        pending: list[int] = []
        while True:
            opened = False
            end = min(len(buffer), self._limit - self._base)  # nothing past the limit is taken
            initial = buffer[pos] if pos < end else _BREAK
            info = initial & 31
            major = initial >> 5
            after = pos + 1 + (0 if info < 24 else 1 << (info - 24) if info < 28 else 0)
            if initial == _BREAK or info >= 28 or after > end:
                pos, opened = self._head(pos, pending, out)
            else:
                value = info if info < 24 else int.from_bytes(buffer[pos + 1 : after], "big")
                if major < _MAJOR_BYTES or major == _MAJOR_SIMPLE:
                    pos = after
                elif major < _MAJOR_ARRAY and value < _LARGE_STRING and after + value <= end:
                    pos = after + value
                elif (
                    major in (_MAJOR_ARRAY, _MAJOR_MAP) and value and len(pending) < MAX_FRAME_DEPTH
                ):
                    pending.append(value if major == _MAJOR_ARRAY else 2 * value)
                    pos, opened = after, True
                else:
                    pos, opened = self._head(pos, pending, out)
            if opened:
                continue
            # One item is complete: close every container it completes.
            while pending and pending[-1] > 0:
                pending[-1] -= 1
                if pending[-1]:
                    break
                pending.pop()
            if not pending:
                break
        if not out:
            frame = bytes(buffer[:pos])
            del buffer[:pos]
            self._base += pos
            self.head = frame[:RAW_PREVIEW]
            return frame
        self._consume(pos, out)
        return bytes(out)

    def _head(  # noqa: PLR0911 (one return per kind of head reads best)
        self, pos: int, pending: list[int], out: bytearray
    ) -> tuple[int, bool]:
        """Consume the head at ``pos`` (and a string's payload).

        Return the next position and whether the head opened a container (or a tag).
        """
        self._need(pos, 1)
        initial = self._buffer[pos]
        major, info = initial >> 5, initial & 31
        if initial == _BREAK:
            if not pending or pending[-1] != -1:
                self._malformed("a break code outside an indefinite-length item")
            pending.pop()
            return pos + 1, False
        if info == _INDEFINITE:
            if major in (_MAJOR_BYTES, _MAJOR_TEXT):
                self._consume(pos, out)
                self._take_indefinite_string(major, out)
                return 0, False
            if major not in (_MAJOR_ARRAY, _MAJOR_MAP):
                self._malformed(f"the reserved head 0x{initial:02x}")
            pending.append(-1)
            self._check_depth(pending, pos)
            return pos + 1, True
        value, after = self._argument(pos, info)
        if major in (_MAJOR_BYTES, _MAJOR_TEXT):
            if value < _LARGE_STRING:
                self._need(after, value)
                return after + value, False
            self._consume(pos, out)
            self._take_string(after - pos, value, major, out)
            return 0, False
        if major in (_MAJOR_ARRAY, _MAJOR_MAP, _MAJOR_TAG):
            if major == _MAJOR_TAG and (value in _EXPANDING_TAGS or value == _STRING_TAG):
                what = _EXPANDING_TAGS.get(value, "a tag this client reserves")
                self._malformed(f"tag {value} ({what}), which ATP does not use")
            count = {_MAJOR_ARRAY: value, _MAJOR_MAP: 2 * value, _MAJOR_TAG: 1}[major]
            if not count:  # an empty array or map is complete at once
                return after, False
            pending.append(count)
            self._check_depth(pending, after)
            return after, True
        return after, False  # integers, simple values, floats

    def _consume(self, pos: int, out: bytearray) -> None:
        """Move the buffer's first ``pos`` bytes into ``out``."""
        out += self._buffer[:pos]
        del self._buffer[:pos]
        self._base += pos

    def _argument(self, pos: int, info: int) -> tuple[int, int]:
        """Return a head's argument and the position after the head."""
        if info < 24:
            return info, pos + 1
        if info > 27:
            self._malformed(f"the reserved head 0x{self._buffer[pos]:02x}")
        size = 1 << (info - 24)
        self._need(pos + 1, size)
        return int.from_bytes(self._buffer[pos + 1 : pos + 1 + size], "big"), pos + 1 + size

    def _check_depth(self, pending: list[int], pos: int) -> None:
        if len(pending) > MAX_FRAME_DEPTH:
            raise FrameLimitError(
                f"a message nests deeper than {MAX_FRAME_DEPTH} levels (after "
                f"{self._base + pos} bytes: {self.head!r})"
            )

    def _take_string(self, head_size: int, length: int, major: int, out: bytearray) -> None:
        """Read the definite string whose head starts the buffer; put its tag into ``out``."""
        self._check_limit(head_size + length)
        del self._buffer[:head_size]
        self._base += head_size
        payload = self._buffer[:length]
        del self._buffer[:length]
        self._read_exactly(payload, length)
        self._base += length
        self._store(payload, major, out)

    def _take_indefinite_string(self, major: int, out: bytearray) -> None:
        """Read the indefinite-length string that starts the buffer; put its tag into ``out``."""
        del self._buffer[:1]
        self._base += 1
        payload = bytearray()
        while True:
            self._need(0, 1)
            initial = self._buffer[0]
            if initial == _BREAK:
                del self._buffer[:1]
                self._base += 1
                break
            if initial >> 5 != major or initial & 31 == _INDEFINITE:
                self._malformed(
                    f"a chunk with head 0x{initial:02x} inside an indefinite-length string"
                )
            length, after = self._argument(0, initial & 31)
            self._check_limit(after + length)
            del self._buffer[:after]
            self._base += after
            total = len(payload) + length
            taken = self._buffer[:length]
            del self._buffer[:length]
            payload += taken
            self._read_exactly(payload, total)
            self._base += length
        self._store(payload, major, out)

    def _store(self, payload: bytearray, major: int, out: bytearray) -> None:
        index = len(self._strings)
        if major == _MAJOR_TEXT:
            try:
                self._strings.append(payload.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise RemoteProtocolError(
                    f"malformed CBOR: a text string of {len(payload)} bytes is not UTF-8 "
                    f"({exc.reason} at byte {exc.start})"
                ) from None
        else:
            self._strings.append(bytes(payload))
        del payload[:]
        out += cbor2.dumps(cbor2.CBORTag(_STRING_TAG, index))

    # -- bytes from the stream ------------------------------------------------------------------

    def _check_limit(self, more: int) -> None:
        """Refuse the frame if ``more`` bytes after the buffer's start pass the limit."""
        if self._base + more > self._limit:
            raise MessageTooLargeError(self._base + more, self._limit)

    def _need(self, pos: int, size: int) -> None:
        """Make ``self._buffer[pos : pos + size]`` available, within the message limit."""
        end = pos + size
        self._check_limit(end)
        while len(self._buffer) < end:
            if not self._fill(end - len(self._buffer)):
                raise TruncatedFrameError(
                    f"truncated CBOR: stdout ended in the middle of a message (after "
                    f"{self._base + len(self._buffer)} bytes: {self.head!r})"
                )
        if len(self.head) < RAW_PREVIEW and self._base == 0:
            self.head = bytes(self._buffer[:RAW_PREVIEW])

    def _fill(self, wanted: int) -> bool:
        """Append at least one byte to the buffer; False at EOF."""
        chunk = self._read_chunk(max(wanted, 65536))
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def _read_exactly(self, payload: bytearray, length: int) -> None:
        """Read from the stream until ``payload`` holds ``length`` bytes."""
        while len(payload) < length:
            chunk = self._read_chunk(length - len(payload))
            if not chunk:
                raise TruncatedFrameError(
                    f"truncated CBOR: stdout ended in the middle of a string of {length} "
                    f"bytes (after {self._base + len(payload)} bytes of the message: "
                    f"{self.head!r})"
                )
            payload += chunk

    def _read_chunk(self, size: int) -> bytes:
        try:
            chunk = self._read(min(size, _CHUNK))
        except (OSError, ValueError):  # closed by PluginConnection.close() under us: EOF
            return b""
        return chunk or b""  # None only comes from non-blocking streams: treat as EOF

    def _malformed(self, what: str) -> NoReturn:
        raise RemoteProtocolError(f"malformed CBOR: {what} (bytes: {self.head!r})")
