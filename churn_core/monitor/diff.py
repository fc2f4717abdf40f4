"""What changed between two scoring runs of the same model (pure functions on tables).

Customers are matched by id (the first row of an id that appears twice). Tables
hold ``customer_id``, ``score``, ``tier``, ``at_risk`` and ``reason_1..3``, as
:func:`churn_core.monitor.runs.load_scores` returns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

REASONS = ("reason_1", "reason_2", "reason_3")
TOP_MOVERS = 10


@dataclass(frozen=True)
class RunDiff:
    """Changes since the previous run.

    Attributes
    ----------
    entered : DataFrame
        At risk now, not before (``new_customer`` True when absent before).
    left : DataFrame
        At risk before, still scored now, no longer at risk.
    gone_at_risk : int
        At risk before and absent from this run's data.
    tier_moves : DataFrame
        Customers in both runs by previous tier (rows) and current tier (columns).
    movers : DataFrame
        The largest score changes among customers in both runs, with reasons then
        and now and the reasons that appeared / disappeared.
    spearman : float
        Rank correlation of scores of customers in both runs (NaN under 3).
    common : int
        Customers in both runs.
    """

    entered: pd.DataFrame
    left: pd.DataFrame
    gone_at_risk: int
    tier_moves: pd.DataFrame
    movers: pd.DataFrame
    spearman: float
    common: int

    def to_dict(self, *, max_ids: int = 1000) -> dict[str, Any]:
        """JSON-safe summary (at most ``max_ids`` ids per list)."""
        moves = {f"{a}->{b}": int(self.tier_moves.loc[a, b]) for a in self.tier_moves.index
                 for b in self.tier_moves.columns if a != b and self.tier_moves.loc[a, b] > 0}
        return {"entered_count": len(self.entered), "left_count": len(self.left),
                "entered_new_customers": int(self.entered["new_customer"].sum()),
                "entered_at_risk": self.entered["customer_id"].head(max_ids).tolist(),
                "left_at_risk": self.left["customer_id"].head(max_ids).tolist(),
                "gone_at_risk": self.gone_at_risk, "tier_moves": moves,
                "top_movers": _records(self.movers),
                "spearman": None if not np.isfinite(self.spearman) else float(self.spearman),
                "common_customers": self.common}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (float(v) if isinstance(v, float | np.floating) else v)
                    for k, v in row.items()})
    return out


def _first(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop_duplicates("customer_id", keep="first").set_index("customer_id")


def _reasons(row: pd.Series, suffix: str) -> list[str]:
    return [r for r in (row[f"{c}{suffix}"] for c in REASONS) if isinstance(r, str) and r]


def diff_runs(previous: pd.DataFrame, current: pd.DataFrame, *, top: int = TOP_MOVERS
              ) -> RunDiff:
    """Compare two runs' per-customer tables.

    Parameters
    ----------
    previous, current : DataFrame
        ``customer_id``, ``score``, ``tier``, ``at_risk``, ``reason_1..3``.
    top : int
        How many top movers to list.

    Returns
    -------
    RunDiff
    """
    prev, cur = _first(previous), _first(current)
    both = prev.join(cur, how="inner", suffixes=("_prev", "_now"))
    was_risk = prev["at_risk"].astype(bool)
    now_risk = cur["at_risk"].astype(bool)
    entered_ids = now_risk.index[now_risk & ~was_risk.reindex(now_risk.index, fill_value=False)]
    entered = cur.loc[entered_ids, ["score", "tier"]].assign(
        new_customer=~entered_ids.isin(prev.index)).sort_values("score", ascending=False)
    left_ids = both.index[both["at_risk_prev"].astype(bool) & ~both["at_risk_now"].astype(bool)]
    left = both.loc[left_ids, ["score_prev", "score_now", "tier_now"]].sort_values(
        "score_prev", ascending=False)
    gone = int((was_risk & ~was_risk.index.isin(cur.index)).sum())
    tiers = ["high", "medium", "low"]
    moves = pd.crosstab(both["tier_prev"], both["tier_now"]).reindex(
        index=tiers, columns=tiers, fill_value=0)
    moves.index.name, moves.columns.name = "previous tier", "current tier"
    change = (both["score_now"] - both["score_prev"]).rename("change")
    order = change.abs().sort_values(ascending=False, kind="stable").index[:top]
    rows = []
    for cid in order:
        r = both.loc[cid]
        before, after = _reasons(r, "_prev"), _reasons(r, "_now")
        rows.append({"customer_id": cid, "score_prev": float(r["score_prev"]),
                     "score_now": float(r["score_now"]), "change": float(change[cid]),
                     "tier_prev": r["tier_prev"], "tier_now": r["tier_now"],
                     "reasons_prev": "; ".join(before), "reasons_now": "; ".join(after),
                     "new_reasons": "; ".join(x for x in after if x not in before),
                     "dropped_reasons": "; ".join(x for x in before if x not in after)})
    movers = pd.DataFrame(rows, columns=["customer_id", "score_prev", "score_now", "change",
                                         "tier_prev", "tier_now", "reasons_prev", "reasons_now",
                                         "new_reasons", "dropped_reasons"])
    rho = float("nan")
    if len(both) >= 3 and both["score_prev"].nunique() > 1 and both["score_now"].nunique() > 1:
        rho = float(spearmanr(both["score_prev"], both["score_now"]).statistic)
    return RunDiff(entered=entered.rename_axis("customer_id").reset_index(),
                   left=left.rename_axis("customer_id").reset_index(), gone_at_risk=gone,
                   tier_moves=moves, movers=movers, spearman=rho, common=len(both))
