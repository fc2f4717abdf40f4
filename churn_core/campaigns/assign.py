"""Planning a campaign: a reproducible, stratified control group and its balance check.

The control group is drawn without a random generator: every customer gets a key,
the SHA-256 of the campaign name and the customer id, and within each stratum
(risk decile x segment) customers are ordered by that key; a systematic sample
along that order, with an offset also taken from the name, becomes the control
group. The same name and the same list therefore always give the same groups
(byte-identical output), another name gives an unrelated order and so an
independent control group, and every stratum holds its share of control
customers to within one.

When features are given, the draw is repeated with derived keys (draw 1, 2, ...
up to :data:`MAX_DRAWS`) until every standardised mean difference is below 0.1,
keeping the best draw otherwise ("rerandomisation", Morgan & Rubin 2012, Annals
of Statistics 40). It is still a pure function of the name and the list; the
interval of the report is then, if anything, conservative.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churn_core.campaigns.stats import PowerCheck, power_check
from churn_core.problems import ChurnDataError, Problem, example_rows, example_values

log = logging.getLogger(__name__)

CONTACT, CONTROL = "contact", "control"
GROUP_COLUMN = "group"
SMD_LIMIT = 0.1
MAX_BALANCE_FEATURES = 10
MAX_HOLDOUT = 0.5
MAX_DRAWS = 20
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class CampaignPlan:
    """A campaign ready to run: its list with groups, and the checks made on it.

    Attributes
    ----------
    name : str
    id_column : str
        Name of the id column (the first column of ``members``).
    members : DataFrame
        The at-risk list's columns for the members, riskiest first, plus ``group``
        (``contact`` / ``control``) as the last column: the file to hand out.
    deciles : ndarray of int
        Risk decile of each member (1 = riskiest tenth), aligned with ``members``.
    balance : DataFrame
        ``variable, mean_contact, mean_control, smd, balanced`` for the score and
        the numeric features compared.
    power : PowerCheck
    problems : tuple of Problem
        Warnings (imbalance, too small to learn anything) and notes.
    holdout : float
    draw : int
        Which draw was kept (0 = the first; see the module docstring).
    """

    name: str
    id_column: str
    members: pd.DataFrame
    deciles: np.ndarray
    balance: pd.DataFrame
    power: PowerCheck
    problems: tuple[Problem, ...]
    holdout: float
    draw: int = 0

    @property
    def n_control(self) -> int:
        """Customers kept out of the campaign."""
        return int((self.members[GROUP_COLUMN] == CONTROL).sum())

    @property
    def n_contact(self) -> int:
        """Customers to contact."""
        return int((self.members[GROUP_COLUMN] == CONTACT).sum())


def _error(code: str, message: str, **kw: Any) -> ChurnDataError:
    return ChurnDataError([Problem(code, "error", message, **kw)])


def hash_keys(ids: pd.Series | np.ndarray, name: str) -> np.ndarray:
    """64-bit keys from SHA-256 of ``name``, a separator and each id (as text).

    Returns
    -------
    ndarray of uint64
    """
    prefix = name.encode("utf-8") + b"\x1f"
    return np.array([int.from_bytes(hashlib.sha256(prefix + str(i).encode("utf-8")).digest()[:8],
                                    "big") for i in ids], dtype=np.uint64)


def _mix(keys: np.ndarray, draw: int) -> np.ndarray:
    """Keys of draw ``draw``: the SplitMix64 finaliser of ``key + draw * golden ratio``."""
    if draw == 0:
        return keys
    with np.errstate(over="ignore"):
        z = keys + np.uint64(draw) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) & _MASK64


def risk_deciles(scores: np.ndarray) -> np.ndarray:
    """Decile of each score within the list: 1 = the riskiest tenth, 10 = the least risky.

    Ties are broken by list order, so deciles hold sizes that differ by at most one.
    """
    scores = np.asarray(scores, dtype=float)
    n = scores.size
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return (rank * 10 // max(n, 1) + 1).astype(np.int64)


def assign_groups(ids: pd.Series | np.ndarray, strata: np.ndarray, *, name: str,
                  holdout: float, draw: int = 0, keys: np.ndarray | None = None
                  ) -> np.ndarray:
    """Mark the control group: stratified systematic sample along the hash order.

    Parameters
    ----------
    ids : sequence
        Customer ids (unique).
    strata : ndarray
        Stratum label per customer (any hashable values).
    name : str
        Campaign name; seeds the order and the sampling offset.
    holdout : float
        Share of customers in the control group.
    draw : int, default 0
        Draw number (rerandomisation); 0 orders customers by the plain hash keys.
    keys : ndarray of uint64, optional
        :func:`hash_keys` of ``ids`` and ``name``, when already computed.

    Returns
    -------
    ndarray of bool
        True for control customers. The overall count is ``holdout * n`` rounded
        down or up, and each stratum's count is within one of its share.
    """
    n = len(ids)
    keys = _mix(hash_keys(ids, name) if keys is None else keys, draw)
    stratum_codes, _ = pd.factorize(pd.Series(np.asarray(strata, dtype=object)), sort=True)
    # Strata one after another, each ordered by key; position i is in the control group
    # when floor((i + u) * h) steps up, so every run of 1/h customers holds one.
    order = np.lexsort((keys, stratum_codes))
    seed = f"offset\x1f{draw}\x1f{name}".encode()
    offset = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") / 2.0**64
    pos = np.arange(n, dtype=float)
    picked = np.floor((pos + 1 + offset) * holdout) > np.floor((pos + offset) * holdout)
    control = np.zeros(n, dtype=bool)
    control[order] = picked
    return control


def balance_table(values: pd.DataFrame, control: np.ndarray) -> pd.DataFrame:
    """Standardised mean difference of each column between contact and control.

    ``smd = (mean_contact - mean_control) / sqrt((var_contact + var_control) / 2)``;
    missing values are left out of each column's means. A column constant in both
    groups has smd 0.

    Returns
    -------
    DataFrame
        ``variable, mean_contact, mean_control, smd, balanced`` (``|smd| < 0.1``).
    """
    rows = []
    control = np.asarray(control, dtype=bool)
    for col in values.columns:
        v = pd.to_numeric(values[col], errors="coerce").to_numpy(dtype=float)
        a, b = v[~control], v[control]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if a.size == 0 or b.size == 0:
            continue
        pooled = np.sqrt(((a.var(ddof=1) if a.size > 1 else 0.0)
                          + (b.var(ddof=1) if b.size > 1 else 0.0)) / 2)
        diff = a.mean() - b.mean()
        smd = 0.0 if pooled == 0 and diff == 0 else (diff / pooled if pooled > 0 else np.inf)
        rows.append({"variable": str(col), "mean_contact": float(a.mean()),
                     "mean_control": float(b.mean()), "smd": float(smd),
                     "balanced": bool(abs(smd) < SMD_LIMIT)})
    return pd.DataFrame(rows, columns=["variable", "mean_contact", "mean_control", "smd",
                                       "balanced"])


def _max_abs_smd(values: np.ndarray, control: np.ndarray) -> float:
    """Largest |standardised mean difference| over the columns of ``values`` (NaN ignored)."""
    a, b = values[~control], values[control]
    if len(a) < 2 or len(b) < 2:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diff = np.nanmean(a, axis=0) - np.nanmean(b, axis=0)
        pooled = np.sqrt((np.nanvar(a, axis=0, ddof=1) + np.nanvar(b, axis=0, ddof=1)) / 2)
        smd = np.where(pooled > 0, np.abs(diff) / np.where(pooled > 0, pooled, 1.0),
                       np.where(diff == 0, 0.0, np.inf))
    smd = smd[np.isfinite(diff)]
    return float(smd.max()) if smd.size else 0.0


def _balance_columns(features: pd.DataFrame, score: pd.Series) -> list[str]:
    """The numeric features most associated with the score (rank correlation), at most ten."""
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])
               and not pd.api.types.is_bool_dtype(features[c])
               and features[c].nunique(dropna=True) > 1]
    if not numeric:
        return []
    ranks = features[numeric].rank()
    corr = ranks.corrwith(score.rank()).abs().fillna(0.0)
    return list(corr.sort_values(ascending=False, kind="stable").index[:MAX_BALANCE_FEATURES])


def _features_for(members: pd.DataFrame, id_column: str,
                  features: pd.DataFrame | None) -> pd.DataFrame:
    """Feature rows in the members' order, joined on the id column."""
    if features is None or features.empty:
        return pd.DataFrame(index=members.index)
    if id_column not in features.columns:
        raise _error("CAMPAIGN_FEATURES_NO_ID",
                     f"The feature table has no column '{id_column}' to match customers by.",
                     column=id_column, action="include the id column in the feature table")
    keyed = features.assign(**{id_column: features[id_column].astype(str)})
    keyed = keyed.drop_duplicates(id_column).set_index(id_column)
    return keyed.reindex(members[id_column].astype(str).to_numpy()).reset_index(drop=True)


