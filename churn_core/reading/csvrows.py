"""Row facts of parsed delimited text, for :mod:`churn_core.reading.table`'s reports.

The C parser pads short rows silently and numbers skipped rows by record, not by
file line; these helpers re-read the text with :mod:`csv` to say which rows were
short and on which line of the file each reported record starts.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable

import numpy as np

logger = logging.getLogger(__name__)


def record_lines(body: bytes, delimiter: str, records: Iterable[int]) -> dict[int, int]:
    """Map the parser's 1-based record numbers (header = 1, blank lines counted) to the
    1-based line of ``body`` where each record starts.

    They differ when quoted fields hold line breaks: a record then spans several
    lines, and the parser's numbers fall behind the lines a user sees in an editor.
    Records not found (the text cannot be read by :mod:`csv`) map to themselves.
    """
    wanted = set(records)
    found: dict[int, int] = {}
    if not wanted:
        return found
    reader = csv.reader(io.StringIO(body.decode("utf-8", errors="replace"), newline=""),
                        delimiter=delimiter, strict=False)
    last = max(wanted)
    start = 1
    try:
        for number, _ in enumerate(reader, start=1):
            if number in wanted:
                found[number] = start
            if number >= last:
                break
            start = reader.line_num + 1
    except csv.Error as exc:
        logger.debug("line numbers of skipped rows left as the parser's: %s", exc)
    return {n: found.get(n, n) for n in wanted}


def short_rows(body: bytes, delimiter: str, width: int, n_rows: int) -> np.ndarray | None:
    """Mask of data rows that had fewer fields than the header (pandas pads them silently).

    ``body`` is the UTF-8 text from the header line on. Blank lines are skipped
    and lines with more than ``width`` fields are left out, as the parser does.
    Returns None when the count does not line up with the ``n_rows`` parsed rows
    (unbalanced quotes, odd line ends): then nothing is claimed.
    """
    reader = csv.reader(io.StringIO(body.decode("utf-8", errors="strict"), newline=""),
                        delimiter=delimiter)
    try:
        counts = np.fromiter((len(r) for r in reader if r), dtype=np.int64)
    except csv.Error:
        return None
    data = counts[1:]
    data = data[data <= width]
    return data < width if data.size == n_rows else None
