"""Reading an event-log file: what it is, its encoding and layout, and the DuckDB table over it.

DuckDB reads UTF-8 CSV (plain or gzip) and Parquet directly, and fast. Other files
become a UTF-8 copy made once (:mod:`churn_core.events.utf8_copies`): text in another
encoding, whitespace-separated text (CDNOW's ``00001 19970101  1  11.77``) and
``.xlsx`` workbooks.

Decisions reuse the customer-table reader on the first megabyte
(:mod:`churn_core.reading.text`, :mod:`churn_core.reading.cells`): the format from the
bytes, the encoding, the delimiter, the header line below a title, a missing
header line, and the text columns that write numbers with a decimal comma. Each is
reported as a :class:`~churn_core.problems.Problem` and can be overridden with
:class:`churn_core.reading.table.ReadOptions` (encoding, delimiter, header_row, sheet) and
``decimal_comma``.

An opened file is remembered per file (path, size, modification time). The
reading last asked for is what :func:`source_sql` gives when no mapping is
passed, so a proposal made with an override is staged the same way.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from churn_core.events.spill import literal_path
from churn_core.events.textlog import read_text_log, sql_literal
from churn_core.events.types import EventMapping, FileFormat
from churn_core.events.utf8_copies import excel_copy
from churn_core.problems import ChurnDataError, Problem, example_values
from churn_core.reading.numbers import uses_decimal_comma
from churn_core.reading.table import ReadOptions
from churn_core.reading.text import sniff_format

logger = logging.getLogger(__name__)

HEAD_BYTES = 1 << 20        # bytes (uncompressed) that every decision is made from
SAMPLE_ROWS = 20_000        # rows looked at for decimal commas
MAX_OPENED = 8              # files remembered; the oldest copy is deleted beyond that
_REFUSALS = {
    "empty": ("the file is empty", "export the log again"),
    "xls": ("it is an old Excel file (.xls)", "save it as .xlsx or CSV"),
    "zip": ("it is a zip archive", "unzip it and use the CSV or Parquet file inside"),
    "pdf": ("it is a PDF document", "export the log as CSV"),
    "binary": ("it is a binary file, not CSV, Excel or Parquet", "export the log as CSV"),
    "gzip": ("it is compressed more than once", "decompress it"),
}


@dataclass(frozen=True)
class OpenedSource:
    """An event-log file as DuckDB reads it, with the decisions taken to read it.

    ``read_path`` is the file itself or its UTF-8 copy (``copied``); ``csv_args`` the
    ``read_csv`` arguments after the path (None for Parquet); ``decimal_comma``
    the text columns whose decimal commas become points.
    """

    file_format: FileFormat
    read_path: Path
    copied: bool
    csv_args: str | None
    decimal_comma: tuple[str, ...]
    problems: tuple[Problem, ...]


_LOCK = threading.Lock()
_OPENED: OrderedDict[tuple, OpenedSource] = OrderedDict()
_CURRENT: dict[tuple, tuple] = {}


def open_source(source: str | Path, options: ReadOptions | None = None, *,
                decimal_comma: tuple[str, ...] | None = None) -> OpenedSource:
    """Decide how to read an event-log file, making a UTF-8 copy when DuckDB needs one.

    Parameters
    ----------
    source : str or Path
        CSV/TSV/TXT (optionally gzip), ``.xlsx`` or Parquet file.
    options : ReadOptions, optional
        Encoding, delimiter (``" "`` for whitespace), header_row and sheet
        overrides; None reads the file as it was last read (or detects).
    decimal_comma : tuple of str, optional
        Columns written with a decimal comma, instead of detecting them.

    Returns
    -------
    OpenedSource

    Raises
    ------
    ChurnDataError
        ``EVENTS_UNREADABLE`` (missing, empty, not a table, damaged) or
        ``EVENTS_UNDECODABLE`` (not text in the encoding found or given).
    """
    path = Path(source)
    try:
        st = path.stat()
    except OSError as exc:
        raise _unreadable(path, f"it cannot be opened ({exc.strerror or exc})",
                          "check the path") from exc
    identity = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _LOCK:
        current = _CURRENT.get(identity)
        if options is None:
            options = current[1] if current else ReadOptions()
            if decimal_comma is None and current:
                decimal_comma = current[2]
        key = (identity, _reading_key(options),
               None if decimal_comma is None else tuple(decimal_comma))
        opened = _OPENED.get(key)
        if opened is None or not opened.read_path.exists():
            opened = _open(path, options, key[2])
            _remember(key, opened)
            # the same reading, asked for with the decisions spelled out (a mapping's)
            _remember((identity, _reading_key(opened.file_format.options()), key[2]), opened)
        _OPENED.move_to_end(key)
        _CURRENT[identity] = key
        return opened


def _reading_key(o: ReadOptions) -> ReadOptions:
    return ReadOptions(encoding=o.encoding, delimiter=o.delimiter, header_row=o.header_row,
                       sheet=o.sheet, max_bytes=o.max_bytes)


def _remember(key: tuple, opened: OpenedSource) -> None:
    _OPENED[key] = opened
    while len(_OPENED) > MAX_OPENED:
        _, old = _OPENED.popitem(last=False)
        if old.copied and all(o.read_path != old.read_path for o in _OPENED.values()):
            old.read_path.unlink(missing_ok=True)


def reading_of(mapping: EventMapping | None) -> tuple[ReadOptions | None, tuple[str, ...] | None]:
    """The ``options`` and ``decimal_comma`` arguments of :func:`open_source` for a mapping."""
    if mapping is None:
        return None, None
    options = mapping.file_format.options() if mapping.file_format else None
    return options, mapping.decimal_comma


def source_sql(source: str | Path, mapping: EventMapping | None = None, *,
               sample_size: int = 20_480) -> str:
    """Return the DuckDB table expression reading ``source`` (CSV, CSV.gz, xlsx, Parquet).

    Text is read as text (``all_varchar``) so ids keep leading zeros and odd
    values are parsed by our own ``TRY_CAST`` expressions instead of failing;
    decimal commas of the columns in ``decimal_comma`` are already points.

    Parameters
    ----------
    source : str or Path
    mapping : EventMapping, optional
        Its ``file_format`` and ``decimal_comma`` say how to read the file;
        without it, the file is read as it was last opened (or as detected).
    sample_size : int
        Rows DuckDB's CSV sniffer looks at.
    """
    options, decimal = reading_of(mapping)
    return relation_sql(open_source(source, options, decimal_comma=decimal),
                        sample_size=sample_size)


def relation_sql(opened: OpenedSource, *, sample_size: int = 20_480) -> str:
    """The table expression of an opened file (see :func:`source_sql`)."""
    path = sql_literal(str(opened.read_path))
    if opened.csv_args is None:
        return f"read_parquet({path})"
    sql = (f"read_csv({path}, {opened.csv_args}, all_varchar=true, "
           f"sample_size={int(sample_size)})")
    if not opened.decimal_comma:
        return sql
    points = ", ".join(f"replace(replace({quote(c)}, '.', ''), ',', '.') AS {quote(c)}"
                       for c in opened.decimal_comma)
    return f"(SELECT * REPLACE ({points}) FROM {sql})"


def describe_source(con: duckdb.DuckDBPyConnection, source: str | Path,
                    mapping: EventMapping | None = None) -> dict[str, str]:
    """Return ``{column: duckdb type}`` of the source, raising ``EVENTS_UNREADABLE``."""
    sql = source_sql(source, mapping)
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()
    except (duckdb.Error, OSError) as exc:
        raise engine_error(Path(source), exc,
                           "check the file is a CSV, Excel or Parquet table") from exc
    return {r[0]: r[1] for r in rows}


def quote(name: str) -> str:
    """Quote a user's column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def engine_error(path: Path, exc: BaseException, action: str,
                 problems: tuple[Problem, ...] | list[Problem] = ()) -> ChurnDataError:
    """A DuckDB failure as a problem: ``EVENTS_OUT_OF_MEMORY`` when the memory limit was
    too small, else ``EVENTS_UNREADABLE`` (what DuckDB said, first line only)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in text:
        return ChurnDataError([*problems, Problem(
            "EVENTS_OUT_OF_MEMORY", "error",
            f"Reading the event log {path.name} needed more memory than the engine may use "
            f"({text}).", action="raise the memory limit (--memory-limit, e.g. 3GB) or use a "
            "smaller extract")])
    return ChurnDataError([*problems, Problem(
        "EVENTS_UNREADABLE", "error", f"Cannot read the event log {path.name}: {text}.",
        action=action)])


def _unreadable(path: Path, why: str, action: str) -> ChurnDataError:
    return ChurnDataError([Problem(
        "EVENTS_UNREADABLE", "error", f"Cannot read the event log {path.name}: {why}.",
        action=action)])


def _open(path: Path, options: ReadOptions, decimal: tuple[str, ...] | None) -> OpenedSource:
    problems: list[Problem] = []
    head, compressed = _head(path)
    if head.startswith(b"PK"):
        if path.stat().st_size > options.max_bytes:
            raise _unreadable(path, "it is a workbook too large to read",
                              "save it as CSV or Parquet")
        kind = sniff_format(path.read_bytes(), path.name)
    else:
        kind = sniff_format(head, path.name)
    if kind in _REFUSALS:
        raise _unreadable(path, *_REFUSALS[kind])
    if kind == "parquet":
        fmt, read_path, args = FileFormat(kind="parquet", header_row=0), path, None
    elif kind == "excel":
        read_path, header_row, sheets = excel_copy(path, options, problems)
        fmt = FileFormat(kind="excel", header_row=header_row, sheets=sheets)
        args = "header=true, delim=','"
    else:
        text = read_text_log(path, head, complete=len(head) < HEAD_BYTES,
                             compressed=compressed, options=options, problems=problems)
        fmt = FileFormat(kind="csv", encoding=text.encoding, delimiter=text.delimiter,
                         header_row=text.header_row)
        read_path, args = text.read_path, text.csv_args
    if read_path == path:
        read_path = literal_path(path)  # DuckDB would read "[2024]" or "*" as a pattern
    opened = OpenedSource(fmt, read_path, read_path != path, args, (), ())
    if decimal is None:
        decimal = _detect_decimal_comma(opened, problems) if args is not None else ()
    elif decimal:
        _check_columns(opened, decimal, path)
    logger.info("event log %s: %s", path.name, fmt)
    return dataclasses.replace(opened, decimal_comma=tuple(decimal), problems=tuple(problems))


def _head(path: Path) -> tuple[bytes, bool]:
    """The first :data:`HEAD_BYTES` of the file (decompressed) and whether it is gzip."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if not head.startswith(b"\x1f\x8b"):
        return head, False
    try:
        with gzip.open(path, "rb") as f:
            return f.read(HEAD_BYTES), True
    except (OSError, EOFError, zlib.error) as exc:
        raise _unreadable(path, f"the gzip file is damaged ({exc})",
                          "compress it again or use it uncompressed") from exc


