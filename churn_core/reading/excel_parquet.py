"""Excel and Parquet readers for :mod:`churn_core.reading.table`.

They return the header cells and the data cells with their types (numbers stay
numbers); :mod:`churn_core.reading.table` cleans the header and converts the columns the
same way for every format.
"""

from __future__ import annotations

import io
import logging

import pandas as pd

from churn_core.problems import ChurnDataError, Problem, example_values
from churn_core.reading.cells import cell_to_text, fail, is_filled

logger = logging.getLogger(__name__)

HEADER_SCAN = 50  # non-empty rows looked at to find the header
MAX_SHEET_CELLS = 60_000_000  # rows x columns of a sheet's used extent (about 1M x 60)


def read_excel_sheet(data: bytes, name: str, *, sheet: str | int | None,
                     header_row: int | None, problems: list[Problem]
                     ) -> tuple[list[object], pd.DataFrame, str, int]:
    """Read one sheet of an ``.xlsx`` workbook with openpyxl, keeping typed cells.

    Parameters
    ----------
    data : bytes
        The workbook.
    name : str
        File name for messages.
    sheet : str or int, optional
        Sheet name or 0-based index; None reads the largest sheet (``SHEET_CHOSEN``).
    header_row : int, optional
        0-based row of the header; None finds the first row as full as most rows.
    problems : list of Problem
        Appended to; carried by the error when one is raised.

    Returns
    -------
    header : list
        Header cells.
    body : pd.DataFrame
        Data cells as Python objects, columns 0..n-1, RangeIndex.
    sheet : str
        The sheet read.
    header_row : int
        0-based row of the header.

    Raises
    ------
    ChurnDataError
        Damaged workbook (``UNREADABLE``), unknown sheet, empty sheet.
    """
    import openpyxl  # imported here: slow to import and only needed for workbooks

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any failure of the parser means a damaged file
        logger.debug("openpyxl failed on %s", name, exc_info=True)
        fail(problems, "UNREADABLE", f"{name}: the workbook could not be opened ({exc}).",
             "open it in Excel and save it again as .xlsx")
    try:
        sheets = wb.worksheets
        titles = [ws.title for ws in sheets]
        if not sheets:
            fail(problems, "EMPTY_FILE", f"{name}: the workbook has no worksheets.")
        if sheet is None:
            sizes = [(ws.max_row or 0) * (ws.max_column or 0) for ws in sheets]
            ws = sheets[sizes.index(max(sizes))]
            if len(sheets) > 1:
                problems.append(Problem(
                    "SHEET_CHOSEN", "info",
                    f"{name} has sheets {', '.join(repr(t) for t in titles)}; "
                    f"read {ws.title!r}, the largest.",
                    values=tuple(titles[:5]), action="set the sheet option to override"))
        elif isinstance(sheet, int) and 0 <= sheet < len(sheets):
            ws = sheets[sheet]
        elif sheet in titles:
            ws = sheets[titles.index(sheet)]
        elif isinstance(sheet, str) and sheet.isdigit() and int(sheet) < len(sheets):
            ws = sheets[int(sheet)]  # "1" from a command line means the index
        else:
            fail(problems, "SHEET_NOT_FOUND",
                 f"{name} has no sheet {sheet!r}; its sheets are "
                 f"{', '.join(repr(t) for t in titles)}.", "choose one of those sheets")
        if hasattr(ws, "reset_dimensions"):
            # rows as wide as their cells, not as the sheet's declared (or stray) extent
            ws.reset_dimensions()
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        title = ws.title
    except ChurnDataError:
        raise
    except Exception as exc:  # damaged sheet XML surfaces as many exception types
        logger.debug("openpyxl failed on %s", name, exc_info=True)
        fail(problems, "UNREADABLE", f"{name}: the workbook could not be read ({exc}).",
             "open it in Excel and save it again as .xlsx")
    finally:
        wb.close()

    while rows and not any(is_filled(v) for v in rows[-1]):
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    if len(rows) * width > MAX_SHEET_CELLS:
        fail(problems, "TOO_LARGE",
             f"{name}: sheet {title!r} spans {len(rows):,} rows x {width:,} columns "
             f"({len(rows) * width:,} cells, the limit is {MAX_SHEET_CELLS:,}); a stray cell far "
             "below or to the right of the table can cause this.",
             "delete the cells outside the table, or save the table as CSV")
    rows = [r + (None,) * (width - len(r)) for r in rows]  # rows end at their last cell
    grid = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    filled = grid.map(is_filled) if not grid.empty else grid
    if filled.empty or not filled.to_numpy().any():
        fail(problems, "EMPTY_FILE", f"{name}: sheet {title!r} is empty.")
    counts = filled.sum(axis=1)
    if header_row is None:
        scan = counts[counts > 0].iloc[:HEADER_SCAN]
        mode = int(scan.mode().max())
        header_row = int(scan[scan >= mode].index[0])
    skipped = [" ".join(cell_to_text(v) or "" for v in rows[i]).strip()
               for i in range(min(header_row, len(rows))) if counts.iloc[i] > 0]
    if skipped:
        problems.append(Problem(
            "HEADER_SKIPPED_LINES", "info",
            f"{name}: the header is on row {header_row + 1} of sheet {title!r}; "
            f"{len(skipped)} row(s) above it were skipped.",
            count=len(skipped), values=example_values(skipped),
            action="set header_row to override"))
    keep_cols = filled.iloc[header_row:].any(axis=0).to_numpy()
    grid = grid.loc[:, keep_cols]
    header = grid.iloc[header_row].tolist() if header_row < len(grid) else []
    body = grid.iloc[header_row + 1:]
    blank = ~filled.iloc[header_row + 1:].loc[:, keep_cols].any(axis=1)
    if blank.any():
        problems.append(Problem(
            "BLANK_ROWS_DROPPED", "info",
            f"{name}: {int(blank.sum()):,} empty rows in sheet {title!r} were dropped.",
            count=int(blank.sum()), action="dropped"))
        body = body[~blank.to_numpy()]
    body = body.reset_index(drop=True)
    body.columns = range(body.shape[1])
    return header, body, title, header_row


def read_parquet_table(data: bytes, name: str, *, problems: list[Problem]
                       ) -> tuple[list[object], pd.DataFrame, int]:
    """Read a Parquet file with pyarrow; return header, body (columns 0..n-1) and 0.

    Raises
    ------
    ChurnDataError
        ``UNREADABLE`` when pyarrow cannot read the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
        nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
        # integer columns with gaps stay Python ints (not float64, which rounds ids past 2**53)
        frame = table.to_pandas(integer_object_nulls=True)
    except Exception as exc:  # any failure of the parser means a damaged file
        logger.debug("pyarrow failed on %s", name, exc_info=True)
        fail(problems, "UNREADABLE", f"{name}: the Parquet file could not be read ({exc}).",
             "write the file again or export CSV")
    if nested:
        problems.append(Problem(
            "NESTED_AS_TEXT", "warning",
            f"{name}: {len(nested)} column(s) hold lists or records "
            f"({', '.join(repr(c) for c in nested[:5])}); each value was written out as text "
            "and cannot be a number.", column=nested[0], count=len(nested),
            values=example_values(nested), action="flatten those columns before export to "
            "use their parts"))
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()  # a named index is data the user saved
    header = list(frame.columns)
    frame = frame.reset_index(drop=True)
    frame.columns = range(frame.shape[1])
    return header, frame, 0
