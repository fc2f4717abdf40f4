"""The churn label: which column it is, which value means churned, and its checks.

Labels come written as 1/0, Yes/No, True/False, Y/N, 是/否, 流失/未流失,
churned/active and more; :data:`LABEL_SYNONYMS` maps them. Two values that are
not both recognised (``1``/``2``) are ambiguous and need the user's word.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from churn_core.names import normalize_name, words
from churn_core.problems import Problem, example_rows, example_values

_POSITIVE = (
    "1 yes y true t churn churned churner left exited exit cancelled canceled cancel lost "
    "attrited inactive closed terminated 是 流失 已流失 离网 销户 注销 attritedcustomer"
)
_NEGATIVE = (
    "0 no n false f active retained stayed stay remained current existing loyal renewed "
    "notchurned normal 否 未流失 不流失 非流失 正常 在网 留存 活跃 existingcustomer"
)
LABEL_SYNONYMS: dict[str, int] = {
    **dict.fromkeys(_POSITIVE.split(), 1),
    **dict.fromkeys(_NEGATIVE.split(), 0),
}
"""Normalised label value (lower case, no spaces) -> 1 (churned) or 0 (stayed)."""


# Exact churn names win over generic ones; generic ones must also look binary.
_LABEL_NAMES_STRONG = words(
    "churn churned churnflag churnlabel churnstatus ischurn ischurned haschurned churner "
    "是否流失 流失 流失标志 流失标签 是否流失客户 流失状态"
)
_LABEL_NAMES_WEAK = words(
    "exited exit attrition attritionflag left hasleft cancelled canceled iscancelled "
    "target label y class outcome 标签 目标"
)
def _value_key(v: object) -> str:
    """Raw label value as text: integral numbers without ``.0``, text stripped."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v).strip()


def _label_codes(series: pd.Series) -> tuple[np.ndarray, list[str], list[str]]:
    """Factorise a label column by normalised value (case, spaces and ``1``/``1.0`` merged).

    Returns per-row codes (-1 = missing), the normalised key of each code and the
    raw text first seen for it. Works on the distinct values only, so it is fast.
    """
    codes, uniques = pd.factorize(series)
    if len(uniques) == 0:  # an empty label column (or formulas without cached values)
        return np.full(len(codes), -1, dtype=np.int64), [], []
    raw = [_value_key(u) for u in uniques]
    position: dict[str, int] = {}
    display: list[str] = []
    key_code = np.empty(len(raw), dtype=np.int64)
    for i, text in enumerate(raw):
        key_code[i] = position.setdefault(normalize_name(text), len(position))
        if key_code[i] == len(display):
            display.append(text)
    return np.where(codes >= 0, key_code[np.maximum(codes, 0)], -1), list(position), display


def encode_label(series: pd.Series, schema: Any) -> pd.Series:
    """Return the label as float 0/1 using ``schema.label_mapping``.

    Parameters
    ----------
    series : pandas.Series
        The raw label column.
    schema : Schema
        Supplies ``label_mapping`` (raw value as text -> 0/1); matching ignores case,
        spaces and ``1`` vs ``1.0``.

    Returns
    -------
    pandas.Series
        float64, same index; NaN where the label is missing or not in the mapping.
    """
    mapping = {normalize_name(k): float(v) for k, v in schema.label_mapping.items()}
    codes, keys, _ = _label_codes(series)
    lookup = np.array([mapping.get(k, np.nan) for k in keys] + [np.nan])
    return pd.Series(lookup[codes], index=series.index, dtype="float64", name=series.name)


def map_label(series: pd.Series, column: str, positive_value: str | None
               ) -> tuple[dict[str, int], str, list[Problem]]:
    """Decide which raw value means churned. Returns mapping, positive label, problems."""
    codes, keys, shown = _label_codes(series)
    tally = np.bincount(codes[codes >= 0], minlength=len(keys))
    counts = pd.Series(tally, index=keys).sort_values(ascending=False, kind="stable")
    display = dict(zip(keys, shown, strict=True))
    values = tuple(display[k] for k in counts.index)
    if len(values) == 0:
        return {}, "", [Problem(
            "LABEL_EMPTY", "error", f"The label column '{column}' has no values at all (an "
            "Excel column of formulas saved without their values reads as empty too).",
            column=column, count=len(series), action="choose another label column, or open the "
            "workbook in Excel and save it so the values are stored")]
    if len(values) == 1:
        return {}, "", [Problem(
            "LABEL_ONE_CLASS", "error",
            f"The label column '{column}' has only one value, '{values[0]}': a model needs "
            "both churned and retained customers.", column=column, count=int(counts.iloc[0]),
            values=values, action="use data with both classes or another label column")]
    if len(values) > 2:
        return {}, "", [Problem(
            "LABEL_MANY_VALUES", "error",
            f"The label column '{column}' has {len(values)} different values "
            f"({', '.join(example_values(values))}); a churn label needs exactly two.",
            column=column, count=len(values), values=example_values(values),
            action="recode the label to two values or choose another column")]
    if positive_value is not None:
        pos_key = normalize_name(_value_key(positive_value))
        if pos_key not in counts.index:
            return {}, "", [Problem(
                "POSITIVE_VALUE_NOT_FOUND", "error",
                f"The chosen positive value '{positive_value}' does not occur in '{column}' "
                f"(values: {', '.join(values)}).", column=column, values=values,
                action="choose one of the listed values as positive_value")]
        decided = {k: int(k == pos_key) for k in counts.index}
        how = "as chosen"
    else:
        syn = [LABEL_SYNONYMS.get(k) for k in counts.index]
        if None in syn or syn[0] == syn[1]:
            return {}, "", [Problem(
                "LABEL_AMBIGUOUS", "error",
                f"Cannot tell which value of '{column}' means churned "
                f"({' / '.join(values)}).", column=column, values=values,
                action="set positive_value to the value that means churned")]
        decided = dict(zip(counts.index, syn, strict=True))
        how = "recognised"
    mapping = {display[k]: v for k, v in decided.items()}
    positive = next(display[k] for k, v in decided.items() if v == 1)
    info = Problem("LABEL_MAPPED", "info",
                   f"positive class = {positive} (churned) in '{column}', {how}.",
                   column=column, values=(positive,),
                   action="set positive_value to change which value means churned")
    return mapping, positive, [info]


