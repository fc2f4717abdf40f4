"""Cell values for :mod:`churn_core.io`: header names, missing tokens, text numbers, ids.

Columns arrive as text (CSV) or as typed cells (Excel, Parquet) and leave as
either ``float64`` (numbers) or the pandas ``"str"`` dtype with NaN for missing
(text: ids, categories, dates, booleans). Every change is reported as a
:class:`~churn_core.problems.Problem`; the work is vectorised per column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from churn_core.problems import (
    ChurnDataError,
    Problem,
    describe_rows,
    example_rows,
    example_values,
)

#: The text dtype of every text column: pandas' ``"str"`` with NaN for missing.
TEXT_DTYPE = pd.StringDtype(na_value=np.nan)
#: A column becomes numeric when at least this share of its non-missing values are numbers.
NUMERIC_SHARE = 0.95
#: Below NUMERIC_SHARE but at least this share: kept as text with a MOSTLY_NUMBERS warning.
MOSTLY_SHARE = 0.5
SCREEN_VALUES = 2000  # values looked at before parsing a whole column
#: The note :func:`parse_numbers` gives when it read a column the European way.
EUROPEAN_NOTE = "European format: '.' groups thousands, ',' marks decimals"

_ID_WHOLE = frozenset({"id", "uid", "uuid", "guid", "customer",
                       "编号", "編號", "用户id", "用戶id", "客户id", "會員id", "会员id"})
_ID_SUFFIX = re.compile(r"[\s_\-.](?:id|no|nr|number|code)\.?$", re.IGNORECASE)  # order_no
_ID_CAMEL = re.compile(r"[a-z0-9\u4e00-\u9fff](?:ID|Id|No|Code)\.?$")          # CustomerID
_ID_CJK = re.compile(r"[\u4e00-\u9fff](?:id|ID|Id|编号|編號|编码|編碼|号|號)$")  # 客户编号
# Number patterns run in pyarrow (RE2); "[0-9]" rather than "\d" keeps them ASCII-only.
_PLAIN = r"(?i)^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity)$"
_CURRENCY = r"(?:[¥$€£₩₹]|RMB|CNY|USD|EUR|GBP)"
_US = r"^(?:[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+)$"
_EU = r"^(?:[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]*)?|[+-]?,[0-9]+)$"
_EU_ONLY = (r"^(?:[+-]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[+-]?[0-9]+,(?:[0-9]{1,2}|[0-9]{4,})"
            r"|[+-]?[0-9]{1,3}(?:\.[0-9]{3}){2,})$")
_US_ONLY = (r"^(?:[+-]?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+|[+-]?[0-9]*\.(?:[0-9]{1,2}|[0-9]{4,})"
            r"|[+-]?[0-9]{1,3}(?:,[0-9]{3}){2,})$")


def fail(problems: list[Problem], code: str, message: str, action: str = "") -> NoReturn:
    """Raise :class:`ChurnDataError` carrying ``problems`` plus one error built from the rest."""
    problems.append(Problem(code, "error", message, action=action))
    raise ChurnDataError(list(problems))


def is_id_name(name: str) -> bool:
    """Return True when a column name looks like an identifier (kept as text).

    Matches ``id``, ``uid``, ``customer``, ``编号``, ``用户ID``, names ending in
    ``_id``/`` id``/``_no``/``_code`` and camel case ``CustomerID``, ``InvoiceNo``,
    ``StockCode``. Case-insensitive for whole names, so ``ID`` and ``Id`` count.
    """
    name = name.strip()
    return (name.lower() in _ID_WHOLE or bool(_ID_SUFFIX.search(name))
            or bool(_ID_CAMEL.search(name)) or bool(_ID_CJK.search(name)))


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
    if not convert_numbers and text_reason is None:
        return out
    present = text.dropna()
    if present.empty:
        return out
    screen = parse_numbers(present.iloc[:SCREEN_VALUES])[0].notna().mean()
    if text_reason is not None:
        if screen >= NUMERIC_SHARE:
            note = ""
            if present.str.fullmatch(r"[+-]?[0-9]+\.0+").all():  # 17850.0: a float artefact
                out.values = text.str.replace(r"\.0+$", "", regex=True)
                note = "; the '.0' ending every value was removed"
            out.problems.append(Problem(
                "KEPT_AS_TEXT", "info", f"{name}: kept as text because {text_reason}{note}.",
                column=name, values=example_values(present.iloc[:5]), action="kept as text"))
        return out
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


def parse_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series, list[str]]:
    """Parse text numbers: ``1,234``, ``¥1,299``, ``$12.50``, ``12%``, ``1.234,50``, ``(12)``.

    A column is read the European way (``.`` groups thousands, ``,`` marks
    decimals) only when more of its values can only be European (``1.234,50``,
    ``12,5``) than can only be English (``1,234.50``, ``12.5``).

    Parameters
    ----------
    text : pd.Series
        Trimmed text, NaN for missing.

    Returns
    -------
    numbers : pd.Series
        float64, NaN where a value is missing or not a number (inf kept).
    cleaned : pd.Series
        bool, True where the value needed cleaning to parse.
    notes : list of str
        What the cleaning did, for the message.
    """
    arr = _arrow(text)
    plain = _to_float(arr)
    need = pc.and_(pc.is_valid(arr), pc.is_nan(plain))
    if not pc.any(need).as_py():
        return _series(plain, text), pd.Series(False, index=text.index), []
    core, negative, currency, percent = _number_core(pc.filter(arr, need))
    eu = False
    if pc.any(pc.match_substring(core, ",")).as_py():
        eu_votes = _count(core, _EU_ONLY)
        if eu_votes:
            clean = pc.filter(arr, pc.invert(need))
            eu = eu_votes > _count(core, _US_ONLY) + _count(clean, _US_ONLY)
    target = need
    if eu:  # "1.234" means 1234 here: read every value the European way
        target = pc.is_valid(arr)
        core, negative, currency, percent = _number_core(pc.filter(arr, target))
    ok = pc.match_substring_regex(core, _EU if eu else _US)
    part = pc.if_else(ok, core, pa.scalar(None, pa.large_string()))
    if eu:
        part = pc.replace_substring(pc.replace_substring(part, ".", ""), ",", ".")
    else:
        part = pc.replace_substring(part, ",", "")
    parsed = _to_float(part)
    parsed = pc.if_else(negative, pc.negate(parsed), parsed)
    numbers = _series(plain, text)
    mask = _series(target, text).astype(bool)
    numbers[mask] = parsed.to_numpy(zero_copy_only=False)
    cleaned = mask & numbers.notna() & ~(numbers == _series(plain, text))
    used = pa.array(cleaned[mask].to_numpy())
    notes = []
    if eu:
        notes.append(EUROPEAN_NOTE)
    elif pc.any(pc.match_substring(pc.filter(core, used), ",")).as_py():
        notes.append("thousands separators removed")
    for flag, note in ((currency, "currency symbols removed"), (percent, "'12%' read as 12.0"),
                       (negative, "'(12)' read as -12")):
        if pc.any(pc.and_(flag, used)).as_py():
            notes.append(note)
    return numbers, cleaned, notes or ["spaces or full-width characters removed"]


def uses_decimal_comma(text: pd.Series) -> bool:
    """Return True when ``text`` holds numbers with a decimal comma (``12,50``, ``1.234,50``).

    The decision of :func:`parse_numbers`, for readers that convert the values
    themselves: at least :data:`NUMERIC_SHARE` of the non-missing values must be
    numbers read that way.

    Parameters
    ----------
    text : pd.Series
        Trimmed text, NaN for missing.
    """
    present = text.dropna()
    if present.empty or not present.str.contains(",", regex=False).any():
        return False
    numbers, _, notes = parse_numbers(present)
    return EUROPEAN_NOTE in notes and numbers.notna().mean() >= NUMERIC_SHARE


def _arrow(text: pd.Series) -> pa.Array:
    return pa.array(text.astype(TEXT_DTYPE), type=pa.large_string())


def _series(values: pa.Array, like: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(zero_copy_only=False), index=like.index)


def _count(arr: pa.Array, pattern: str) -> int:
    return int(pc.sum(pc.match_substring_regex(arr, pattern)).as_py() or 0)


def _to_float(arr: pa.Array) -> pa.Array:
    """Parse plain number text (``12``, ``-1.5e3``, ``inf``) to float64; anything else NaN.

    pyarrow's regex filter and cast are ~10x faster than ``pd.to_numeric`` on text.
    """
    ok = pc.fill_null(pc.match_substring_regex(arr, _PLAIN), False)
    numbers = pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.large_string())), pa.float64())
    return pc.fill_null(numbers, float("nan"))


def _number_core(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Strip currency, percent, accounting brackets and digit-group spaces from number text.

    Returns the remaining core text and bool masks: negative, currency, percent.
    Values holding full-width forms or special spaces are NFKC-normalised first
    (``１２``, ``￥``, no-break spaces); the rest skip that slow step.
    """
    odd = pc.match_substring_regex(arr, "[\uff00-\uffef\u00a0\u2000-\u206f\u2212]")
    if pc.any(odd).as_py():
        arr = pc.if_else(odd, pc.utf8_normalize(arr, form="NFKC"), arr)
        arr = pc.replace_substring(arr, "\u2212", "-")
    negative = pc.match_substring_regex(arr, r"^\(.+\)$")
    core = arr
    if pc.any(negative).as_py():
        core = pc.replace_substring_regex(core, r"^\((.+)\)$", r"\1")
    currency = pc.match_substring_regex(core, _CURRENCY)
    percent = pc.ends_with(core, "%")
    core = pc.replace_substring_regex(
        core, rf"^([+-]?) *(?:{_CURRENCY})? *(.*?) *(?:%|{_CURRENCY}|元)?$", r"\1\2")
    # "1 234 567" and "1'234.50" group digits by threes; "+86 138 0000 0000" (a phone
    # number) does not and must stay text, so only whole values in that shape lose spaces.
    grouped = pc.match_substring_regex(core, r"^[+-]?[0-9]{1,3}(?:[ '][0-9]{3})+(?:[.,][0-9]*)?$")
    if pc.any(grouped).as_py():
        core = pc.if_else(grouped, pc.replace_substring_regex(core, "[ ']", ""), core)
    return core, negative, currency, percent


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
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        if text_reason is not None:
            finite = numbers.where(np.isfinite(numbers))
            return ColumnOutcome(_id_text(finite), [Problem(
                "KEPT_AS_TEXT", "info", f"{name}: numbers kept as text because {text_reason}.",
                column=name, action="converted to text")])
        problems: list[Problem] = []
        return ColumnOutcome(_drop_inf(name, numbers, values, problems), problems)
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
