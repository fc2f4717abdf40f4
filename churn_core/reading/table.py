"""Reading a user's table: CSV/TSV/TXT (plain or gzip), Excel ``.xlsx`` and Parquet.

:func:`read_table` is the only entry point. It decides the format from the
bytes (not the name), the encoding, the delimiter and the header line; reads
every CSV cell as text first so ids like ``007`` survive; then converts column
by column (missing tokens, text numbers, ids) and reports each automatic
decision as a :class:`~churn_core.problems.Problem`. A file that cannot be
used raises :class:`~churn_core.problems.ChurnDataError` carrying every
problem found so far.

Helpers live next door: :mod:`churn_core.reading.text` (format sniffing, encoding,
delimiter and header detection), :mod:`churn_core.reading.delimited` (CSV/TSV/TXT to
text cells), :mod:`churn_core.reading.excel_parquet` (Excel and Parquet)
and :mod:`churn_core.reading.cells` (header names, missing tokens, numbers, ids).

The frame returned has a RangeIndex in file order. Numeric columns are
``float64``; every other column (ids, categories, dates, booleans) is pandas'
``"str"`` dtype (:data:`churn_core.reading.cells.TEXT_DTYPE`) with NaN for
missing, so ``frame[col].isna()`` works on both.

Problem codes
-------------
Errors (raised): ``FILE_NOT_FOUND``, ``TOO_LARGE``, ``TOO_MANY_COLUMNS``, ``EMPTY_FILE``,
``NO_DATA_ROWS``, ``BINARY_FILE`` (PDF, zip, images...), ``OLD_EXCEL`` (.xls),
``UNDECODABLE``, ``UNREADABLE`` (damaged workbook, Parquet or gzip; CSV the
parser rejects), ``SHEET_NOT_FOUND``.

Warnings: ``SHORT_ROWS`` (fewer fields than the header, padded with missing values),
``RAGGED_ROWS`` (rows with more fields than the header, skipped;
``rows`` holds 1-based *file line* numbers), ``DUPLICATE_HEADER``,
``NOT_NUMBERS`` (values of a numeric column that were not numbers, now
missing), ``MOSTLY_NUMBERS`` (50-95 % numbers: kept as text), ``INF_VALUES``
(now missing), ``ENCODING_UNCERTAIN``, ``UNBALANCED_QUOTES`` (quotes ignored),
``NUL_REMOVED`` (NUL characters past the sniffed start, removed),
``ID_LOOKS_MISSING`` (an id equal to a missing-value token, kept as an id).

Info: ``FORMAT_MISMATCH``, ``ENCODING_DETECTED``, ``DELIMITER_DETECTED``,
``HEADER_SKIPPED_LINES``, ``SHEET_CHOSEN``, ``HEADER_NORMALISED``,
``BLANK_HEADER``, ``EMPTY_COLUMNS_DROPPED``, ``BLANK_ROWS_DROPPED`` (Excel),
``MISSING_TOKENS``, ``WHITESPACE_TRIMMED``, ``NUMBERS_CONVERTED``, ``KEPT_AS_TEXT``,
``ID_SPACES_KEPT`` (ids are kept exactly, spaces included), ``NESTED_AS_TEXT``.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import logging
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from churn_core.names import is_id_name
from churn_core.problems import InvalidSetting, Problem, example_values
from churn_core.reading.cells import (
    TEXT_DTYPE,
    cell_to_text,
    clean_header,
    convert_text_column,
    convert_typed_column,
    fail,
    is_filled,
)
from churn_core.reading.delimited import read_delimited
from churn_core.reading.excel_parquet import read_excel_sheet, read_parquet_table
from churn_core.reading.text import sniff_format

__all__ = ["DEFAULT_NA_TOKENS", "ReadOptions", "ReadResult", "read_table", "sniff_format"]

logger = logging.getLogger(__name__)

DEFAULT_NA_TOKENS: tuple[str, ...] = (
    "", "NA", "N/A", "n/a", "null", "NULL", "None", "-", "--", "?",
    "无", "空", "#N/A", "nan", "NaN",
)
_EXPECTED = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv", ".dat": "csv",
             ".xlsx": "excel", ".xlsm": "excel", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; every ``None`` means detect it.

    Parameters
    ----------
    encoding : str, optional
        Text encoding, overriding detection (CSV only).
    delimiter : str, optional
        One-character field delimiter, overriding sniffing (CSV only).
    header_row : int, optional
        0-based line (CSV) or row (Excel) of the header, overriding detection.
    sheet : str or int, optional
        Excel sheet name or 0-based index; None reads the largest sheet.
    na_tokens : tuple of str
        Cell texts that mean missing, matched exactly after trimming.
    text_columns : tuple of str
        Columns to keep as text whatever their values (ids).
    convert_numbers : bool
        Convert text numbers such as ``"1,234"``, ``"¥1,299"``, ``"12%"``, ``"1.234,50"``.
    max_bytes : int
        Largest file (and largest uncompressed gzip content) accepted.
    """

    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    sheet: str | int | None = None
    na_tokens: tuple[str, ...] = DEFAULT_NA_TOKENS
    text_columns: tuple[str, ...] = ()
    convert_numbers: bool = True
    max_bytes: int = 500 * 1024**2

    def with_id(self, id_column: str | None) -> ReadOptions:
        """These options with ``id_column`` (the chosen customer id) read exactly, as text:
        ``0000291`` keeps its zeros, a 20-digit id is not a float. None changes nothing."""
        if not id_column or id_column in self.text_columns:
            return self
        return dataclasses.replace(self, text_columns=(*self.text_columns, id_column))

    def __post_init__(self) -> None:
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InvalidSetting(f"delimiter must be one character, got {self.delimiter!r}")
        if self.header_row is not None and self.header_row < 0:
            raise InvalidSetting(f"header_row must be >= 0, got {self.header_row}")


