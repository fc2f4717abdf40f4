"""Delimited-text event logs: encoding, delimiter, header line, and the ``read_csv`` arguments.

The decisions of the customer-table reader (:mod:`churn_core.reading.text`) on the
first megabyte, plus two shapes of raw logs it does not meet: text separated by
runs of spaces (CDNOW's ``00001 19970101  1  11.77``) and files without a header
line (Taobao's ``UserBehavior.csv``). Text that DuckDB cannot read as it is gets
a UTF-8 copy (:func:`churn_core.events.utf8_copies.utf8_copy`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from churn_core.events.utf8_copies import utf8_copy
from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.notes import delimiter_problem, encoding_problems, skipped_lines_problem
from churn_core.reading.table import ReadOptions
from churn_core.reading.text import (
    Decoded,
    UndecodableError,
    decode_text,
    sniff_layout,
    whole_lines,
)

UTF8 = ("utf-8", "utf-8-sig")
SAMPLE_LINES = 200          # lines looked at for whitespace separation and a header line
WINDOWS, WINDOW_BYTES = 16, 1 << 16     # later parts of a file checked for other encodings


@dataclass(frozen=True)
class TextReading:
    """How DuckDB reads a delimited-text log.

    ``delimiter`` is the file's (``" "``: runs of spaces); ``header_row`` the
    0-based header line, None without one; ``read_path`` the file or its UTF-8
    copy; ``csv_args`` the ``read_csv`` arguments after the path.
    """

    encoding: str
    delimiter: str
    header_row: int | None
    read_path: Path
    csv_args: str


def sql_literal(text: str) -> str:
    """Quote ``text`` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


#: Columns an event log may have; each is sampled when roles are proposed (about 0.1 s each).
MAX_EVENT_COLUMNS = 256


def too_many_columns(name: str, width: int, names: Sequence[str]) -> ChurnDataError:
    """``EVENTS_TOO_MANY_COLUMNS`` for a log wider than :data:`MAX_EVENT_COLUMNS`."""
    return ChurnDataError([Problem(
        "EVENTS_TOO_MANY_COLUMNS", "error",
        f"The event log {name} has {width:,} columns; an event log has a few dozen (at most "
        f"{MAX_EVENT_COLUMNS:,} are looked at).", count=width,
        values=tuple(str(n) for n in list(names)[:5]),
        action="keep the columns you need (id, time, amount...), or check the delimiter")])


def read_text_log(path: Path, head: bytes, *, complete: bool, compressed: bool,
                  options: ReadOptions, problems: list[Problem]) -> TextReading:
    """Decide how to read delimited text from its first bytes ``head``.

    Parameters
    ----------
    path : Path
        The file (gzip when ``compressed``).
    head : bytes
        Its first bytes, decompressed (the whole file when ``complete``).
    options : ReadOptions
        Encoding, delimiter (``" "``: runs of spaces), header_row overrides.
    problems : list of Problem
        Appended to: ``ENCODING_DETECTED``, ``ENCODING_UNCERTAIN``,
        ``DELIMITER_DETECTED``, ``HEADER_SKIPPED_LINES``, ``EVENTS_NO_HEADER``.

    Raises
    ------
    ChurnDataError
        ``EVENTS_UNDECODABLE`` when the text is not in the encoding found or given;
        ``EVENTS_TOO_MANY_COLUMNS`` when it has more than :data:`MAX_EVENT_COLUMNS`.
    """
    decoded = _decode(path, head, complete=complete, seekable=not (complete or compressed),
                      options=options, problems=problems)
    text = decoded.text
    spaces = options.delimiter == " "
    layout = sniff_layout(text, delimiter=None if spaces else options.delimiter,
                          header_row=options.header_row,
                          prefer_tab=path.name.lower().removesuffix(".gz").endswith(".tsv"))
    delimiter, header_line = layout.delimiter, layout.header_line
    if layout.width > MAX_EVENT_COLUMNS:  # refused before DuckDB sniffs every column
        raise too_many_columns(path.name, layout.width, layout.header_fields)
    if spaces or (options.delimiter is None and layout.width == 1):
        found = _whitespace_start(text)
        if found is not None or spaces:
            delimiter = " "
            header_line = options.header_row if options.header_row is not None else found or 0
    rows = _records(text, delimiter, header_line)
    has_header = options.header_row is not None or not _looks_like_data(rows)
    skipped = [line.strip() for line in text.splitlines()[:header_line] if line.strip()]
    _report(path, delimiter, header_line, skipped, has_header, options, problems)
    copy = delimiter == " " or decoded.encoding not in UTF8
    read_path = path
    if copy:
        read_path = utf8_copy(path, compressed=compressed, encoding=decoded.encoding,
                              whitespace=delimiter == " ", skip_lines=header_line)
    args = [f"header={'true' if has_header else 'false'}",
            f"delim={sql_literal(',' if delimiter == ' ' else delimiter)}",
            f"skip={0 if delimiter == ' ' else header_line}"]
    if not has_header:
        width = max((len(r) for r in rows[:50]), default=1)
        args.append("names=[" + ", ".join(sql_literal(f"column_{i + 1}")
                                          for i in range(width)) + "]")
    if compressed and not copy:
        args.append("compression='gzip'")
    return TextReading(decoded.encoding, delimiter, header_line if has_header else None,
                       read_path, ", ".join(args))


