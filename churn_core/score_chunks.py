"""Scoring a CSV too big for memory: read, score and write it in pieces.

:func:`score_csv_in_chunks` cuts a delimited text file at line ends into pieces of about
:data:`CHUNK_BYTES`, reads each with the layout the first piece was read with (encoding,
delimiter, header line, the bundle's id column as exact text), scores it with
:func:`churn_core.score.score_frame` and appends its rows to the output, so memory holds
at most three pieces (the next one read and the last one written while one is scored)
whatever the file's size (10M customers: under 4 GB). Every score, tier, segment and
reason depends on its own row only, so the file written is the one the whole-file path
writes; :func:`should_chunk` says when to take this path (text files of at least
:data:`CHUNK_FROM_BYTES`, gzip-compressed ones of at least an eighth of that, read as a
stream). A top N needs every score before any row can be written: the file is then read
twice, first only to predict and keep the N best rows (ties in file order, as the
whole-file path breaks them), then to score and write every piece with those rows
flagged.

Column types are decided per piece: a column that is numbers in one piece and mostly
text in another is read as each piece says (a whole-file read would decide once).
Problems are merged by code, with counts added up and row numbers those of the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import logging
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from churn_core.actions import ActionRules
from churn_core.bundle import ModelBundle
from churn_core.export import escape_formulas
from churn_core.outputs import writing
from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress
from churn_core.reading.table import ReadOptions, ReadResult, read_table, sniff_format
from churn_core.score import Selected, _check_cut, ranked_scores, score_frame

__all__ = ["CHUNK_BYTES", "CHUNK_FROM_BYTES", "ChunkedScore", "score_csv_in_chunks",
           "should_chunk"]

log = logging.getLogger(__name__)

#: Text files at least this large are scored in pieces.
CHUNK_FROM_BYTES = 256 * 1024**2
#: Gzip files are read as a stream; text compresses 4-10 times, so a compressed file of
#: ``CHUNK_FROM_BYTES / GZIP_RATIO`` holds about ``CHUNK_FROM_BYTES`` of text or more.
GZIP_RATIO = 8
_GZIP_MAGIC = b"\x1f\x8b"
#: About this many bytes of the file per piece.
CHUNK_BYTES = 128 * 1024**2
# Encodings in which a byte 0x0A is always a line end (never part of a character).
_LINE_SAFE = {"utf-8", "utf-8-sig", "ascii", "gb18030", "gbk", "gb2312", "big5", "cp1252",
              "latin-1", "iso-8859-1", "shift_jis", "cp932", "euc-kr", "cp949"}


@dataclass(frozen=True)
class ChunkedScore:
    """What scoring in pieces wrote.

    Attributes
    ----------
    rows : int
        Customers written.
    at_risk : int
        Of which flagged.
    threshold : float
    pieces : int
    problems : tuple of Problem
        Merged by code over the pieces (read notes and scoring notes).
    """

    rows: int
    at_risk: int
    threshold: float
    pieces: int
    problems: tuple[Problem, ...]


def should_chunk(path: str | Path, *, min_bytes: int = CHUNK_FROM_BYTES) -> bool:
    """True when ``path`` is a text table of at least ``min_bytes`` (a gzip-compressed one
    of at least ``min_bytes / GZIP_RATIO``)."""
    p = Path(path)
    if not p.is_file():
        return False
    size = p.stat().st_size
    try:
        with _open_text_stream(p) as (stream, raw):
            head = stream.read(64 * 1024)
            compressed = stream is not raw
    except (OSError, EOFError, zlib.error):
        return False  # the whole-file path says what is wrong with it
    if size < (min_bytes // GZIP_RATIO if compressed else min_bytes):
        return False
    inner = p.name[:-3] if compressed and p.name.lower().endswith(".gz") else p.name
    return sniff_format(head, inner) == "csv"


@contextlib.contextmanager
def _open_text_stream(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """The file's bytes as a stream (decompressed as they are read when it is gzip), and
    the file itself (the same object when it is not compressed; its position says how
    much of the file was read)."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            yield raw, raw
            return
        with gzip.GzipFile(fileobj=raw) as stream:
            yield stream, raw


def _pieces(path: Path, chunk_bytes: int) -> Iterator[tuple[bytes, float]]:
    """The file's (decompressed) bytes in pieces that end at a line end outside quotes, each
    with the share of the file read so far.

    Raises
    ------
    ChurnDataError
        ``UNREADABLE`` when a gzip stream is damaged or cut short.
    """
    total = max(path.stat().st_size, 1)
    with _open_text_stream(path) as (stream, raw):
        carry = b""
        while True:
            try:
                block = stream.read(chunk_bytes)
            except (OSError, EOFError, zlib.error) as exc:
                raise ChurnDataError([Problem(
                    "UNREADABLE", "error", f"{path.name}: the gzip file is damaged ({exc}).",
                    action="compress the file again or score it uncompressed")]) from None
            done = min(raw.tell() / total, 1.0)
            if not block:
                if carry:
                    yield carry, done
                return
            data = carry + block
            cut = data.rfind(b"\n") + 1
            # a quoted field holding a line break: move the cut back until quotes balance
            while cut > 0 and data.count(b'"', 0, cut) % 2:
                cut = data.rfind(b"\n", 0, cut - 1) + 1
            if cut <= 0:
                carry = data
                continue
            yield data[:cut], done
            carry = data[cut:]


