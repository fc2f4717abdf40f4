"""Cell values for :mod:`churn_core.reading.table`: header names, missing tokens, ids, column types.

Columns arrive as text (CSV) or as typed cells (Excel, Parquet) and leave as
either ``float64`` (numbers) or the pandas ``"str"`` dtype with NaN for missing
(text: ids, categories, dates, booleans). Every change is reported as a
:class:`~churn_core.problems.Problem`; the work is vectorised per column. Numbers
written as text are parsed by :mod:`churn_core.reading.numbers`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np
import pandas as pd

from churn_core.problems import (
    ChurnDataError,
    Problem,
    describe_rows,
    example_rows,
    example_values,
)
from churn_core.reading.numbers import (
    NUMERIC_SHARE,
    TEXT_DTYPE,
    parse_numbers,
    plain_number_column,
)

#: Below NUMERIC_SHARE but at least this share: kept as text with a MOSTLY_NUMBERS warning.
MOSTLY_SHARE = 0.5
SCREEN_VALUES = 2000  # values looked at before parsing a whole column

def fail(problems: list[Problem], code: str, message: str, action: str = "") -> NoReturn:
    """Raise :class:`ChurnDataError` carrying ``problems`` plus one error built from the rest."""
    problems.append(Problem(code, "error", message, action=action))
    raise ChurnDataError(list(problems))


def cell_to_text(value: object) -> str | None:
    """Render one Excel/Parquet cell as the text a CSV export would hold; None when empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(float(value))
    if isinstance(value, dt.datetime | pd.Timestamp):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def is_filled(value: object) -> bool:
    """Return True when a typed cell holds something (not None, NaN or blank text)."""
    return cell_to_text(value) not in (None, "") and not (
        isinstance(value, str) and not value.strip())


def clean_header(raw: Sequence[object]) -> tuple[list[str], list[Problem]]:
    """Trim and NFKC-normalise header names, name blanks ``column_N``, de-duplicate.

    Parameters
    ----------
    raw : sequence
        Header cells in file order (text, numbers or None).

    Returns
    -------
    names : list of str
        Unique names: the first of a duplicated name keeps it, the others become
        ``"name (2)"``, ``"name (3)"``.
    problems : list of Problem
        ``HEADER_NORMALISED`` and ``BLANK_HEADER`` (info), ``DUPLICATE_HEADER`` (warning).
    """
    problems: list[Problem] = []
    original = [cell_to_text(v) or "" for v in raw]
    names = [unicodedata.normalize("NFKC", o.replace("\ufeff", "")).strip() for o in original]
    changed = [f"{o!r} -> {n!r}" for o, n in zip(original, names, strict=True) if o != n and n]
    if changed:
        problems.append(Problem(
            "HEADER_NORMALISED", "info",
            f"{len(changed)} column names were trimmed or Unicode-normalised (NFKC).",
            count=len(changed), values=example_values(changed), action="names cleaned"))
    taken = {n for n in names if n}
    blanks = [i for i, n in enumerate(names) if not n]
    for i in blanks:
        names[i] = _unique(f"column_{i + 1}", taken)
    if blanks:
        problems.append(Problem(
            "BLANK_HEADER", "info",
            f"{len(blanks)} columns have no name (positions "
            f"{', '.join(str(i + 1) for i in blanks[:5])}); they were named column_N.",
            count=len(blanks), values=example_values(names[i] for i in blanks),
            action="named by position"))
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        seen.setdefault(n, []).append(i)
    for name, positions in seen.items():
        if len(positions) < 2:
            continue
        renamed = []
        for k, pos in enumerate(positions[1:], start=2):
            names[pos] = _unique(f"{name} ({k})", taken)
            renamed.append(names[pos])
        where = ", ".join(str(p + 1) for p in positions)
        problems.append(Problem(
            "DUPLICATE_HEADER", "warning",
            f"The column name {name!r} appears {len(positions)} times (columns {where}).",
            column=name, count=len(positions), values=tuple(renamed[:5]),
            action=f"kept column {positions[0] + 1} as {name!r}; renamed the others "
                   + ", ".join(repr(r) for r in renamed)))
    return names, problems


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 1
    while out in taken:
        k += 1
        out = f"{name}_{k}"
    taken.add(out)
    return out