def _check_table(table: pd.DataFrame, name: str, holdout: float) -> tuple[str, pd.DataFrame]:
    if not str(name).strip():
        raise _error("CAMPAIGN_NAME_MISSING", "A campaign needs a name.",
                     action="give the campaign a name, e.g. 'win-back 2026-12'")
    if not 0.0 < holdout <= MAX_HOLDOUT:
        raise _error("CAMPAIGN_BAD_HOLDOUT",
                     f"The control group share must be above 0 and at most {MAX_HOLDOUT}; "
                     f"got {holdout}.", values=(str(holdout),),
                     action="use a share such as 0.1 (10 % of the list kept as control)")
    if table.shape[1] == 0 or "churn_probability" not in table.columns:
        raise _error("CAMPAIGN_NOT_AT_RISK_LIST",
                     "The list has no 'churn_probability' column; start a campaign from an "
                     "at-risk list.", column="churn_probability",
                     action="score the customers first")
    id_column = str(table.columns[0])
    members = table
    if "at_risk" in table.columns:
        # members are the rows at risk: the column would be true on every row of the list
        members = table[table["at_risk"].astype(bool).to_numpy()].drop(columns="at_risk")
    members = members.reset_index(drop=True)
    if members.empty:
        raise _error("CAMPAIGN_EMPTY", "No customer on the list is flagged at risk, so there "
                     "is nobody to contact.", column="at_risk",
                     action="lower the threshold or use --top N")
    ids = members[id_column].astype(str)
    blank = ids.str.strip().eq("").to_numpy() | members[id_column].isna().to_numpy()
    if blank.any():
        rows, count = example_rows(blank)
        raise _error("CAMPAIGN_BLANK_IDS", f"{count:,} customers on the list have no id in "
                     f"'{id_column}'; outcomes could not be matched to them.",
                     column=id_column, rows=rows, count=count,
                     action="fill in the ids or remove those rows")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows, count = example_rows(dup)
        raise _error("CAMPAIGN_DUPLICATE_IDS", f"{count:,} rows share an id in "
                     f"'{id_column}'; each customer must be on the list once.",
                     column=id_column, rows=rows, count=count,
                     values=example_values(ids[dup]), action="remove the duplicate rows")
    return id_column, members


