"""The at-risk customer table, safe CSV export, pseudonymous ids.

Suggested actions come from :mod:`churn_core.actions` (each customer's own
risk-raising reasons, by editable rules; never the segment name).

Exported CSV files are opened in Excel, so every text cell that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab, CR or
NUL) gets a leading apostrophe (OWASP "CSV injection"). Plain numbers are left
alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from churn_core.actions import ActionRules, suggest_actions

logger = logging.getLogger(__name__)

#: Environment variable holding the key for :func:`hash_ids` (Streamlit secrets may set it).
ID_SECRET_ENV = "CHURN_RADAR_ID_SECRET"
MIN_SECRET_CHARS = 16

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00")
#: Escaped too, so that "drop one leading apostrophe" always gives the original text back.
_ESCAPE_START = (*FORMULA_START, "'")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
TABLE_COLUMNS = ("churn_probability", "risk_tier", "at_risk", "segment",
                 "reason_1", "reason_2", "reason_3", "suggested_action")


def _reason_columns(reasons: Any, n: int) -> dict[str, list[str]]:
    if reasons is None:
        return {f"reason_{i}": [""] * n for i in (1, 2, 3)}
    if isinstance(reasons, pd.DataFrame):
        cols = {}
        for i in (1, 2, 3):
            name = f"reason_{i}"
            values = reasons[name] if name in reasons else pd.Series([""] * n)
            cols[name] = values.fillna("").astype(str).tolist()
        return cols
    rows = [list(r) + [""] * 3 for r in reasons]
    return {f"reason_{i}": [str(r[i - 1] or "") for r in rows] for i in (1, 2, 3)}


def at_risk_table(
    ids: Sequence[Any] | pd.Series,
    scores: Sequence[float] | np.ndarray,
    tiers: Sequence[str] | np.ndarray,
    segments: Sequence[str] | np.ndarray | None,
    reasons: pd.DataFrame | Sequence[Sequence[str]] | None,
    actions: Sequence[str] | None,
    *,
    id_name: str = "customer_id",
    at_risk_only: bool = False,
    threshold: float | None = None,
    keep_order: bool = False,
    rules: ActionRules | None = None,
) -> pd.DataFrame:
    """Return the customer table to act on, riskiest first.

    Parameters
    ----------
    ids, scores, tiers : sequences of the same length
        Customer ids, churn probabilities and risk tiers.
    segments : sequence of str or None
        Segment name per customer ("" when None); shown, never used to pick actions.
    reasons : DataFrame with reason_1..reason_3, sequence of reason lists, or None
    actions : sequence of str or None
        Suggested action per customer; None = :func:`churn_core.actions.suggest_actions`
        from the customer's reasons and tier.
    id_name : str, default "customer_id"
        Name of the id column (use the user's own id column name).
    at_risk_only : bool, default False
        Keep only customers marked at risk (and leave out the then always-true
        ``at_risk`` column).
    threshold : float, optional
        At risk means ``score >= threshold``; None = tier "high".
    keep_order : bool, default False
        Keep the input order instead of sorting by probability.
    rules : ActionRules, optional
        Reason-to-action rules when ``actions`` is None; default
        :func:`churn_core.actions.default_rules`.

    Returns
    -------
    pandas.DataFrame
        id_name, churn_probability, risk_tier, at_risk, segment, reason_1,
        reason_2, reason_3, suggested_action; sorted by probability
        (descending, stable) unless ``keep_order``.

    Raises
    ------
    ValueError
        If the inputs differ in length.
    """
    score = np.asarray(scores, dtype=float)
    n = score.size
    tier = np.asarray(tiers, dtype=object).astype(str)
    seg = [""] * n if segments is None else [str(s) for s in segments]
    reason_cols = _reason_columns(reasons, n)
    lengths = {len(ids), tier.size, len(seg), *(len(v) for v in reason_cols.values())}
    if actions is not None:
        lengths.add(len(actions))
    if lengths != {n}:
        raise ValueError(f"inputs differ in length: {sorted(lengths)} vs {n} scores")
    if actions is None:
        actions = suggest_actions(reason_cols, tier, rules)
    at_risk = score >= threshold if threshold is not None else tier == "high"
    table = pd.DataFrame({
        id_name: pd.Series(ids).astype(str).to_numpy(),
        # Four decimals: enough to rank, and what a spreadsheet reader expects.
        "churn_probability": np.round(score, 4),
        "risk_tier": tier,
        "at_risk": at_risk,
        "segment": seg,
        **reason_cols,
        "suggested_action": list(actions),
    })
    if at_risk_only:
        # every row would say True: a column that is always true tells the reader nothing
        table = table[table["at_risk"]].drop(columns="at_risk")
    if keep_order:
        return table.reset_index(drop=True)
    return table.sort_values("churn_probability", ascending=False, kind="stable"
                             ).reset_index(drop=True)


def _escape_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if value.startswith(_ESCAPE_START) and not _PLAIN_NUMBER.match(value):
        value = "'" + value
    return value.replace("\x00", "")


def _escape_series(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = [_escape_text(c) for c in s.cat.categories]
        if len(set(cats)) == len(cats):
            return s.cat.rename_categories(cats)
        s = s.astype(object)
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        text = s.astype(str)
        risky = s.str.startswith(_ESCAPE_START).fillna(False) & ~s.str.match(
            _PLAIN_NUMBER.pattern).fillna(False)
        escaped = s.where(~risky, "'" + text).str.replace("\x00", "", regex=False)
        return escaped.astype(s.dtype)
    return s.map(_escape_text)


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    Text cells (and column names) starting with ``= + - @``, tab, CR or NUL
    get a leading ``'``, unless they are a plain number such as ``-5.0``; so do
    cells that already start with ``'``, so that dropping one leading ``'`` from
    any cell that has one gives the original text back (two ids never become one).
    NUL characters are removed (:func:`churn_core.reading.table.read_table` never keeps them).
    Numeric, boolean and datetime columns are untouched.
    """
    out = df.copy()
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
                or pd.api.types.is_datetime64_any_dtype(s)):
            out.isetitem(i, _escape_series(s))
    out.columns = [_escape_text(c) for c in df.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Return the table as CSV bytes for download: escaped, UTF-8 with BOM, no index.

    The byte-order mark makes Excel read Chinese and other non-ASCII text
    correctly.
    """
    # CRLF line ends (what Excel writes) also make the writer quote cells holding a bare CR,
    # which would otherwise split a row in two when the file is read back.
    return escape_formulas(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def hash_ids(ids: Sequence[Any] | pd.Series, secret: str | bytes) -> pd.Series:
    """Return pseudonymous ids: HMAC-SHA256 of each id with ``secret``, hex, 16 characters.

    A keyed hash cannot be reversed by hashing every possible id, unlike a
    plain hash. Keep ``secret`` to map results back to customers.

    Raises
    ------
    ValueError
        If ``secret`` is empty.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("secret must not be empty")
    values = pd.Series(ids)
    hashed = [hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16]
              for v in values]
    return pd.Series(hashed, index=values.index, dtype=object)