@dataclass(frozen=True)
class ReadResult:
    """A table read from a file, with every decision taken while reading it.

    Attributes
    ----------
    frame : pd.DataFrame
        RangeIndex in file order; columns trimmed and NFKC-normalised; numbers
        ``float64``, everything else ``"str"`` dtype with NaN for missing.
    source_name : str
        The file name shown to the user.
    file_format : {"csv", "excel", "parquet"}
    encoding, delimiter : str or None
        As used (CSV only).
    header_row : int
        0-based line (CSV) or row (Excel) of the header; 0 for Parquet.
    sheet : str or None
        The Excel sheet read.
    problems : tuple of Problem
        Info (automatic decisions) and warnings; never errors.
    """

    frame: pd.DataFrame
    source_name: str
    file_format: str
    encoding: str | None
    delimiter: str | None
    header_row: int
    sheet: str | None
    problems: tuple[Problem, ...]


def read_table(source: str | Path | bytes, *, name: str | None = None,
               options: ReadOptions | None = None) -> ReadResult:
    """Read a CSV/TSV/TXT (optionally gzip), Excel ``.xlsx`` or Parquet table.

    Parameters
    ----------
    source : str, Path or bytes
        A path to the file, or its content (an upload).
    name : str, optional
        Name for messages and format hints; defaults to the path's name or ``"upload"``.
    options : ReadOptions, optional
        Overrides for detection; defaults to ``ReadOptions()``.

    Returns
    -------
    ReadResult

    Raises
    ------
    ChurnDataError
        The file cannot be used (missing, too large, empty, binary, old
        ``.xls``, undecodable, damaged, or no data rows); carries every problem found.
    """
    opts = options or ReadOptions()
    data, name = _load(source, name, opts.max_bytes)
    problems: list[Problem] = []
    kind = sniff_format(data, name)
    inner = name
    if kind == "gzip":
        data = _gunzip(data, name, opts.max_bytes, problems)
        inner = name[:-3] if name.lower().endswith(".gz") else name
        kind = sniff_format(data, inner)
    _check_kind(kind, name, inner, problems)

    encoding = delimiter = sheet = None
    if kind == "excel":
        header, body, sheet, header_row = read_excel_sheet(
            data, name, sheet=opts.sheet, header_row=opts.header_row, problems=problems)
    elif kind == "parquet":
        header, body, header_row = read_parquet_table(data, name, problems=problems)
    else:
        header, body, encoding, delimiter, header_row = read_delimited(
            data, name, inner, problems, encoding=opts.encoding, delimiter=opts.delimiter,
            header_row=opts.header_row)
    frame = _convert(header, body, typed=kind != "csv", opts=opts, problems=problems)
    if len(frame) == 0:
        skipped = any(p.code == "RAGGED_ROWS" for p in problems)
        fail(problems, "NO_DATA_ROWS",
             f"{name}: the file has 0 data rows"
             f"{' (every row under the header was skipped)' if skipped else ''}.",
             "add data rows under the header")
    logger.info("read %s: %d rows x %d columns (%s, %d problems)",
                name, len(frame), frame.shape[1], kind, len(problems))
    return ReadResult(frame, name, kind, encoding, delimiter, header_row, sheet, tuple(problems))