def expected_uplift(economics: Mapping[str, Any] | None, base_rate: float) -> float | None:
    """The uplift the economics assume: offer success rate x churn rate without action."""
    if not economics or economics.get("success_rate") is None:
        return None
    return float(economics["success_rate"]) * float(base_rate)


def plan_campaign(table: pd.DataFrame, *, name: str, holdout: float = 0.1,
                  features: pd.DataFrame | None = None,
                  economics: Mapping[str, Any] | None = None) -> CampaignPlan:
    """Draw the control group of a campaign over the customers flagged at risk.

    Parameters
    ----------
    table : DataFrame
        An at-risk list: the id column first (under its own name), then
        ``churn_probability``, ``risk_tier``, ``at_risk``, ``segment``,
        ``reason_1..3``, ``suggested_action`` and any further columns. Rows with
        ``at_risk`` false are left out; without that column every row is a member.
    name : str
        Campaign name; with the ids it decides the groups.
    holdout : float, default 0.1
        Share kept as control (above 0, at most 0.5).
    features : DataFrame, optional
        Numeric features to compare between groups, with the id column; the ten
        most associated with the score are used.
    economics : mapping, optional
        ``success_rate`` sets the uplift the power check compares against.

    Returns
    -------
    CampaignPlan

    Raises
    ------
    ChurnDataError
        ``CAMPAIGN_NAME_MISSING``, ``CAMPAIGN_BAD_HOLDOUT``, ``CAMPAIGN_NOT_AT_RISK_LIST``,
        ``CAMPAIGN_EMPTY``, ``CAMPAIGN_BLANK_IDS``, ``CAMPAIGN_DUPLICATE_IDS``,
        ``CAMPAIGN_FEATURES_NO_ID``.
    """
    name = str(name).strip()
    id_column, members = _check_table(table, name, holdout)
    score = pd.to_numeric(members["churn_probability"], errors="coerce")
    order = np.argsort(-score.fillna(-1.0).to_numpy(), kind="stable")
    members = members.iloc[order].reset_index(drop=True)
    score = score.iloc[order].reset_index(drop=True)
    deciles = risk_deciles(score.fillna(-1.0).to_numpy())
    segment = (members["segment"].astype(str) if "segment" in members.columns
               else pd.Series("", index=members.index))
    strata = pd.Series(deciles).astype(str).str.cat(segment.to_numpy(), sep="|").to_numpy()
    feats = _features_for(members, id_column, features)
    compare = pd.DataFrame({"churn_probability": score})
    for col in _balance_columns(feats, score):
        if col not in compare.columns:
            compare[col] = feats[col].to_numpy()
    ids = members[id_column].astype(str).to_numpy()
    keys = hash_keys(ids, name)
    values = compare.to_numpy(dtype=float)
    best: tuple[float, int, np.ndarray] | None = None
    for draw in range(MAX_DRAWS if compare.shape[1] > 1 else 1):
        control = assign_groups(ids, strata, name=name, holdout=holdout, draw=draw, keys=keys)
        worst = _max_abs_smd(values, control)
        if best is None or worst < best[0]:
            best = (worst, draw, control)
        if worst < SMD_LIMIT:
            break
    _, draw, control = best
    out = members.drop(columns=[GROUP_COLUMN], errors="ignore")
    out[GROUP_COLUMN] = np.where(control, CONTROL, CONTACT)
    balance = balance_table(compare, control)
    base_rate = float(score.mean()) if score.notna().any() else 0.0
    power = power_check(int((~control).sum()), int(control.sum()), base_rate,
                        expected_uplift=expected_uplift(economics, base_rate))
    problems = _plan_problems(balance, power, int(control.sum()))
    log.info("campaign %r: %d contact, %d control", name, int((~control).sum()),
             int(control.sum()))
    return CampaignPlan(name, id_column, out, deciles, balance, power, tuple(problems),
                        float(holdout), draw)


