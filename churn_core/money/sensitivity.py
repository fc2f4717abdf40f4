"""Which assumption moves the profit most? A one-at-a-time sensitivity (tornado) table.

Each input (customer value, acceptance rate, offer cost, contact cost) is set
low and high in turn, the others kept; two profits are recomputed each time:
the best profit when the campaign is re-planned for that input, and the
profit of today's plan (the same customers contacted). Rows are sorted by
how far the best profit swings.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from churn_core.money.campaign import Campaign, rank_customers
from churn_core.money.curve import best_point, cumulative_at_ends, profit_at
from churn_core.problems import InvalidSetting

INPUTS = {
    "value": "customer value",
    "success_rate": "acceptance rate",
    "offer_cost": "offer cost",
    "contact_cost": "contact cost",
}


def sensitivity_table(labels: Any, scores: Any, value: Any = 200.0,
                      campaign: Campaign | None = None, *, ranking: str = "risk",
                      population: int | None = None, swing: float = 0.2,
                      ranges: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Profit when each input is set low and high, one at a time.

    Parameters
    ----------
    labels, scores, value, campaign, ranking, population
        As in :func:`churn_core.money.curve.profit_curve`.
    swing : float, default 0.2
        Low and high are the base times ``1 - swing`` and ``1 + swing``
        (acceptance is kept within 0..1). For ``value`` the multiplier applies
        to every customer's value.
    ranges : dict, optional
        ``{input: (low, high)}`` overriding ``swing`` for some inputs; for
        ``value`` the pair is a pair of multipliers.

    Returns
    -------
    pandas.DataFrame
        One row per input: ``input``, ``label``, ``base``, ``low``, ``high``
        (the input's values), ``best_low``, ``best_high`` (best profit, re-planned),
        ``plan_low``, ``plan_high`` (today's plan), ``best_base``, ``swing``
        (``|best_high - best_low|``), sorted by ``swing``, largest first.

    Raises
    ------
    ValueError
        For an unknown input in ``ranges`` or a negative ``swing``.
    """
    if swing < 0:
        raise InvalidSetting("swing must be >= 0")
    ranges = dict(ranges or {})
    unknown = set(ranges) - set(INPUTS)
    if unknown:
        raise InvalidSetting(f"unknown inputs {sorted(unknown)}; use {list(INPUTS)}")
    campaign = campaign or Campaign()
    # scaling every value by one factor keeps the ranking, so one ranking serves all rows
    ranked = rank_customers(labels, scores, value, ranking=ranking)
    scale = 1.0 if population is None else float(population) / ranked.n
    cw, cb = cumulative_at_ends(ranked)

    def best(c: Campaign, factor: float) -> float:
        _, p = best_point(cw, cb * factor, c, c.contact_limit() / scale)
        return p * scale

    m_plan, _ = best_point(cw, cb, campaign, campaign.contact_limit() / scale)
    rows = []
    for name, label in INPUTS.items():
        base = 1.0 if name == "value" else float(getattr(campaign, name))
        low, high = ranges.get(name, (base * (1 - swing), base * (1 + swing)))
        if name == "success_rate":
            low, high = max(low, 0.0), min(high, 1.0)
        out: dict[str, Any] = {"input": name, "label": label, "base": base, "low": low,
                               "high": high}
        for side, v in (("low", low), ("high", high)):
            c = campaign if name == "value" else dataclasses.replace(campaign, **{name: v})
            factor = v if name == "value" else 1.0
            out[f"best_{side}"] = best(c, factor)
            out[f"plan_{side}"] = float(profit_at(m_plan, cw, cb * factor, c, scale))
        rows.append(out)
    table = pd.DataFrame(rows)
    table["best_base"] = best(campaign, 1.0)
    table["swing"] = (table["best_high"] - table["best_low"]).abs()
    return table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
