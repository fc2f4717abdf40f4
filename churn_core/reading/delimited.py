"""Delimited text (CSV/TSV/TXT) to a header row and data rows, every cell still text.

:func:`read_delimited` is :func:`churn_core.reading.table.read_table`'s CSV step: decode
(:mod:`churn_core.reading.text`), sniff the delimiter and header line, then parse with
pyarrow's CSV reader when the text is plain (:mod:`churn_core.reading.fastcsv`) or with
pandas' C parser otherwise, reporting short rows, ragged rows (skipped, with their file
lines), unbalanced quotes, NUL characters and the encoding and delimiter chosen.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings

import pandas as pd

from churn_core.problems import Problem, example_rows, example_values
from churn_core.reading.cells import TEXT_DTYPE, fail
from churn_core.reading.csvrows import record_lines, short_rows
from churn_core.reading.fastcsv import parse_plain
from churn_core.reading.notes import (
    delimiter_problem,
    encoding_problems,
    nul_problem,
    skipped_lines_problem,
)
from churn_core.reading.text import (
    SAMPLE_MAX_CHARS,
    UndecodableError,
    decode_text,
    line_offset,
    sniff_layout,
)

__all__ = ["MAX_COLUMNS", "read_delimited"]

logger = logging.getLogger(__name__)

MAX_COLUMNS = 20_000  # a customer table wider than this is a wrong delimiter or an attack
_SKIPPED_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


def read_delimited(data: bytes, name: str, inner: str, problems: list[Problem], *,
                   encoding: str | None = None, delimiter: str | None = None,
                   header_row: int | None = None
                   ) -> tuple[list[object], pd.DataFrame, str, str, int]:
    """Decode, sniff and parse delimited text; every cell stays text.

    Parameters
    ----------
    data : bytes
        The file's content (decompressed).
    name : str
        The name shown in messages.
    inner : str
        The file's name inside a gzip (``.tsv`` / ``.tab`` prefer tabs).
    problems : list of Problem
        Appended to: every decision and repair.
    encoding, delimiter : str, optional
        The user's choice (None: detected).
    header_row : int, optional
        0-based line of the header (None: detected).

    Returns
    -------
    header : list
        The header row's cells.
    body : DataFrame
        The data rows (text cells), a RangeIndex.
    encoding, delimiter : str
    header_row : int
        0-based line of the header.

    Raises
    ------
    ChurnDataError
        ``UNDECODABLE``, ``EMPTY_FILE``, ``TOO_MANY_COLUMNS``, ``UNREADABLE``.
    """
    try:
        decoded = decode_text(data, encoding)
    except LookupError:
        fail(problems, "UNDECODABLE", f"{encoding!r} is not a known encoding.",
             "choose another encoding")
    except UndecodableError as exc:
        fail(problems, "UNDECODABLE", f"{name}: {exc}.", "choose the encoding explicitly")
    problems += encoding_problems(name, decoded)
    text = decoded.text
    if not text.strip():
        fail(problems, "EMPTY_FILE", f"{name} is empty.", "upload a file with a header and data")
    rewritten = "\n" not in text and "\r" in text  # old Mac line ends
    if rewritten:
        text = text.replace("\r", "\n")
    if "\x00" in text:  # past the bytes sniffed as text: a damaged export, never kept
        problems.append(nul_problem(name, text))
        text, rewritten = text.replace("\x00", ""), True
    first = text.find("\n", 0, SAMPLE_MAX_CHARS)
    if first < 0 and len(text) >= SAMPLE_MAX_CHARS:
        fail(problems, "TOO_MANY_COLUMNS", f"{name}: the first line is longer than "
             f"{SAMPLE_MAX_CHARS // 2**20} MB, so it cannot be a header.",
             "check the line ends, or export the table again")
    layout = sniff_layout(text, delimiter=delimiter, header_row=header_row,
                          prefer_tab=inner.lower().endswith((".tsv", ".tab")))
    if layout.width > MAX_COLUMNS:
        fail(problems, "TOO_MANY_COLUMNS", f"{name} has {layout.width:,} columns; the limit "
             f"is {MAX_COLUMNS:,}.", "keep the columns you need, or check the delimiter")
    if layout.delimiter_sniffed:
        problems.append(delimiter_problem(name, layout.delimiter, one_column=layout.width <= 1))
    if layout.skipped:
        problems.append(skipped_lines_problem(name, layout.header_line, layout.skipped))

    if decoded.encoding in ("utf-8", "utf-8-sig") and not rewritten:
        payload = data[3:] if decoded.encoding == "utf-8-sig" else data
    else:
        payload = text.encode("utf-8")
    del text
    start = line_offset(payload, layout.header_line)
    fast = parse_plain(memoryview(payload)[start:], layout.delimiter, layout.width)
    if fast is not None:  # plain text, every row as wide as the header: nothing to report
        return _split_header(fast, decoded.encoding, layout.delimiter, layout.header_line)
    body = io.BytesIO(payload[start:])
    frame, bad = _parse_csv(body, name, layout.delimiter, layout.width, problems)
    short = short_rows(body.getvalue(), layout.delimiter, layout.width, max(len(frame) - 1, 0))
    if short is not None and short.any():
        at, count = example_rows(short)
        problems.append(Problem(
            "SHORT_ROWS", "warning", f"{name}: {count:,} rows have fewer fields than the "
            f"header ({layout.width}); the missing fields were left empty.", rows=at,
            count=count, action="missing fields treated as missing values"))
    if bad:
        # quoted fields holding line breaks put the parser's record numbers behind the lines
        at = (record_lines(body.getvalue(), layout.delimiter, (n for n, _, _ in bad))
              if b'"' in payload else {n: n for n, _, _ in bad})
        bad = [(at[n], expected, saw) for n, expected, saw in bad]
        lines = [layout.header_line + n for n, _, _ in bad]
        shown = tuple(lines[:5])
        more = f", ... ({len(bad):,} in all)" if len(bad) > 5 else ""
        problems.append(Problem(
            "RAGGED_ROWS", "warning",
            f"{name}: {len(bad):,} rows have more fields than the header ({layout.width}) and "
            f"were skipped (file lines {', '.join(str(x) for x in shown)}{more}).",
            rows=shown, count=len(bad),
            values=example_values(f"line {layout.header_line + n}: {saw} fields"
                                  for n, _, saw in bad),
            action="skipped; fix those lines or quote fields that contain the delimiter"))
    return _split_header(frame, decoded.encoding, layout.delimiter, layout.header_line)


def _split_header(frame: pd.DataFrame, encoding: str, delimiter: str, header_line: int
                  ) -> tuple[list[object], pd.DataFrame, str, str, int]:
    """The parsed header row and the data rows under it."""
    if frame.empty:
        return [], frame, encoding, delimiter, header_line
    header = frame.iloc[0].tolist()
    rows = frame.iloc[1:].reset_index(drop=True)
    return header, rows, encoding, delimiter, header_line


def _parse_csv(body: io.BytesIO, name: str, delimiter: str, width: int,
               problems: list[Problem]) -> tuple[pd.DataFrame, list[tuple[int, int, int]]]:
    """Parse text with the C parser (header row included as data); return bad lines too.

    Bad lines are ``(line relative to the header line, 1-based; expected; saw)``.
    """
    kwargs = dict(sep=delimiter, header=None, names=list(range(width)), dtype=str,
                  na_filter=False, keep_default_na=False, on_bad_lines="warn",
                  encoding="utf-8", engine="c", index_col=False)
    for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
        body.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            try:
                frame = pd.read_csv(body, quoting=quoting, **kwargs)
            except pd.errors.EmptyDataError:
                return pd.DataFrame(columns=list(range(width)), dtype=TEXT_DTYPE), []
            except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
                if quoting == csv.QUOTE_MINIMAL:
                    logger.debug("retrying %s without quotes: %s", name, exc)
                    continue
                fail(problems, "UNREADABLE", f"{name}: the text could not be parsed ({exc}).",
                     "check the delimiter and the quotes")
        if quoting == csv.QUOTE_NONE:
            problems.append(Problem(
                "UNBALANCED_QUOTES", "warning",
                f"{name}: a quote is never closed, so quotes were read as ordinary characters.",
                action="quotes kept as text"))
        bad = [(int(m[1]), int(m[2]), int(m[3])) for w in caught
               for m in _SKIPPED_LINE.finditer(str(w.message))]
        return frame, bad
    raise AssertionError("unreachable")  # pragma: no cover