@dataclass
class ColumnOutcome:
    """A converted column, what happened to it, and how many values were trimmed."""

    values: pd.Series
    problems: list[Problem] = field(default_factory=list)
    trimmed: int = 0


def convert_text_column(name: str, values: pd.Series, *, na_tokens: Sequence[str],
                        convert_numbers: bool, text_reason: str | None) -> ColumnOutcome:
    """Turn a column of text into text with NaN for missing, or into float64 numbers.

    Parameters
    ----------
    name : str
        The column's (cleaned) name, for messages.
    values : pd.Series
        Text cells (NaN for absent cells), RangeIndex in file order.
    na_tokens : sequence of str
        Cell texts that mean missing, compared after trimming.
    convert_numbers : bool
        Try number conversion (``"1,234"``, ``"¥1,299"``, ``"12%"``, ``"1.234,50"``).
    text_reason : str or None
        Why the column must stay text (``"its name looks like an id"``); None to
        let the values decide.

    Returns
    -------
    ColumnOutcome
    """
    s = values if values.dtype == TEXT_DTYPE else values.astype(TEXT_DTYPE)
    if text_reason is not None:
        return _exact_text(name, s, na_tokens, text_reason)
    if convert_numbers and (plain := plain_number_column(s, na_tokens)) is not None:
        return ColumnOutcome(plain)  # what the steps below give such a column, faster
    stripped = s.str.strip()
    out = ColumnOutcome(stripped)
    out.trimmed = int((s.notna() & (stripped != s)).sum())
    is_token = stripped.isin(list(na_tokens))
    shown = is_token & (stripped != "")
    if shown.any():
        counts = stripped[shown].value_counts().iloc[:5]
        rows, count = example_rows(shown.to_numpy())
        listing = ", ".join(f"{v!r} x{n:,}" for v, n in counts.items())
        out.problems.append(Problem(
            "MISSING_TOKENS", "info",
            f"{name}: {count:,} cells treated as missing "
            f"({listing}; {describe_rows(rows, count)}).",
            column=name, rows=rows, count=count, values=tuple(counts.index),
            action="treated as missing"))
    text = stripped.where(~is_token)
    out.values = text
    if not convert_numbers:
        return out
    present = text.dropna()
    if present.empty:
        return out
    screen = parse_numbers(present.iloc[:SCREEN_VALUES])[0].notna().mean()
    if screen < MOSTLY_SHARE:
        return out
    numbers, cleaned, notes = parse_numbers(text)
    ok = numbers.notna()
    share = float(ok.sum()) / len(present)
    bad = (text.notna() & ~ok).to_numpy()
    if share < NUMERIC_SHARE:
        if share >= MOSTLY_SHARE:
            out.problems.append(_not_numbers("MOSTLY_NUMBERS", name, text, bad, len(present),
                                             "kept as text; choose numeric to convert"))
        return out
    if cleaned.any():
        rows, count = example_rows(cleaned.to_numpy())
        out.problems.append(Problem(
            "NUMBERS_CONVERTED", "info",
            f"{name}: {count:,} values were numbers written as text and were converted"
            f" ({'; '.join(notes)}).",
            column=name, rows=rows, count=count, values=example_values(text[cleaned]),
            action="converted to numbers"))
    if bad.any():
        out.problems.append(_not_numbers("NOT_NUMBERS", name, text, bad, len(present),
                                         "treated as missing"))
    out.values = _drop_inf(name, numbers, text, out.problems)
    return out


