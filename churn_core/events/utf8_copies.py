"""UTF-8 copies of event logs that DuckDB cannot read as they are.

DuckDB reads UTF-8 text only (latin-1 and UTF-16 aside, and no other encoding
without extensions that need the internet) and no ``.xlsx`` without an
extension. Such a file is copied once into this process's scratch folder
(:func:`churn_core.events.spill.scratch_file`, removed at exit): text is
re-encoded in 1 MB chunks (never the whole file in memory), whitespace-separated
text is rewritten as CSV line by line, and workbooks are read with
:mod:`churn_core.reading.excel_parquet` as for customer tables.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import logging
import time
from pathlib import Path
from typing import BinaryIO, TextIO

from churn_core.events.spill import scratch_file
from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.cells import cell_to_text, clean_header
from churn_core.reading.excel_parquet import read_excel_sheet
from churn_core.reading.table import ReadOptions

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


def utf8_copy(path: Path, *, compressed: bool, encoding: str, whitespace: bool,
              skip_lines: int) -> Path:
    """Copy a text file as UTF-8; whitespace-separated text becomes comma-separated.

    Parameters
    ----------
    path : Path
        The user's file (gzip when ``compressed``).
    encoding : str
        Its encoding (a Python codec name).
    whitespace : bool
        Fields are separated by runs of spaces or tabs: write them as CSV, from
        line ``skip_lines`` (0-based) on.
    skip_lines : int
        Lines above the first record (whitespace text only; otherwise kept).

    Returns
    -------
    Path
        The copy, in the scratch folder.

    Raises
    ------
    ChurnDataError
        ``EVENTS_UNDECODABLE`` when a later part of the file is not valid ``encoding``.
    """
    started = time.perf_counter()
    dest = scratch_file(".csv")
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as raw, dest.open("w", encoding="utf-8", newline="") as out:
            if whitespace:
                _rewrite_whitespace(raw, out, encoding, skip_lines)
            else:
                _reencode(raw, out, encoding)
    except _Undecodable as exc:
        dest.unlink(missing_ok=True)
        raise ChurnDataError([Problem(
            "EVENTS_UNDECODABLE", "error",
            f"Cannot read the event log {path.name}: its start reads as {encoding} but a later "
            f"part does not ({exc}).", values=(encoding,),
            action="give the file's encoding, or export it again as UTF-8")]) from exc
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    logger.info("copied %s (%s) to UTF-8 in %.1f s", path.name, encoding,
                time.perf_counter() - started)
    return dest


class _Undecodable(ValueError):
    """Bytes past the sampled start that the encoding rejects; the message says where."""


def _reencode(raw: BinaryIO, out: TextIO, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    while True:
        chunk = raw.read(CHUNK_BYTES)
        try:
            out.write(decoder.decode(chunk, final=not chunk))
        except UnicodeDecodeError as exc:
            raise _Undecodable(f"{exc.reason} near byte {done + max(exc.start, 0):,}") from exc
        if not chunk:
            return
        done += len(chunk)


def _rewrite_whitespace(raw: BinaryIO, out: TextIO, encoding: str, skip_lines: int) -> None:
    reader = codecs.getreader(encoding)(raw, errors="strict")
    writer = csv.writer(out, lineterminator="\n")
    number = 0
    try:
        for number, line in enumerate(reader, start=1):
            fields = line.split()
            if number > skip_lines and fields:
                writer.writerow(fields)
    except UnicodeDecodeError as exc:
        raise _Undecodable(f"{exc.reason} on line {number + 1:,}") from exc


def excel_copy(path: Path, options: ReadOptions, problems: list[Problem]
               ) -> tuple[Path, int, tuple[str, ...]]:
    """Copy an ``.xlsx`` event log as UTF-8 CSV, stacking sheets that share a header.

    Yearly sheets with one header (Online Retail II) are one log; otherwise the
    chosen sheet (``options.sheet``, else the largest, reported ``SHEET_CHOSEN``)
    is read. Cells are written as a CSV export would hold them.

    Returns
    -------
    copy : Path
    header_row : int
        0-based row of the header in the (first) sheet read.
    sheets : tuple of str
        The sheets read.
    """
    import openpyxl  # slow to import; only needed for workbooks

    data = path.read_bytes()
    names: list[str] = []
    if options.sheet is None:
        try:
            wb = openpyxl.load_workbook(path, read_only=True)
            names = list(wb.sheetnames)
            wb.close()
        except Exception:  # a damaged workbook: read_excel_sheet says so below
            logger.debug("could not list the sheets of %s", path.name, exc_info=True)
    parts = []
    if len(names) > 1:
        try:
            parts = [read_excel_sheet(data, path.name, sheet=i, header_row=options.header_row,
                                      problems=[]) for i in range(len(names))]
        except ChurnDataError:  # an empty or odd sheet: no stacking, read the largest
            parts = []
        headers = {tuple(cell_to_text(v) for v in p[0]) for p in parts}
        if parts and len(headers) == 1:
            problems.append(Problem(
                "EVENTS_SHEETS_STACKED", "info",
                f"{path.name}: sheets {', '.join(repr(n) for n in names)} have the same "
                "columns; their rows were read as one log.", values=tuple(names[:5]),
                action="set the sheet to read only one"))
        else:
            parts = []
    if not parts:
        parts = [read_excel_sheet(data, path.name, sheet=options.sheet,
                                  header_row=options.header_row, problems=problems)]
    header, _, _, header_row = parts[0]
    columns, header_problems = clean_header(header)
    problems.extend(header_problems)
    dest = scratch_file(".csv")
    with dest.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for _, body, _, _ in parts:
            for row in body.itertuples(index=False):
                writer.writerow(["" if v is None else v for v in map(cell_to_text, row)])
    sheets = tuple(p[2] for p in parts)
    logger.info("copied %s (sheets %s) to CSV", path.name, ", ".join(sheets))
    return dest, header_row, sheets