def _load(source: str | Path | bytes, name: str | None, max_bytes: int) -> tuple[bytes, str]:
    """Return the file's bytes and its display name, refusing missing and oversized files."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            fail([], "FILE_NOT_FOUND", f"{path}: no such file.", "check the path")
        size = path.stat().st_size
        if size > max_bytes:
            fail([], "TOO_LARGE", f"{name} is {_mb(size)}; the limit is {_mb(max_bytes)}.",
                 "upload a smaller extract or raise max_bytes")
        data = path.read_bytes()
    if len(data) > max_bytes:
        fail([], "TOO_LARGE", f"{name} is {_mb(len(data))}; the limit is {_mb(max_bytes)}.",
             "upload a smaller extract or raise max_bytes")
    return data, name


def _mb(n: int) -> str:
    return f"{n / 1024**2:,.1f} MB"


def _gunzip(data: bytes, name: str, max_bytes: int, problems: list[Problem]) -> bytes:
    """Decompress gzip content, stopping past ``max_bytes`` (a zip bomb stays small)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            out = gz.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        fail(problems, "UNREADABLE", f"{name}: the gzip file is damaged ({exc}).",
             "compress the file again or upload it uncompressed")
    if len(out) > max_bytes:
        fail(problems, "TOO_LARGE", f"{name} holds more than {_mb(max_bytes)} uncompressed.",
             "upload a smaller extract or raise max_bytes")
    return out


def _check_kind(kind: str, name: str, inner: str, problems: list[Problem]) -> None:
    """Refuse what is not a table; note when the content disagrees with the name."""
    refusals = {
        "empty": ("EMPTY_FILE", f"{name} is empty.", "upload a file with a header and data rows"),
        "xls": ("OLD_EXCEL", f"{name} is an old Excel file (.xls), which cannot be read; "
                "save it as .xlsx or CSV and upload that.", "save as .xlsx or CSV"),
        "zip": ("BINARY_FILE", f"{name} is a zip archive, not a table.",
                "unzip it and upload the CSV or Excel file inside"),
        "pdf": ("BINARY_FILE", f"{name} is a PDF document, not a table.",
                "export the table as CSV or Excel"),
        "binary": ("BINARY_FILE", f"{name} is a binary file, not a CSV, Excel or Parquet table.",
                   "export the table as CSV or Excel"),
        "gzip": ("BINARY_FILE", f"{name} is compressed more than once.", "decompress it"),
    }
    if kind in refusals:
        fail(problems, *refusals[kind])
    expected = _EXPECTED.get(Path(inner).suffix.lower())
    if expected and expected != kind:
        words = {"csv": "a text (CSV) file", "excel": "an Excel workbook",
                 "parquet": "a Parquet file"}
        problems.append(Problem(
            "FORMAT_MISMATCH", "info",
            f"{name} is named like {words[expected]} but is {words[kind]}; it was read as one.",
            action=f"read as {kind}"))


def _convert(header: list[object], body: pd.DataFrame, *, typed: bool, opts: ReadOptions,
             problems: list[Problem]) -> pd.DataFrame:
    """Clean the header, drop empty unnamed columns, and convert every column."""
    names, header_problems = clean_header(header)
    problems.extend(header_problems)
    forced = {unicodedata.normalize("NFKC", c).strip() for c in opts.text_columns}
    tokens = set(opts.na_tokens)
    columns: dict[str, pd.Series] = {}
    dropped: list[str] = []
    trimmed: dict[str, int] = {}
    for pos, name in enumerate(names):
        raw = header[pos] if pos < len(header) else None
        values = body[pos] if pos in body.columns else pd.Series([], dtype=TEXT_DTYPE)
        if not (cell_to_text(raw) or "").strip() and _all_empty(values):
            dropped.append(name)
            continue
        reason = ("it is listed in text_columns" if name in forced
                  else "its name looks like an id" if is_id_name(name) else None)
        convert = convert_typed_column if typed else convert_text_column
        out = convert(name, values.reset_index(drop=True), na_tokens=tuple(tokens),
                      convert_numbers=opts.convert_numbers, text_reason=reason)
        columns[name] = out.values
        problems.extend(out.problems)
        if out.trimmed:
            trimmed[name] = out.trimmed
    if dropped:
        problems.append(Problem(
            "EMPTY_COLUMNS_DROPPED", "info",
            f"{len(dropped)} columns with no name and no values were dropped.",
            count=len(dropped), values=example_values(dropped), action="dropped"))
    if trimmed:
        total = sum(trimmed.values())
        problems.append(Problem(
            "WHITESPACE_TRIMMED", "info",
            f"Spaces around {total:,} values were removed in "
            + ", ".join(f"{c} ({n:,})" for c, n in list(trimmed.items())[:5])
            + (" and more columns." if len(trimmed) > 5 else "."),
            count=total, values=example_values(trimmed), action="trimmed"))
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(body)))
    if not columns:
        frame = pd.DataFrame(index=pd.RangeIndex(len(body)))
    return frame


def _all_empty(values: pd.Series) -> bool:
    if values.empty:
        return True
    if isinstance(values.dtype, pd.StringDtype):
        return bool((values.fillna("").str.strip() == "").all())
    if values.dtype == object:
        return not any(is_filled(v) for v in values)
    return bool(values.isna().all())
