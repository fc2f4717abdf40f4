"""Outcome files: who churned (and optionally their revenue) after a campaign.

An outcome file holds the customer id, whether the customer churned in any
spelling the label reader knows (``1/0``, ``Yes/No``, ``流失/未流失``, ...) and
optionally a revenue column. Uploading is idempotent: outcomes are keyed by
campaign and customer, and a file whose content was uploaded before changes
nothing. Ids that were never on the campaign's list are reported with their
rows and refused, never dropped silently.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from churn_core.campaigns import records
from churn_core.labels import LABEL_SYNONYMS, choose_label, encode_label, map_label, normalize_name
from churn_core.problems import ChurnDataError, Problem, example_rows, example_values

log = logging.getLogger(__name__)

REVENUE_NAMES = ("revenue", "amount", "sales", "spend", "gmv", "value", "ordervalue",
                 "收入", "金额", "销售额", "消费金额")


@dataclass(frozen=True)
class OutcomeUpload:
    """What an outcome upload did.

    Attributes
    ----------
    campaign : str
    n_rows : int
        Data rows in the file.
    n_matched : int
        Distinct customers of the campaign found in the file with an outcome.
    n_unknown : int
        Rows whose id was never on the campaign's list (refused).
    n_missing : int
        Rows of known customers without a churn value (left out).
    n_new, n_changed : int
        Outcomes stored for the first time / replacing a different stored one.
    duplicate : bool
        The same content was uploaded before; nothing changed.
    match_rate : float
        Share of the file's ids that belong to the campaign.
    coverage : float
        Share of the campaign's members with an outcome after this upload.
    churn_column, positive_label, revenue_column : str or None
    problems : tuple of Problem
    """

    campaign: str
    n_rows: int
    n_matched: int
    n_unknown: int
    n_missing: int
    n_new: int
    n_changed: int
    duplicate: bool
    match_rate: float
    coverage: float
    churn_column: str
    positive_label: str
    revenue_column: str | None
    problems: tuple[Problem, ...]


def _error(code: str, message: str, **kw) -> ChurnDataError:
    return ChurnDataError([Problem(code, "error", message, **kw)])


def _id_column(frame: pd.DataFrame, expected: str, given: str | None) -> str:
    if given is not None:
        if given not in frame.columns:
            raise _error("OUTCOME_NO_ID_COLUMN", f"The outcome file has no column '{given}'.",
                         column=given, values=example_values(frame.columns),
                         action="name the id column of the outcome file")
        return given
    if expected in frame.columns:
        return expected
    same = [c for c in frame.columns if normalize_name(c) == normalize_name(expected)]
    return str(same[0]) if same else str(frame.columns[0])


def _churn_column(frame: pd.DataFrame, id_col: str, given: str | None) -> str:
    if given is not None:
        if given not in frame.columns:
            raise _error("OUTCOME_NO_CHURN_COLUMN",
                         f"The outcome file has no column '{given}'.", column=given,
                         values=example_values(frame.columns),
                         action="name the column that says who churned")
        return given
    found = choose_label(frame.drop(columns=[id_col]))
    if found is None:
        raise _error("OUTCOME_NO_CHURN_COLUMN",
                     "No column of the outcome file says who churned (looked for names such "
                     "as churn, churned, exited, 是否流失).",
                     values=example_values(frame.columns),
                     action="add a churn column (1/0, Yes/No, ...) or name it")
    return str(found)


def _text_key(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize_name(str(value).strip())


def churn_flags(series: pd.Series, column: str, positive_value: str | None = None
                ) -> tuple[pd.Series, str, list[Problem]]:
    """Churned (1.0), stayed (0.0) or missing (NaN) per row, with the label reader's rules.

    A file may hold one value only (everybody stayed); it is read by the synonym
    table then. Two values go through :func:`churn_core.labels.map_label`.

    Raises
    ------
    ChurnDataError
        ``LABEL_AMBIGUOUS``, ``LABEL_MANY_VALUES``, ``POSITIVE_VALUE_NOT_FOUND``.
    """
    present = series.dropna()
    keys = {_text_key(v) for v in present.unique()}
    if len(keys) == 1:
        (key,) = keys
        if positive_value is not None:
            flag = float(key == _text_key(positive_value))
        elif key in LABEL_SYNONYMS:
            flag = float(LABEL_SYNONYMS[key])
        else:
            raise _error("LABEL_AMBIGUOUS", f"Cannot tell whether '{present.iloc[0]}' in "
                         f"'{column}' means churned or stayed.", column=column,
                         values=(str(present.iloc[0]),),
                         action="use 1/0 or Yes/No, or set the value that means churned")
        out = pd.Series(np.where(series.notna(), flag, np.nan), index=series.index)
        return out, str(present.iloc[0]) if flag else "", []
    mapping, positive, problems = map_label(series, column, positive_value)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ChurnDataError(errors)
    y = encode_label(series, SimpleNamespace(label_mapping=mapping))
    return y, positive, problems


def _revenue(frame: pd.DataFrame, exclude: set[str], given: str | None
             ) -> tuple[str | None, pd.Series | None, list[Problem]]:
    col = given
    if col is None:
        col = next((c for c in frame.columns if c not in exclude
                    and normalize_name(c) in REVENUE_NAMES), None)
    if col is None:
        return None, None, []
    if col not in frame.columns:
        raise _error("OUTCOME_NO_REVENUE_COLUMN", f"The outcome file has no column '{col}'.",
                     column=col, action="name the revenue column, or leave it out")
    raw = frame[col]
    value = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = (raw.notna() & value.isna()).to_numpy()
    problems = []
    if bad.any():
        rows, count = example_rows(bad)
        problems.append(Problem("OUTCOME_REVENUE_NOT_NUMBER", "warning",
                                f"{count:,} values of '{col}' are not numbers.", column=str(col),
                                rows=rows, count=count, values=example_values(raw[bad]),
                                action="treated as missing"))
    return str(col), value, problems


def id_text(series: pd.Series) -> pd.Series:
    """Ids as text to match the list: stripped, ``""`` when missing, ``1001.0`` as ``1001``.

    A numeric id column that holds a missing value is read as floats; its whole
    numbers must still match the ids written on the list.
    """
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series % 1 == 0)
        text = series.astype("object").where(~whole, series[whole].astype("Int64").astype(str))
    else:
        text = series.astype("object")
    return text.where(series.notna(), "").astype(str).str.strip()


def content_hash(outcomes: pd.DataFrame) -> str:
    """SHA-256 of the outcomes as stored (id, churned, revenue), order-independent."""
    ordered = outcomes.sort_values("customer_id", kind="stable")
    text = ordered.to_csv(index=False, columns=["customer_id", "churned", "revenue"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upload_outcomes(frame: pd.DataFrame, *, name: str, file_name: str = "outcomes",
                    store: str | Path | None = None, id_column: str | None = None,
                    churn_column: str | None = None, positive_value: str | None = None,
                    revenue_column: str | None = None) -> OutcomeUpload:
    """Record the outcomes of a campaign's members from an outcome table.

    Parameters
    ----------
    frame : DataFrame
        The outcome file as read (e.g. by :func:`churn_core.reading.table.read_table`).
    name : str
        The campaign.
    file_name : str
        Shown in the upload history.
    store : path, optional
        Default store when None.
    id_column, churn_column, revenue_column : str, optional
        Default: the campaign's id column name (else the first column), the
        column the label reader picks, a column named like revenue/amount/sales.
    positive_value : str, optional
        The churn value that means churned, when it cannot be recognised.

    Returns
    -------
    OutcomeUpload

    Raises
    ------
    ChurnDataError
        ``CAMPAIGN_NOT_FOUND``, ``OUTCOME_NO_ID_COLUMN``, ``OUTCOME_NO_CHURN_COLUMN``,
        ``LABEL_*``, ``OUTCOME_CONFLICT`` (one id with two different outcomes),
        ``OUTCOME_NO_MATCH`` (no id belongs to the campaign). Nothing is stored then.
    """
    if len(frame) == 0:
        raise _error("NO_DATA_ROWS", "The outcome file has 0 data rows.")
    conn = records.connect(store)
    try:
        campaign = records.get_campaign(conn, name)
        members = {r[0]: r[1] for r in conn.execute(
            "SELECT customer_id, grp FROM campaign_members WHERE campaign_id = ?",
            (campaign.campaign_id,))}
        id_col = _id_column(frame, campaign.id_column, id_column)
        churn_col = _churn_column(frame, id_col, churn_column)
        flags, positive, problems = churn_flags(frame[churn_col], churn_col, positive_value)
        rev_col, revenue, more = _revenue(frame, {id_col, churn_col}, revenue_column)
        problems = list(problems) + more
        ids = id_text(frame[id_col])
        table = pd.DataFrame({"customer_id": ids.to_numpy(), "churned": flags.to_numpy(),
                              "revenue": (revenue.to_numpy() if revenue is not None
                                          else np.full(len(frame), np.nan))})
        known = table["customer_id"].isin(members).to_numpy()
        unknown = ~known
        if not known.any():
            raise _error("OUTCOME_NO_MATCH",
                         f"None of the {len(frame):,} ids in '{id_col}' was on the list of "
                         f"campaign '{campaign.name}'.", column=id_col, count=len(frame),
                         values=example_values(ids),
                         action="check the campaign name and the id column")
        if unknown.any():
            rows, count = example_rows(unknown)
            problems.append(Problem(
                "OUTCOME_UNKNOWN_IDS", "warning",
                f"{count:,} rows hold ids that were never on the list of campaign "
                f"'{campaign.name}'; they were refused.", column=id_col, rows=rows,
                count=count, values=example_values(ids[unknown]),
                action="refused: not stored; check for typos or another campaign's file"))
        missing = known & table["churned"].isna().to_numpy()
        if missing.any():
            rows, count = example_rows(missing)
            problems.append(Problem(
                "OUTCOME_MISSING", "warning",
                f"{count:,} rows of campaign customers have no value in '{churn_col}'.",
                column=churn_col, rows=rows, count=count,
                action="left out; upload their outcome later"))
        usable = table[known & ~missing]
        conflict = usable.groupby("customer_id")["churned"].transform("nunique") > 1
        if conflict.any():
            bad = np.zeros(len(table), dtype=bool)
            bad[usable.index[conflict.to_numpy()]] = True
            rows, count = example_rows(bad)
            raise _error("OUTCOME_CONFLICT", f"{count:,} rows give one customer two different "
                         f"outcomes in '{churn_col}'.", column=id_col, rows=rows, count=count,
                         values=example_values(ids[bad]),
                         action="keep one outcome per customer and upload again")
        dups = usable["customer_id"].duplicated()
        if dups.any():
            problems.append(Problem(
                "OUTCOME_DUPLICATE_ROWS", "info",
                f"{int(dups.sum()):,} customers appear more than once with the same outcome; "
                "each is counted once.", column=id_col, count=int(dups.sum()),
                values=example_values(usable.loc[dups, "customer_id"]), action="merged"))
        usable = usable[~dups]
        n_new, n_changed, duplicate = records.write_outcomes(
            conn, campaign.campaign_id, usable, file_name=file_name,
            sha256=content_hash(usable), n_rows=len(frame), n_unknown=int(unknown.sum()))
        if n_changed:
            problems.append(Problem(
                "OUTCOME_CHANGED", "warning",
                f"{n_changed:,} customers already had a different outcome; the new one "
                "replaced it.", count=n_changed, action="replaced by this upload"))
        stored = conn.execute("SELECT count(*) FROM campaign_outcomes WHERE campaign_id = ?",
                              (campaign.campaign_id,)).fetchone()[0]
    finally:
        conn.close()
    file_ids = table["customer_id"]
    match_rate = float(file_ids[known].nunique() / max(file_ids.nunique(), 1))
    log.info("campaign %r: %d outcomes (%d new, %d changed), match rate %.1f%%",
             campaign.name, len(usable), n_new, n_changed, 100 * match_rate)
    return OutcomeUpload(campaign.name, len(frame), len(usable), int(unknown.sum()),
                         int(missing.sum()), n_new, n_changed, duplicate, match_rate,
                         stored / max(campaign.n_members, 1), churn_col, positive, rev_col,
                         tuple(problems))
