"""Infer what each column of a customer table is: id, label, feature type or excluded.

Every automatic decision is reported as an info :class:`~churn_core.problems.Problem`
with an ``action`` text, and every decision can be overridden with
:class:`SchemaOverrides` (overrides win over inference).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn_core.labels import (
    choose_label,
    label_problems,
    map_label,
)
from churn_core.names import CUSTOMERISH, is_customer_id_name, normalize_name, words
from churn_core.problems import InvalidSetting, Problem, example_rows, example_values

logger = logging.getLogger(__name__)

COLUMN_TYPES = ("numeric", "categorical", "datetime", "exclude")
HIGH_CARDINALITY_LEVELS = 50
ID_UNIQUE_RATIO = 0.95
#: A customer-id name (``customer_id``, ``用户ID``) with repeated values is still the id
#: column when at least this share of its values are distinct: the repeats are
#: reported as DUPLICATE_IDS instead of the column becoming a feature.
DUPLICATE_ID_RATIO = 0.5
DATE_PARSE_SHARE = 0.90
_DATE_SAMPLE = 1000

_PERSONAL_NAMES = words(
    "name fullname firstname lastname surname givenname customername clientname username "
    "membername contactname email emailaddress phonenumber telephone tel "
    "mobilenumber mobileno cellphone address streetaddress street 姓名 名字 客户姓名 用户名 "
    "手机号 手机号码 电话 电话号码 联系电话 地址 收货地址 身份证 身份证号"
)
_PERSONAL_PARTS = ("email", "phonenumber", "telephone", "手机号", "电话", "地址", "姓名", "身份证")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[\d\s().-]{7,}$")
_CN_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_DATE_RE = re.compile(
    r"\d{4}[-/.年]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SchemaOverrides:
    """User decisions that replace automatic inference.

    Parameters
    ----------
    id_column, label_column : str or None
        Force the customer id and the churn label column.
    positive_value : str or None
        The raw label value that means "churned" (needed for codes like 1/2).
    column_types : mapping of str to str
        Column -> ``"numeric"``, ``"categorical"``, ``"datetime"`` or ``"exclude"``.
    include : tuple of str
        Columns to keep as features although they were excluded automatically.
    snapshot_date : str or None
        ISO date that datetime columns are aged against.
    """

    id_column: str | None = None
    label_column: str | None = None
    positive_value: str | None = None
    column_types: Mapping[str, str] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    snapshot_date: str | None = None

    def __post_init__(self) -> None:
        bad = {c: t for c, t in self.column_types.items() if t not in COLUMN_TYPES}
        if bad:
            raise InvalidSetting(f"unknown column types {bad}; use one of {COLUMN_TYPES}")
        if self.snapshot_date is not None:
            pd.Timestamp(self.snapshot_date)  # raises ValueError on a bad date


@dataclass(frozen=True)
class Schema:
    """The role of every column.

    ``excluded`` maps a column to its reason code (``ID_LIKE``, ``CONSTANT``,
    ``ALL_MISSING``, ``LEAKAGE``, ``PERSONAL_DATA``, ``USER``). ``columns`` holds
    every column of the table in file order (it orders :attr:`features`).
    """

    id_column: str | None
    label_column: str | None
    label_mapping: Mapping[str, int]
    positive_label: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]
    excluded: Mapping[str, str]
    snapshot_date: str | None
    columns: tuple[str, ...] = ()

    @property
    def features(self) -> tuple[str, ...]:
        """Numeric, categorical and datetime feature columns, in file order."""
        chosen = set(self.numeric) | set(self.categorical) | set(self.datetime)
        ordered = [c for c in self.columns if c in chosen]
        return tuple(ordered + [c for c in self.numeric + self.categorical + self.datetime
                                if c not in set(ordered)])

    def to_dict(self) -> dict:
        """Return a JSON-safe dict (see :meth:`from_dict`)."""
        return {
            "id_column": self.id_column,
            "label_column": self.label_column,
            "label_mapping": {str(k): int(v) for k, v in self.label_mapping.items()},
            "positive_label": self.positive_label,
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "datetime": list(self.datetime),
            "excluded": dict(self.excluded),
            "snapshot_date": self.snapshot_date,
            "columns": list(self.columns),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output."""
        return cls(
            id_column=d.get("id_column"),
            label_column=d.get("label_column"),
            label_mapping={str(k): int(v) for k, v in d.get("label_mapping", {}).items()},
            positive_label=str(d.get("positive_label", "")),
            numeric=tuple(d.get("numeric", ())),
            categorical=tuple(d.get("categorical", ())),
            datetime=tuple(d.get("datetime", ())),
            excluded=dict(d.get("excluded", {})),
            snapshot_date=d.get("snapshot_date"),
            columns=tuple(d.get("columns", ())),
        )


