"""Helpers shared by the file-reading tests (problem lookups, bad-file builders)."""

from __future__ import annotations

import io

import openpyxl
import pytest

from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.table import ReadOptions, ReadResult, read_table


def codes(result: ReadResult | ChurnDataError) -> set[str]:
    return {p.code for p in result.problems}


def problem(result: ReadResult | ChurnDataError, code: str, column: str | None = None) -> Problem:
    found = [p for p in result.problems
             if p.code == code and (column is None or p.column == column)]
    assert found, f"no {code} for {column!r} in {[(p.code, p.column) for p in result.problems]}"
    return found[0]


def read_error(data: bytes, name: str = "data.csv", **options: object) -> ChurnDataError:
    with pytest.raises(ChurnDataError) as info:
        read_table(data, name=name, options=ReadOptions(**options))
    assert all(isinstance(p, Problem) for p in info.value.problems)
    return info.value


def xlsx_bytes(rows: list[list[object]], title: str = "Sheet1",
               extra: dict[str, list[list[object]]] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for sheet, sheet_rows in (extra or {}).items():
        other = wb.create_sheet(sheet)
        for row in sheet_rows:
            other.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