def _exact_text(name: str, s: pd.Series, na_tokens: Sequence[str],
                text_reason: str) -> ColumnOutcome:
    """Ids: every value kept exactly as written (no trimming, no missing-value tokens).

    Trimming would merge ``" A1"`` and ``"A1"``, and a customer whose id is ``NA``
    would lose it; only cells that are empty or blank are missing.
    """
    blank = s.str.strip() == ""
    text = s.where(~blank.fillna(True))
    out = ColumnOutcome(text)
    present = text.dropna()
    if present.empty:
        return out
    looks_missing = text.isin([t for t in na_tokens if t]).to_numpy()
    if looks_missing.any():
        rows, count = example_rows(looks_missing)
        out.problems.append(Problem(
            "ID_LOOKS_MISSING", "warning",
            f"{name}: {count:,} values look like missing-value markers but were kept as ids "
            f"({describe_rows(rows, count)}), because {text_reason}.", column=name, rows=rows,
            count=count, values=example_values(text[looks_missing]), action="kept as ids"))
    spaced = (present != present.str.strip()).to_numpy()
    if spaced.any():
        at, count = example_rows(spaced)
        out.problems.append(Problem(
            "ID_SPACES_KEPT", "info",
            f"{name}: {count:,} values have spaces or tabs around them; kept exactly, "
            "so two ids that differ only there stay two customers.", column=name,
            count=count, values=example_values(present[spaced]), action="kept as written"))
    if float_artefact := bool(present.str.fullmatch(r"[+-]?[0-9]+\.0+").all()):
        out.values = text.str.replace(r"\.0+$", "", regex=True)  # 17850.0: a float artefact
    if parse_numbers(present.iloc[:SCREEN_VALUES])[0].notna().mean() >= NUMERIC_SHARE:
        note = "; the '.0' ending every value was removed" if float_artefact else ""
        out.problems.append(Problem(
            "KEPT_AS_TEXT", "info", f"{name}: kept as text because {text_reason}{note}.",
            column=name, values=example_values(present.iloc[:5]), action="kept as text"))
    return out


def _not_numbers(code: str, name: str, text: pd.Series, bad: np.ndarray, total: int,
                 action: str) -> Problem:
    rows, count = example_rows(bad)
    examples = ", ".join(f"row {r} {text.iloc[r - 1]!r}" for r in rows)
    more = f", ... ({count:,} in all)" if count > len(rows) else ""
    return Problem(
        code, "warning",
        f"{name}: {count:,} of {total:,} values are not numbers ({examples}{more}).",
        column=name, rows=rows, count=count, values=example_values(text[bad]), action=action)


def _drop_inf(name: str, numbers: pd.Series, original: pd.Series,
              problems: list[Problem]) -> pd.Series:
    """Turn infinite values into NaN with an INF_VALUES warning."""
    inf = np.isinf(numbers.to_numpy(dtype="float64", na_value=np.nan))
    if inf.any():
        rows, count = example_rows(inf)
        problems.append(Problem(
            "INF_VALUES", "warning",
            f"{name}: {count:,} values are infinite or too large ({describe_rows(rows, count)}).",
            column=name, rows=rows, count=count, values=example_values(original[inf]),
            action="treated as missing"))
        numbers = numbers.mask(inf)
    return numbers.astype("float64")