def id_secret_from_env(*, env: Mapping[str, str] | None = None) -> bytes:
    """Return the id-hashing key from ``CHURN_RADAR_ID_SECRET``.

    There is deliberately no fallback: without a secret, ids are exported as
    they are or not at all, never replaced by a plain (reversible) hash.

    Parameters
    ----------
    env : mapping, optional
        Where to look; defaults to ``os.environ``.

    Returns
    -------
    bytes
        The secret, UTF-8 encoded, for :func:`hash_ids`.

    Raises
    ------
    ChurnDataError
        ``ID_SECRET_MISSING`` when the variable is unset or blank,
        ``ID_SECRET_TOO_SHORT`` when it has fewer than 16 characters.
    """
    from churn_core.problems import ChurnDataError, Problem

    value = (os.environ if env is None else env).get(ID_SECRET_ENV, "").strip()
    if not value:
        raise ChurnDataError([Problem(
            "ID_SECRET_MISSING", "error",
            f"Pseudonymous ids need a secret key: set the environment variable {ID_SECRET_ENV} "
            "(or the Streamlit secret of the same name).",
            action="export real ids, or set the secret and try again")])
    if len(value) < MIN_SECRET_CHARS:
        raise ChurnDataError([Problem(
            "ID_SECRET_TOO_SHORT", "error",
            f"{ID_SECRET_ENV} has {len(value)} characters; use at least {MIN_SECRET_CHARS} "
            "random characters so the hashed ids cannot be guessed.",
            action="set a longer secret")])
    return value.encode("utf-8")


def pseudonymise(table: pd.DataFrame, *, secret: bytes | None = None) -> pd.DataFrame:
    """The table with its first column (the customer id) replaced by keyed pseudonyms.

    Parameters
    ----------
    table : DataFrame
        An at-risk list or scores table; the id is its first column.
    secret : bytes, optional
        The key; default :func:`id_secret_from_env` (``CHURN_RADAR_ID_SECRET``).

    Returns
    -------
    DataFrame
        A copy whose id column holds 16 hex characters of HMAC-SHA256 per id; the
        column keeps its name. Whoever holds the secret can map pseudonyms back by
        hashing the real ids again.

    Raises
    ------
    ChurnDataError
        ``ID_SECRET_MISSING`` / ``ID_SECRET_TOO_SHORT`` without a usable secret.
    """
    key = id_secret_from_env() if secret is None else secret
    out = table.copy()
    if len(out.columns):
        out.isetitem(0, hash_ids(out.iloc[:, 0].astype(str), key).to_numpy())
    return out