# ----------------------------------------------------------------------------- helpers
def _is_text(s: pd.Series) -> bool:
    return bool(pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)
                or isinstance(s.dtype, pd.CategoricalDtype))


def parse_dates(series: pd.Series) -> pd.Series:
    """Parse a text column to datetimes (ISO first, then mixed formats); NaT where it fails."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    text = series.astype("string")
    uniques = pd.Series(text.dropna().unique())
    parsed = pd.to_datetime(uniques, format="ISO8601", errors="coerce")
    if parsed.notna().mean() < DATE_PARSE_SHARE:
        parsed = pd.to_datetime(uniques, format="mixed", errors="coerce")
    lookup = dict(zip(uniques, parsed, strict=True))
    return pd.to_datetime(text.map(lookup), errors="coerce")


def _looks_like_dates(s: pd.Series) -> bool:
    sample = pd.Series(s.dropna().unique()[:_DATE_SAMPLE]).astype(str)
    if sample.empty or sample.str.contains(_DATE_RE).mean() < DATE_PARSE_SHARE:
        return False
    return bool(parse_dates(sample).notna().mean() >= DATE_PARSE_SHARE)


def _is_integral(s: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(s):
        return True
    if not pd.api.types.is_float_dtype(s):
        return False
    v = s.dropna().to_numpy()
    return v.size > 0 and bool(np.all(np.mod(v, 1) == 0))


def _personal(name: str, s: pd.Series) -> bool:
    n = normalize_name(name)
    if not _is_text(s):
        return n in {"phone", "phonenumber", "telephone", "tel", "mobilenumber", "手机号",
                     "手机号码", "电话", "电话号码", "联系电话"}
    if n in _PERSONAL_NAMES:
        return True
    sample = s.dropna().head(1000).astype(str).str.strip()
    if sample.empty:
        return False
    if any(p in n for p in _PERSONAL_PARTS) and sample.nunique() > 10:
        return True  # "email_opt_in" with yes/no values is not personal data
    if sample.str.match(_EMAIL_RE).mean() >= 0.5:
        return True
    digits = sample.str.count(r"\d")
    phone = (sample.str.match(_PHONE_RE) & digits.between(7, 15)
             & (sample.str.contains(r"[\s().+-]") | sample.str.match(_CN_MOBILE_RE)))
    return bool(phone.mean() >= 0.8)


def _spelling_variants(levels: list[str]) -> list[tuple[str, str]]:
    """Pairs of levels that look like variants: same when normalised, initials, or word subset."""
    pairs = []
    info = [(lv, normalize_name(lv), re.findall(r"\w+", lv.lower())) for lv in levels]
    for i, (a, na, wa) in enumerate(info):
        for b, nb, wb in info[i + 1:]:
            initials_a = "".join(w[0] for w in wa) if len(wa) > 1 else None
            initials_b = "".join(w[0] for w in wb) if len(wb) > 1 else None
            if (na == nb or (initials_a and initials_a == nb) or (initials_b and initials_b == na)
                    or (wa and wb and wa != wb and (set(wa) < set(wb) or set(wb) < set(wa)))):
                pairs.append((a, b))
    return pairs


def _choose_id(frame: pd.DataFrame, label: str | None) -> str | None:
    ranked = []
    for pos, col in enumerate(frame.columns):
        s = frame[col]
        if col == label or not is_customer_id_name(col) or not (_is_text(s) or _is_integral(s)):
            continue
        present = s.dropna()
        if present.empty:
            continue
        ratio = present.nunique() / len(present)
        customerish = any(w in normalize_name(col) for w in CUSTOMERISH)
        if ratio >= ID_UNIQUE_RATIO or (customerish and ratio >= DUPLICATE_ID_RATIO):
            ranked.append((ratio < ID_UNIQUE_RATIO, ratio < 1, not customerish, pos, col))
    return min(ranked)[-1] if ranked else None


def _other_id_like(col: str, s: pd.Series, present: pd.Series) -> bool:
    n = len(present)
    if _is_text(s):
        ratio = present.nunique() / n
        return (ratio > 0.9 and n > HIGH_CARDINALITY_LEVELS) or (
            ratio >= ID_UNIQUE_RATIO and is_customer_id_name(col))
    if not _is_integral(s):
        return False  # continuous numbers are often all different; that is no id
    ratio = present.nunique() / n
    if ratio >= ID_UNIQUE_RATIO and is_customer_id_name(col):
        return True
    if ratio < 0.99 or n < HIGH_CARDINALITY_LEVELS:
        return False
    v = present.to_numpy(dtype="float64")
    dense = (v.max() - v.min() + 1) <= 1.1 * n  # a shuffled 1..n row number
    return bool(dense or np.all(np.diff(v) > 0) or np.all(np.diff(v) < 0))


_EXCLUDE_TEXT = {
    "ID_LIKE": ("ID_LIKE_EXCLUDED", "looks like an identifier (almost every value is different)"),
    "CONSTANT": ("CONSTANT_EXCLUDED", "has the same value in every row"),
    "ALL_MISSING": ("ALL_MISSING_EXCLUDED", "is empty in every row"),
    "PERSONAL_DATA": ("PERSONAL_DATA_EXCLUDED", "looks like personal data (names, e-mail, "
                      "phone numbers or addresses)"),
}


def _auto_kind(col: str, s: pd.Series) -> tuple[str, str | None]:
    """Return (type, exclusion reason or None) for one non-label, non-id column."""
    present = s.dropna()
    if pd.api.types.is_datetime64_any_dtype(s):
        kind = "datetime"
    elif not _is_text(s):
        kind = "numeric"
    else:
        kind = "datetime" if len(present) and _looks_like_dates(s) else "categorical"
    if present.empty:
        return kind, "ALL_MISSING"
    if len(present) == len(s) and bool((present == present.iloc[0]).all()):
        return kind, "CONSTANT"
    if kind != "datetime" and _personal(col, s):
        return kind, "PERSONAL_DATA"
    if kind != "datetime" and _other_id_like(col, s, present):
        return kind, "ID_LIKE"
    return kind, None


def infer_schema(frame: pd.DataFrame, *, overrides: SchemaOverrides | None = None
                 ) -> tuple[Schema, list[Problem]]:
    """Infer id, label, feature types and exclusions of a table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read by :func:`churn_core.reading.table.read_table`.
    overrides : SchemaOverrides or None
        User decisions; each one wins over inference.

    Returns
    -------
    schema : Schema
        Always returned, also when the label is missing or unusable
        (``label_column`` is None after ``NO_LABEL``; ``label_mapping`` is empty
        after the other label errors), so the data can still be explored.
    problems : list of Problem
        Info records for every automatic decision plus label warnings and errors.
    """
    ov = overrides or SchemaOverrides()
    problems: list[Problem] = []
    named = [ov.id_column, ov.label_column, *ov.column_types, *ov.include]
    for col in dict.fromkeys(c for c in named if c is not None and c not in frame.columns):
        problems.append(Problem("UNKNOWN_COLUMN", "error",
                                f"The column '{col}' named in the settings is not in the table.",
                                column=col, action="check the spelling of the column name"))
    label = ov.label_column if ov.label_column in frame.columns else None
    if label is None and ov.label_column is None:
        label = choose_label(frame)
        if label is not None:
            problems.append(Problem("LABEL_DETECTED", "info",
                                    f"'{label}' is used as the churn label.", column=label,
                                    action="pick another label column to change this"))
    id_col = ov.id_column if ov.id_column in frame.columns else None
    if id_col is None and ov.id_column is None:
        id_col = _choose_id(frame, label)
        if id_col is not None:
            problems.append(Problem("ID_DETECTED", "info",
                                    f"'{id_col}' is used as the customer id.", column=id_col,
                                    action="pick another id column to change this"))

    kinds: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for col in frame.columns:
        if col == label or (col == id_col and col not in ov.column_types
                            and col not in ov.include):
            continue
        forced = ov.column_types.get(col)
        if forced == "exclude":
            excluded[col] = "USER"
            continue
        kind, reason = _auto_kind(col, frame[col])
        if forced is not None:
            kinds[col] = forced
        elif reason is not None and col not in ov.include:
            excluded[col] = reason
            code, why = _EXCLUDE_TEXT[reason]
            problems.append(Problem(code, "info", f"'{col}' {why}; it is not used as a feature.",
                                    column=col, values=example_values(frame[col].dropna()),
                                    action="excluded from features; add to include to keep it"))
        else:
            kinds[col] = kind

    dates = {c: parse_dates(frame[c]) for c, k in kinds.items() if k == "datetime"}
    snapshot = ov.snapshot_date
    latest = [d.max() for d in dates.values() if d.notna().any()]
    if snapshot is None and latest:
        top = max(latest)
        snapshot = top.date().isoformat() if top == top.normalize() else top.isoformat()
    for col, parsed in dates.items():
        problems.extend(_date_problems(col, frame[col], parsed, snapshot, ov.snapshot_date))
    for col in (c for c, k in kinds.items() if k == "categorical"):
        problems.extend(_level_problems(col, frame[col]))

    mapping: dict[str, int] = {}
    positive = ""
    if label is None:
        problems.extend(label_problems(frame, _empty_schema()))
    else:
        mapping, positive, found = map_label(frame[label], label, ov.positive_value)
        problems.extend(found)
    schema = Schema(
        id_column=id_col, label_column=label, label_mapping=mapping, positive_label=positive,
        numeric=tuple(c for c, k in kinds.items() if k == "numeric"),
        categorical=tuple(c for c, k in kinds.items() if k == "categorical"),
        datetime=tuple(dates), excluded=excluded, snapshot_date=snapshot,
        columns=tuple(frame.columns))
    if mapping:
        problems.extend(p for p in label_problems(frame, schema) if p.code == "LABEL_MISSING")
    logger.info("schema: id=%s label=%s, %d features, %d excluded", id_col, label,
                len(schema.features), len(excluded))
    return schema, problems


def _empty_schema() -> Schema:
    return Schema(None, None, {}, "", (), (), (), {}, None)


def _date_problems(col: str, raw: pd.Series, parsed: pd.Series, snapshot: str | None,
                   user_snapshot: str | None) -> list[Problem]:
    out = []
    failed = (raw.notna() & parsed.isna()).to_numpy()
    rows, count = example_rows(failed)
    if not pd.api.types.is_datetime64_any_dtype(raw):
        out.append(Problem("DATES_PARSED", "info",
                           f"'{col}' holds dates; ages are measured in days before {snapshot}."
                           + (f" {count:,} values could not be read as dates." if count else ""),
                           column=col, rows=rows, count=count,
                           values=example_values(raw[failed]),
                           action="parsed as dates; unreadable values treated as missing"))
    if user_snapshot is not None:
        late = (parsed > pd.Timestamp(user_snapshot)).to_numpy()
        if late.any():
            rows, count = example_rows(late)
            out.append(Problem("DATES_AFTER_SNAPSHOT", "warning",
                               f"{count:,} dates in '{col}' are after the snapshot date "
                               f"{user_snapshot}.", column=col, rows=rows, count=count,
                               values=example_values(raw[late]),
                               action="check the snapshot date"))
    return out


def _level_problems(col: str, s: pd.Series) -> list[Problem]:
    out = []
    levels = s.dropna().astype(str).value_counts()
    if len(levels) > HIGH_CARDINALITY_LEVELS:
        out.append(Problem("HIGH_CARDINALITY", "warning",
                           f"'{col}' has {len(levels):,} different values; the rarest are "
                           "grouped as 'other'.", column=col, count=len(levels),
                           values=example_values(levels.index),
                           action=f"kept; the {HIGH_CARDINALITY_LEVELS} most common levels "
                           "are modelled"))
    elif len(levels) > 1:
        pairs = _spelling_variants(list(levels.index))
        if pairs:
            names = list(dict.fromkeys(v for pair in pairs for v in pair))
            shown = "; ".join(f"'{a}' / '{b}'" for a, b in pairs)
            out.append(Problem("INCONSISTENT_SPELLINGS", "info",
                               f"Some values of '{col}' may mean the same thing: {shown}.",
                               column=col, count=len(names), values=example_values(names),
                               action="not merged; recode them in the file if they are the "
                               "same"))
    return out