def convert_typed_column(name: str, values: pd.Series, *, na_tokens: Sequence[str],
                         convert_numbers: bool, text_reason: str | None) -> ColumnOutcome:
    """Convert an Excel or Parquet column: numbers stay float64, the rest goes through text.

    Id-like numeric columns become text without ``.0`` (``50001.0`` -> ``"50001"``);
    dates and booleans become text, as in a CSV, for the schema step to parse.

    Parameters
    ----------
    name, na_tokens, convert_numbers, text_reason
        As in :func:`convert_text_column`.
    values : pd.Series
        Typed cells, RangeIndex in file order.

    Returns
    -------
    ColumnOutcome
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        kind = "boolean"
    elif pd.api.types.is_numeric_dtype(dtype):
        kind = "floating"
    elif pd.api.types.is_object_dtype(dtype):
        kind = pd.api.types.infer_dtype(values, skipna=True)
    else:
        kind = "other"
    if kind in {"integer", "floating", "mixed-integer-float", "decimal"}:
        exact = _integer_text(values, kind)
        if exact is not None and (text_reason is not None or _beyond_float(values)):
            # int64/uint64 ids above 2**53 would be rounded (and merged) by float64
            why = text_reason or "its whole numbers are too large to keep as numbers exactly"
            return ColumnOutcome(exact, [Problem(
                "KEPT_AS_TEXT", "info", f"{name}: whole numbers kept as exact text because "
                f"{why}.", column=name, values=example_values(exact.dropna().iloc[:5]),
                action="converted to text")])
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        problems_in = [Problem(
            "NUMBERS_CONVERTED", "info", f"{name}: exact decimal values were converted to "
            "floating-point numbers (about 15 significant digits).", column=name,
            values=example_values(values.dropna().astype(str).iloc[:5]),
            action="converted to numbers")] if kind == "decimal" else []
        if text_reason is not None:
            finite = numbers.where(np.isfinite(numbers))
            return ColumnOutcome(_id_text(finite), [Problem(
                "KEPT_AS_TEXT", "info", f"{name}: numbers kept as text because {text_reason}.",
                column=name, action="converted to text")])
        return ColumnOutcome(_drop_inf(name, numbers, values, problems_in), problems_in)
    if kind == "string" or kind == "other" and not pd.api.types.is_datetime64_any_dtype(dtype):
        text = values.astype(TEXT_DTYPE)
    else:
        text = pd.Series([cell_to_text(v) for v in values], index=values.index, dtype=TEXT_DTYPE)
    return convert_text_column(name, text, na_tokens=na_tokens, convert_numbers=convert_numbers,
                               text_reason=text_reason)


def _id_text(numbers: pd.Series) -> pd.Series:
    """Render numeric ids as text, integers without ``.0``."""
    present = numbers.dropna()
    if (present == np.floor(present)).all() and (present.abs() < 1e16).all():
        return numbers.astype("Int64").astype(TEXT_DTYPE)
    return numbers.map(cell_to_text).astype(TEXT_DTYPE)


#: Whole numbers up to this size survive float64 exactly.
FLOAT_EXACT = 2**53


def _integer_text(values: pd.Series, kind: str) -> pd.Series | None:
    """Exact decimal text of an integer column (int64, uint64, Python ints); else None."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype(TEXT_DTYPE)
    if kind in ("integer", "decimal") and pd.api.types.is_object_dtype(values.dtype):
        present = [v for v in values if is_filled(v)]
        if kind == "decimal" and not all(v == v.to_integral_value() for v in present):
            return None  # 12.50 is a number, not an id
        return pd.Series([None if not is_filled(v) else str(int(v)) for v in values],
                         index=values.index, dtype=TEXT_DTYPE)
    return None


def _beyond_float(values: pd.Series) -> bool:
    """True when some whole number of an integer column is too large for float64."""
    if pd.api.types.is_unsigned_integer_dtype(values.dtype):
        return bool((values.dropna() > FLOAT_EXACT).any())
    if pd.api.types.is_integer_dtype(values.dtype):
        present = values.dropna()
        return bool(((present > FLOAT_EXACT) | (present < -FLOAT_EXACT)).any())
    if pd.api.types.is_object_dtype(values.dtype):
        whole = (v for v in values if isinstance(v, int | np.integer | decimal.Decimal)
                 and not isinstance(v, bool)
                 and not (isinstance(v, decimal.Decimal) and not v.is_finite()))
        return any(abs(int(v)) > FLOAT_EXACT for v in whole)
    return False