def _write_piece(sink: BinaryIO, table: pd.DataFrame, first: bool) -> None:
    """Append a scored piece to the output (the header and the byte-order mark once)."""
    body = escape_formulas(table).to_csv(index=False, header=first, lineterminator="\r\n")
    sink.write(body.encode("utf-8-sig" if first else "utf-8"))


def _shift_rows(problem: Problem, offset: int) -> Problem:
    if not problem.rows or not offset:
        return problem
    return dataclasses.replace(problem, rows=tuple(r + offset for r in problem.rows))


def _merge(merged: dict[tuple, Problem], found: list[Problem] | tuple[Problem, ...],
           offset: int) -> None:
    for p in found:
        key = (p.code, p.column)
        p = _shift_rows(p, offset)
        if key not in merged:
            merged[key] = p
            continue
        first = merged[key]
        count = (first.count or 0) + (p.count or 0)
        rows = tuple((first.rows or ()) + (p.rows or ()))[:5]
        merged[key] = dataclasses.replace(first, count=count or first.count, rows=rows)


def _read_pieces(path: Path, chunk_bytes: int, opts: ReadOptions
                 ) -> Iterator[tuple[float, ReadResult]]:
    """Each piece of the file read as a table (with the share of the file read so far).

    The first piece decides the layout (encoding, delimiter, header line) the others are
    read with. The next piece is read in a background thread while the caller works on
    this one (the CSV parser releases the GIL); at most two pieces are held.

    Raises
    ------
    ChurnDataError
        As :func:`churn_core.reading.table.read_table`; ``UNREADABLE`` for an encoding
        that cannot be cut at line ends; ``EMPTY_FILE``.
    """
    source = _pieces(path, chunk_bytes)
    first, done = next(source, (None, 0.0))
    if first is None:
        raise ChurnDataError([Problem("EMPTY_FILE", "error", f"{path.name}: the file is empty.")])
    read = read_table(first, name=path.name,
                      options=dataclasses.replace(opts, max_bytes=len(first) + 1))
    if read.encoding not in _LINE_SAFE:
        raise ChurnDataError([Problem(
            "UNREADABLE", "error", f"{path.name}: the {read.encoding} encoding "
            "cannot be cut into pieces at line ends.",
            action="save the file as UTF-8, or score a smaller file")])
    header = first.split(b"\n", read.header_row + 1)[read.header_row] + b"\n"
    del first
    later = dataclasses.replace(opts, encoding=read.encoding, delimiter=read.delimiter,
                                header_row=0)

    def read_later(piece: bytes, done: float) -> tuple[float, ReadResult]:
        return done, read_table(header + piece, name=path.name, options=dataclasses.replace(
            later, max_bytes=len(header) + len(piece) + 1))

    with ThreadPoolExecutor(1, thread_name_prefix="churn-read") as reader:
        current: tuple[float, ReadResult] | None = (done, read)
        del read
        while current is not None:
            upcoming = next(source, None)
            ahead = reader.submit(read_later, *upcoming) if upcoming is not None else None
            del upcoming
            yield current
            current = ahead.result() if ahead is not None else None


def _top_rows(bundle: ModelBundle, path: Path, chunk_bytes: int, opts: ReadOptions,
              top_n: int, report: Progress) -> tuple[np.ndarray, float]:
    """The file rows (0-based, data rows) of the ``top_n`` highest scores among current
    customers, ties broken by file order as :func:`score_frame` breaks them, and the cut:
    a first pass that only predicts (no reasons), holding ``top_n`` candidates."""
    best_score, best_row = np.empty(0), np.empty(0, dtype=np.int64)
    offset = 0
    for done, read in _read_pieces(path, chunk_bytes, opts):
        ranked = ranked_scores(bundle, read.frame)
        current = np.flatnonzero(ranked > -np.inf)
        score = np.concatenate([best_score, ranked[current]])
        row = np.concatenate([best_row, offset + current])
        keep = np.lexsort((row, -score))[:top_n]  # highest first, then file order
        best_score, best_row = score[keep], row[keep]
        offset += len(read.frame)
        report(0.3 * done, f"Ranked {offset:,} rows for the top {top_n:,}")
    cut = float(best_score[-1]) if best_score.size else float("inf")
    return np.sort(best_row), cut


