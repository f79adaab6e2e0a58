"""Readers that walk an export one record at a time, in constant memory.

A ten-year extended Spotify history is a few hundred megabytes of JSON; ``json.load``
would hold all of it (several times over as Python objects). These readers keep at most
one chunk plus one record in memory, decode strictly (a file in the wrong encoding is an
error that says so, not mojibake in the database) and bound every record, so a hostile
file cannot make the app allocate without limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from typing import IO, cast

from player.imports.base import FormatError

CHUNK_BYTES = 256 * 1024
#: Largest single record (JSON object, JSONL line or CSV row); real ones are < 2 KB.
MAX_RECORD_BYTES = 1024 * 1024

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Text:
    """Strict incremental UTF-8 decoding of a byte stream into a sliding text buffer."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._name = name
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._consumed = 0
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def fill(self) -> bool:
        """Append the next chunk; False once the stream is exhausted."""
        if self.eof:
            return False
        if self.pos:
            self.buffer = self.buffer[self.pos :]
            self.pos = 0
        chunk = self._stream.read(CHUNK_BYTES)
        try:
            self.buffer += self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            # exc.object may start with bytes held back from the previous chunk.
            bad = exc.object[exc.start : exc.start + 1].hex() or "end"
            raise FormatError(
                f"{self._name} is not UTF-8 text (byte 0x{bad} near offset {self._consumed}); "
                "exports from the service are UTF-8, was the file re-saved?"
            ) from None
        self._consumed += len(chunk)
        if not chunk:
            self.eof = True
        return bool(chunk)

    def skip_whitespace(self) -> None:
        while True:
            match = _WHITESPACE.match(self.buffer, self.pos)
            assert match is not None
            self.pos = match.end()
            if self.pos < len(self.buffer) or not self.fill():
                return

    def peek(self) -> str:
        self.skip_whitespace()
        return self.buffer[self.pos] if self.pos < len(self.buffer) else ""


def iter_json_array(stream: IO[bytes], name: str) -> Iterator[object]:
    """Yield the elements of the top-level JSON array in ``stream`` one by one."""
    text = _Text(stream, name)
    first = text.peek()
    if first != "[":
        what = "is empty" if not first else f"starts with {first!r}"
        raise FormatError(f"{name} is not a JSON list of records (it {what})")
    text.pos += 1
    count = 0
    while True:
        char = text.peek()
        if char == "]" and count == 0:
            text.pos += 1
            break
        if not char:
            raise FormatError(f"{name} ends in the middle of the list (after {count} records)")
        yield _decode_value(text, name, count + 1)
        count += 1
        char = text.peek()
        if char == ",":
            text.pos += 1
        elif char == "]":
            text.pos += 1
            break
        elif not char:
            raise FormatError(f"{name} ends in the middle of the list (after {count} records)")
        else:
            raise FormatError(f"{name}: record {count} is followed by {char!r}, not ',' or ']'")
    if text.peek():
        raise FormatError(f"{name} has data after the end of the list")


def _decode_value(text: _Text, name: str, number: int) -> object:
    while True:
        try:
            value, end = _DECODER.raw_decode(text.buffer, text.pos)
        except json.JSONDecodeError as exc:
            if len(text.buffer) - text.pos > MAX_RECORD_BYTES:
                raise FormatError(
                    f"{name}: record {number} is not valid JSON ({exc.msg}) or larger than "
                    f"{MAX_RECORD_BYTES // 1024} KB"
                ) from None
            if text.fill():
                continue
            raise FormatError(f"{name}: record {number} is not valid JSON ({exc.msg})") from None
        # A number or literal can be cut at a chunk boundary and still parse: read on.
        if end == len(text.buffer) and not text.eof and text.fill():
            continue
        if end - text.pos > MAX_RECORD_BYTES:
            raise FormatError(
                f"{name}: record {number} is larger than {MAX_RECORD_BYTES // 1024} KB"
            )
        text.pos = end
        return value


def iter_json_lines(stream: IO[bytes], name: str) -> Iterator[object]:
    """Yield one JSON value per non-blank line (JSON Lines, as ListenBrainz exports)."""
    number = 0
    while True:
        line = stream.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_RECORD_BYTES:
            raise FormatError(f"{name}: line {number} is larger than {MAX_RECORD_BYTES // 1024} KB")
        try:
            decoded = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"{name}: line {number} is not UTF-8 text (byte 0x{line[exc.start]:02x})"
            ) from None
        if not decoded.strip():
            continue
        try:
            yield json.loads(decoded)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{name}: line {number} is not valid JSON ({exc.msg})") from None


def peekable(stream: IO[bytes]) -> io.BufferedReader:
    """``stream`` with ``peek()``, to sniff a format before choosing a reader."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(cast(io.RawIOBase, stream))


def iter_csv_rows(stream: IO[bytes], name: str) -> Iterator[list[str]]:
    """Yield the rows of a CSV file as lists of text (UTF-8 or, from Excel, UTF-16)."""
    buffered = peekable(stream)
    head = buffered.peek(4)[:4]
    encoding = "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(_bounded_lines(text, name))
    try:
        yield from reader
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{name} is not {encoding.removesuffix('-sig').upper()} text "
            f"(near row {reader.line_num + 1}: {exc.reason}); export it again or re-save "
            "it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise FormatError(f"{name}: row {reader.line_num} is not valid CSV ({exc})") from None


def _bounded_lines(text: io.TextIOWrapper, name: str) -> Iterator[str]:
    """Physical lines, each at most MAX_RECORD_BYTES characters (csv has its own field cap)."""
    number = 0
    while True:
        line = text.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_RECORD_BYTES:
            raise FormatError(f"{name}: line {number} is longer than {MAX_RECORD_BYTES} characters")
        yield line
