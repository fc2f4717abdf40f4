"""Numbers written as text: ``1,234``, ``¥1,299``, ``$12.50``, ``12%``, ``1.234,50``, ``(12)``.

Used by :mod:`churn_core.reading.cells` to convert text columns, and by the event-log
reader to decide which columns write a decimal comma. Vectorised with pyarrow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The text dtype of every text column: pandas' ``"str"`` with NaN for missing.
TEXT_DTYPE = pd.StringDtype(na_value=np.nan)
#: A column becomes numeric when at least this share of its non-missing values are numbers.
NUMERIC_SHARE = 0.95
#: The note :func:`parse_numbers` gives when it read a column the European way.
EUROPEAN_NOTE = "European format: '.' groups thousands, ',' marks decimals"

# Number patterns run in pyarrow (RE2); "[0-9]" rather than "\d" keeps them ASCII-only.
_PLAIN = r"(?i)^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity)$"
_CURRENCY = r"(?:[¥$€£₩₹]|RMB|CNY|USD|EUR|GBP)"
_US = r"^(?:[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+)$"
_EU = r"^(?:[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]*)?|[+-]?,[0-9]+)$"
_EU_ONLY = (r"^(?:[+-]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[+-]?[0-9]+,(?:[0-9]{1,2}|[0-9]{4,})"
            r"|[+-]?[0-9]{1,3}(?:\.[0-9]{3}){2,})$")
_US_ONLY = (r"^(?:[+-]?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+|[+-]?[0-9]*\.(?:[0-9]{1,2}|[0-9]{4,})"
            r"|[+-]?[0-9]{1,3}(?:,[0-9]{3}){2,})$")


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


def plain_number_column(text: pd.Series, na_tokens: Sequence[str]) -> pd.Series | None:
    """float64 values of a column whose every cell is a plain number or empty, else None.

    The common case of a large table (``12``, ``-0.5``, ``3e4`` and empty cells, nothing
    else) in one vectorised cast, for :func:`churn_core.reading.cells.convert_text_column`
    to skip its general steps, which give the same float64 values there: no cell needs
    trimming, the only missing-value token met is the empty cell, every other value parses
    as it is (the same cast), and none is infinite. None (the general steps decide) when
    ``""`` is not a missing-value token, when a token could be read as a number, when no
    cell holds a number, or when any cell is anything else.

    Parameters
    ----------
    text : pd.Series
        Text cells (NaN for absent cells).
    na_tokens : sequence of str
        Cell texts that mean missing.

    Returns
    -------
    pd.Series or None
        float64, NaN for empty cells, the index of ``text``.
    """
    if "" not in na_tokens:
        return None
    tokens = [t.strip() for t in na_tokens if t.strip()]
    if tokens and pc.any(pc.match_substring_regex(pa.array(tokens, pa.large_string()),
                                                  _PLAIN)).as_py():
        return None
    arr = _arrow(text)
    empty = pc.fill_null(pc.equal(arr, ""), True)
    if pc.all(empty).as_py():
        return None
    try:  # the cast refuses any cell that is not a number (cheaper than a pattern)
        numbers = pc.cast(pc.if_else(empty, pa.scalar(None, pa.large_string()), arr),
                          pa.float64())
    except pa.ArrowInvalid:
        return None
    values = pc.fill_null(numbers, float("nan")).to_numpy(zero_copy_only=False)
    # "nan", "inf" and overflowing numbers are cast too: the general steps judge them
    if not np.isfinite(values[~empty.to_numpy(zero_copy_only=False)]).all():
        return None
    return pd.Series(values, index=text.index)


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