def _check_columns(opened: OpenedSource, names: tuple[str, ...], path: Path) -> None:
    """Raise ``EVENTS_UNKNOWN_COLUMN`` when ``decimal_comma`` names a column not in the file."""
    con = duckdb.connect()
    try:
        columns = [r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM {relation_sql(opened)}").fetchall()]
    except duckdb.Error as exc:
        raise engine_error(path, exc, "check the delimiter and the quotes") from exc
    finally:
        con.close()
    missing = [n for n in names if n not in columns]
    if missing:
        raise ChurnDataError([Problem(
            "EVENTS_UNKNOWN_COLUMN", "error",
            f"decimal_comma names {', '.join(map(repr, missing))}, not in {path.name} "
            f"(columns: {', '.join(columns[:20])}).", column=missing[0],
            values=tuple(missing[:5]), action="name columns of the file")])


def _detect_decimal_comma(opened: OpenedSource, problems: list[Problem]) -> tuple[str, ...]:
    """Text columns whose sampled numbers use a decimal comma (``12,50``, ``1.234,50``)."""
    con = duckdb.connect()
    try:
        frame = con.execute(f"SELECT * FROM {relation_sql(opened)} LIMIT {SAMPLE_ROWS}").df()
    except duckdb.Error as exc:
        logger.debug("decimal comma check skipped: %s", exc)
        return ()
    finally:
        con.close()
    found = []
    for col in frame.columns:
        text = frame[col].dropna().astype(str).str.strip()
        if uses_decimal_comma(text):
            found.append(col)
            problems.append(Problem(
                "EVENTS_DECIMAL_COMMA", "info",
                f"Column {col!r} writes numbers with a decimal comma ('.' groups thousands); "
                "read that way.", column=col, values=example_values(
                    text[text.str.contains(",", regex=False)].iloc[:5]),
                action="set decimal_comma to override"))
    return tuple(found)