def label_problems(frame: pd.DataFrame, schema: Any) -> list[Problem]:
    """Check the label of ``frame`` against ``schema``: missing, unmapped, one class.

    Returns
    -------
    list of Problem
        ``NO_LABEL``, ``LABEL_*`` errors and the ``LABEL_MISSING`` warning.
    """
    col = schema.label_column
    if col is None or col not in frame.columns:
        where = "was found" if col is None else f"'{col}' is not in the table"
        return [Problem("NO_LABEL", "error",
                        f"No churn label column {where}; pick the column that says who churned "
                        "(the data can still be explored and scored).",
                        column=col, action="pick the label column")]
    raw = frame[col]
    if not schema.label_mapping:
        return [p for p in map_label(raw, col, None)[2] if p.severity == "error"]
    y = encode_label(raw, schema)
    out: list[Problem] = []
    unmapped = raw.notna().to_numpy() & y.isna().to_numpy()
    if unmapped.any():
        rows, count = example_rows(unmapped)
        out.append(Problem("LABEL_MANY_VALUES", "error",
                           f"'{col}' holds values outside the label mapping.", column=col,
                           rows=rows, count=count, values=example_values(raw[unmapped]),
                           action="recode those values or fix the mapping"))
    classes = y.dropna().unique()
    if len(classes) == 1:
        value = next(k for k, v in schema.label_mapping.items() if v == classes[0])
        out.append(Problem("LABEL_ONE_CLASS", "error",
                           f"The label column '{col}' has only one value, '{value}'.",
                           column=col, count=int(y.notna().sum()), values=(value,),
                           action="use data with both classes"))
    missing = raw.isna().to_numpy()
    if missing.any():
        rows, count = example_rows(missing)
        out.append(Problem("LABEL_MISSING", "warning",
                           f"{count:,} rows have no value in '{col}'; they are left out of "
                           "training but still scored.", column=col, rows=rows, count=count,
                           action="excluded from training, still scored"))
    return out


# values that can only mean churn: a two-valued column holding one of them is the label
_CHURN_VALUES = words(
    "churn churned churner exited attrited attritedcustomer 流失 已流失 离网 销户")


def _churn_values(s: pd.Series) -> bool:
    """Two values, one a churn word (``Churned``) and the other a stayed word (``Active``)."""
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype)) or s.head(1000).nunique() > 2:
        return False
    keys = {normalize_name(v) for v in s.dropna().unique()[:3]}
    syn = {LABEL_SYNONYMS.get(k) for k in keys}
    return len(keys) == 2 and syn == {0, 1} and bool(keys & _CHURN_VALUES)


def choose_label(frame: pd.DataFrame) -> str | None:
    """Pick the label by name: exact churn names first, generic names only when binary.

    Failing those, a column of two values that say churned and stayed
    (``Status``: ``Active``/``Churned``) is the label.
    """
    ranked = []
    for pos, col in enumerate(frame.columns):
        n = normalize_name(col)
        if not (n in _LABEL_NAMES_STRONG or n in _LABEL_NAMES_WEAK or "churn" in n
                or "流失" in n):
            if _churn_values(frame[col]):
                ranked.append((3, False, pos, col))
            continue
        binary = frame[col].nunique(dropna=True) <= 2
        if n in _LABEL_NAMES_STRONG:
            tier = 0
        elif n in _LABEL_NAMES_WEAK and binary:
            tier = 1
        elif (("churn" in n or "流失" in n) and binary
              and not re.search(r"reason|原因|date|日期|time|时间|prob|score|risk|day", n)):
            tier = 2
        else:
            continue
        ranked.append((tier, not binary, pos, col))
    return min(ranked)[3] if ranked else None