def _decode(path: Path, head: bytes, *, complete: bool, seekable: bool, options: ReadOptions,
            problems: list[Problem]) -> Decoded:
    """Decode the start of the file strictly; report an encoding found other than UTF-8.

    A file whose start is plain ASCII may hold other text further on: evenly
    spread windows of the rest are checked too, and decide the encoding when
    they are not UTF-8 (an uncompressed file only: gzip cannot be sampled cheaply).
    """
    head = head if complete else whole_lines(head)
    try:
        decoded = decode_text(head, options.encoding)
        later = b""
        if seekable and options.encoding is None and decoded.encoding == "utf-8" \
                and head.isascii():
            later = _later_lines(path, len(head))
        if later and not _is_utf8(later):
            decoded = decode_text(head, decode_text(head + later).encoding)
            decoded = dataclasses.replace(decoded, how="later")
    except (UndecodableError, LookupError) as exc:
        raise ChurnDataError([Problem(
            "EVENTS_UNDECODABLE", "error", f"Cannot read the event log {path.name}: {exc}.",
            values=(options.encoding,) if options.encoding else (),
            action="give the encoding (e.g. gb18030, big5, cp1252, utf-16)")]) from exc
    # plain UTF-8, what DuckDB reads, is not worth a notice
    copy = "" if decoded.encoding in UTF8 else "; it is read through a UTF-8 copy"
    problems += [p for p in encoding_problems(path.name, decoded, note=copy)
                 if p.code != "ENCODING_DETECTED" or decoded.encoding != "utf-8"]
    return decoded


def _later_lines(path: Path, start: int) -> bytes:
    """Whole lines from :data:`WINDOWS` evenly spread windows of the file after ``start``."""
    size = path.stat().st_size
    out = []
    with path.open("rb") as f:
        for k in range(WINDOWS):
            f.seek(start + (size - start) * k // WINDOWS)
            block = f.read(WINDOW_BYTES)
            if k == WINDOWS - 1:
                f.seek(max(start, size - WINDOW_BYTES))
                block += b"\n" + f.read()
            first = block.find(b"\n")
            if first >= 0:
                out.append(whole_lines(block[first + 1:]))
    return b"".join(out)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _whitespace_start(text: str) -> int | None:
    """0-based first line of whitespace-separated text, None when the text is not that."""
    lines = text.splitlines()[:SAMPLE_LINES]
    counts = [len(line.split()) for line in lines]
    filled = [c for c in counts if c]
    if len(filled) < 2:
        return None
    mode = max(set(filled), key=filled.count)
    if mode < 2 or filled.count(mode) < 0.9 * len(filled):
        return None
    return counts.index(mode)


def _records(text: str, delimiter: str, start: int) -> list[list[str]]:
    """Fields of the first records from line ``start`` on (for the header decision)."""
    lines = text.splitlines()[start:start + SAMPLE_LINES]
    if delimiter == " ":
        return [line.split() for line in lines if line.strip()]
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    try:
        return [r for r in reader if any(f.strip() for f in r)][:100]
    except csv.Error:
        return []


def _starts_like_number(value: str) -> bool:
    v = value.strip().lstrip("+-")
    return v[:1].isdigit()


def _looks_like_data(rows: list[list[str]]) -> bool:
    """True when the first record is data, not a header.

    In every column whose values start with a digit (numbers, dates, epoch times)
    the first record does too, and there is such a column: header names never
    start with a digit in every one of those columns.
    """
    if len(rows) < 4:
        return False
    first, body = rows[0], rows[1:]
    numeric = [i for i in range(len(first))
               if sum(i < len(r) and _starts_like_number(r[i]) for r in body) >= 0.9 * len(body)]
    return bool(numeric) and all(_starts_like_number(first[i]) for i in numeric)


def _report(path: Path, delimiter: str, header_line: int, skipped: list[str],
            has_header: bool, options: ReadOptions, problems: list[Problem]) -> None:
    if options.delimiter is None and delimiter != ",":
        problems.append(delimiter_problem(path.name, delimiter))
    if skipped:
        problems.append(skipped_lines_problem(path.name, header_line, skipped))
    if not has_header:
        problems.append(Problem(
            "EVENTS_NO_HEADER", "warning",
            f"{path.name} has no header line (its first line holds values); the columns are "
            "named column_1, column_2... and their roles guessed from the values.",
            action="check the roles, or set header_row=0 if the first line is a header"))