def _plan_problems(balance: pd.DataFrame, power: PowerCheck, n_control: int) -> list[Problem]:
    problems = []
    off = balance[~balance["balanced"]]
    if len(off):
        problems.append(Problem(
            "CAMPAIGN_IMBALANCED", "warning",
            f"Contact and control groups differ on {len(off)} variable(s) by a standardised "
            f"mean difference of {SMD_LIMIT} or more; with groups this small chance alone can "
            "do that.", count=len(off), values=example_values(off["variable"]),
            action="compare results with care, or use a larger list or control share"))
    if n_control == 0:
        problems.append(Problem(
            "CAMPAIGN_NO_CONTROL", "warning",
            "The list is too short for this control share: nobody is kept as control, so the "
            "effect cannot be measured.", action="use a larger list or control share"))
    elif power.too_small:
        hoped = ("" if power.expected_uplift is None else
                 f" (the economics expect {100 * power.expected_uplift:.1f} points)")
        problems.append(Problem(
            "CAMPAIGN_UNDERPOWERED", "warning",
            f"With {power.n_contact:,} contacted and {power.n_control:,} control customers "
            f"the uplift will be known to about +/-{100 * power.half_width:.1f} points; only an "
            f"effect of {100 * power.mde:.1f} points or more is likely to be detected{hoped}.",
            action="use a larger list or control share to learn whether the offer works"))
    return problems