def score_csv_in_chunks(
    bundle: ModelBundle,
    path: str | Path,
    out: str | Path,
    *,
    options: ReadOptions | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    threshold: float | None = None,
    top_n: int | None = None,
    at_risk_only: bool = False,
    explain_rows: str = "at_risk",
    rules: ActionRules | None = None,
    value: float | str | None = None,
    transform_table=None,
    progress: Progress | None = None,
    device: str = "auto",
) -> ChunkedScore:
    """Score a large CSV piece by piece and write one CSV, as :func:`score_frame` +
    :func:`churn_core.export.to_csv_bytes` would for the whole file.

    Parameters
    ----------
    bundle : ModelBundle
    path : str or Path
        A delimited text file, plain or gzip-compressed.
    out : str or Path
        The CSV to write (written beside and renamed into place when complete).
    options : ReadOptions, optional
        How to read the file; the first piece's encoding, delimiter and header line are
        then kept for the others.
    chunk_bytes : int
        About this many bytes per piece.
    threshold, top_n, at_risk_only, explain_rows, rules, value
        As in :func:`churn_core.score.score_frame`. A top N needs every score first: the
        file is read twice, first to find its rows (probabilities only), then to score
        and write every piece.
    transform_table : callable, optional
        Applied to each piece's table before writing (e.g. pseudonymising the ids).
    progress : callable, optional
    device : {"auto", "cpu", "cuda"}
        As in :func:`churn_core.score.score_frame`.

    Returns
    -------
    ChunkedScore

    Raises
    ------
    ChurnDataError
        As :func:`score_frame` and :func:`churn_core.reading.table.read_table` do; a piece
        where every customer already churned is skipped (an error only when all are).
    """
    report = progress or (lambda f, m: None)
    path = Path(path)
    opts = (options or ReadOptions()).with_id(bundle.schema.id_column)
    _check_cut(threshold, top_n)
    top = _top_rows(bundle, path, chunk_bytes, opts, top_n, report) if top_n else None
    start, span = (0.3, 0.7) if top else (0.0, 1.0)
    merged: dict[tuple, Problem] = {}
    offset = written = flagged = pieces = scored = 0
    cut = float("nan")
    # The last piece is written in a background thread while the next is scored (the CSV
    # parser and XGBoost release the GIL: on 2 cores the `score` command on a 1M-row file
    # took 16.4 s instead of 18.6 s, the same bytes written, peak memory 1.68 GB instead
    # of 1.86); memory holds at most three pieces.
    with writing(Path(out)) as tmp, open(tmp, "wb") as sink, \
            ThreadPoolExecutor(1, thread_name_prefix="churn-write") as writer:
        pending_write: Future | None = None
        for done, read in _read_pieces(path, chunk_bytes, opts):
            pieces += 1
            n = len(read.frame)
            _merge(merged, [p for p in read.problems if p.code not in
                            ("ENCODING_DETECTED", "DELIMITER_DETECTED") or pieces == 1],
                   offset)
            selected = None
            if top is not None:
                rows, top_cut = top
                lo, hi = np.searchsorted(rows, [offset, offset + n])
                selected = Selected(rows[lo:hi] - offset, top_cut)
            try:
                result = score_frame(bundle, read.frame, threshold=threshold,
                                     at_risk_only=at_risk_only, explain_rows=explain_rows,
                                     rules=rules, value=value, device=device,
                                     selected=selected)
            except ChurnDataError as exc:
                if [p.code for p in exc.problems if p.severity == "error"] != \
                        ["NO_CURRENT_CUSTOMERS"]:
                    raise
                _merge(merged, [dataclasses.replace(p, code="ALREADY_CHURNED", severity="info")
                                for p in exc.problems], offset)
                offset += n
                continue
            _merge(merged, result.problems, offset)
            offset += n
            table = transform_table(result.table) if transform_table else result.table
            if pending_write is not None:
                pending_write.result()  # pieces are written in order
            pending_write = writer.submit(_write_piece, sink, table, scored == 0)
            scored += 1
            written += len(table)
            # an at-risk-only piece has no always-true at_risk column: every row is flagged
            flagged += (int(result.table["at_risk"].sum()) if "at_risk" in result.table
                        else len(result.table))
            cut = result.threshold
            report(start + span * done,
                   f"Scored {offset:,} rows in {pieces} pieces ({written:,} written)")
            log.info("piece %d: %d rows scored, %d written", pieces, n, written)
            del result, table, read
        if pending_write is not None:
            pending_write.result()
        if scored == 0:
            raise ChurnDataError([Problem(
                "NO_CURRENT_CUSTOMERS", "error", f"{path.name}: every row says churned: "
                "there is nobody left to contact.")])
    return ChunkedScore(rows=written, at_risk=flagged, threshold=cut, pieces=pieces,
                        problems=tuple(merged.values()))
