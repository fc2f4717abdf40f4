"""Frequency, recency, age and average spend per customer: the input of the value models.

The buy-till-you-die models (:mod:`churn_core.value.bgnbd`,
:mod:`churn_core.value.gamma_gamma`) see each customer through four numbers
measured over a *calibration period* ending at ``calibration_end``:

``frequency``
    repeat purchases: distinct purchase days after the first one (several
    orders on one day are one purchase, as in Fader, Hardie and Lee 2005);
``recency``
    time from the first to the last purchase day;
``T``
    time from the first purchase day to ``calibration_end`` (the customer's age);
``monetary_value``
    mean spend of the repeat purchase days (the first purchase is left out,
    as in Fader and Hardie's Gamma-Gamma note); 0 without a repeat purchase.

Times are in days or weeks (days / 7, not calendar weeks: CDNOW's published
``T`` of 38.86 weeks is 272 days / 7). Customers whose first purchase falls
after ``calibration_end`` are not in the summary. With ``holdout_end``, the
purchases in ``(calibration_end, holdout_end]`` are counted too, to check
the forecasts.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from churn_core.problems import ChurnDataError, Problem, example_rows, example_values

logger = logging.getLogger(__name__)

TIME_UNITS = {"day": 1.0, "week": 7.0}
SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def unit_days(time_unit: str) -> float:
    """Days in one ``time_unit`` (``"day"`` or ``"week"``).

    Raises
    ------
    ChurnDataError
        ``VALUE_BAD_TIME_UNIT`` for any other unit.
    """
    if time_unit not in TIME_UNITS:
        raise ChurnDataError([Problem(
            "VALUE_BAD_TIME_UNIT", "error",
            f"Time unit {time_unit!r} is not one of {', '.join(TIME_UNITS)}.",
            values=(str(time_unit),), action="use day or week")])
    return TIME_UNITS[time_unit]


def rfm_from_days(days: pd.DataFrame, *, calibration_end: Any, time_unit: str = "week",
                  holdout_end: Any = None) -> pd.DataFrame:
    """Summarise one row per customer and purchase day (already aggregated).

    Parameters
    ----------
    days : pandas.DataFrame
        Columns ``customer_id``, ``day`` (datetime64, midnight) and ``money``
        (spend that day; NaN when unknown), at most one row per customer and day.
    calibration_end : date-like
        Last day of the calibration period (included).
    time_unit : {"day", "week"}
    holdout_end : date-like, optional
        Last day of a holdout period; adds ``frequency_holdout`` (purchase days
        in the holdout) and ``duration_holdout``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: frequency, recency, T, monetary_value
        (+ frequency_holdout, duration_holdout).
    """
    unit = unit_days(time_unit)
    end = pd.Timestamp(calibration_end).normalize()
    cal = days[days["day"] <= end]
    if cal.empty:
        raise ChurnDataError([Problem(
            "VALUE_NO_CALIBRATION_DATA", "error",
            f"No purchase on or before the calibration end {end.date()}.",
            action="choose a later calibration end")])
    cal = cal.assign(money=cal["money"].astype(float).fillna(0.0)).sort_values(
        ["customer_id", "day"], kind="stable")
    g = cal.groupby("customer_id", sort=True)
    first = g["day"].first()
    last = g["day"].last()
    frequency = (g["day"].size() - 1).astype(float)
    # the first purchase says who became a customer, not what a repeat purchase is worth
    repeat_money = (g["money"].sum() - g["money"].first()).clip(lower=0.0)
    summary = pd.DataFrame({
        "frequency": frequency,
        "recency": (last - first).dt.days / unit,
        "T": (end - first).dt.days / unit,
        "monetary_value": np.where(frequency > 0, repeat_money / frequency.where(
            frequency > 0, 1.0), 0.0),
    })
    summary.index.name = "customer_id"
    if holdout_end is not None:
        h_end = pd.Timestamp(holdout_end).normalize()
        if h_end <= end:
            raise ChurnDataError([Problem(
                "VALUE_BAD_HOLDOUT", "error",
                f"The holdout end {h_end.date()} is not after the calibration end {end.date()}.",
                values=(str(h_end.date()),), action="choose a later holdout end")])
        hold = days[(days["day"] > end) & (days["day"] <= h_end)]
        summary["frequency_holdout"] = hold.groupby("customer_id")["day"].size().reindex(
            summary.index, fill_value=0).astype(float)
        summary["duration_holdout"] = (h_end - end).days / unit
    logger.info("RFM summary: %d customers, %d repeat buyers (calibration end %s, in %ss)",
                len(summary), int((summary["frequency"] > 0).sum()), end.date(), time_unit)
    return summary


def rfm_summary(transactions: pd.DataFrame, *, customer: str, timestamp: str,
                amount: str | None = None, calibration_end: Any, time_unit: str = "week",
                holdout_end: Any = None) -> pd.DataFrame:
    """Summarise a transactions frame (one row per order or order line) per customer.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase (or purchase line).
    customer, timestamp : str
        Column names of the customer id and the purchase time.
    amount : str, optional
        Column of the spend; without it ``monetary_value`` is 0.
    calibration_end, time_unit, holdout_end
        See :func:`rfm_from_days`.

    Returns
    -------
    pandas.DataFrame
        See :func:`rfm_from_days`.

    Raises
    ------
    ChurnDataError
        ``VALUE_MISSING_COLUMN`` naming a missing column; ``VALUE_BAD_TIMESTAMP``
        when no timestamp can be read (unreadable ones are left out, with a
        warning in the log); ``VALUE_BAD_AMOUNT`` when spend is not numeric.
    """
    needed = [c for c in (customer, timestamp, amount) if c is not None]
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise ChurnDataError([Problem(
            "VALUE_MISSING_COLUMN", "error", f"Column {c!r} is not in the transactions.",
            column=c, values=tuple(map(str, list(transactions.columns)[:5])),
            action="name an existing column") for c in missing])
    ts = pd.to_datetime(transactions[timestamp], errors="coerce", format="mixed")
    bad = ts.isna() & transactions[timestamp].notna()
    if ts.notna().sum() == 0:
        rows, count = example_rows(bad)
        raise ChurnDataError([Problem(
            "VALUE_BAD_TIMESTAMP", "error", f"No value of {timestamp!r} reads as a date.",
            column=timestamp, rows=rows, count=count,
            values=example_values(transactions.loc[bad, timestamp]),
            action="choose the purchase date column")])
    if bad.any():
        logger.warning("%d timestamps in %r could not be read and were left out",
                       int(bad.sum()), timestamp)
    if amount is None:
        money = pd.Series(np.nan, index=transactions.index)
    else:
        money = pd.to_numeric(transactions[amount], errors="coerce")
        wrong = money.isna() & transactions[amount].notna()
        if wrong.any():
            rows, count = example_rows(wrong)
            raise ChurnDataError([Problem(
                "VALUE_BAD_AMOUNT", "error", f"{count:,} values of {amount!r} are not numbers.",
                column=amount, rows=rows, count=count,
                values=example_values(transactions.loc[wrong, amount]),
                action="fix the values or choose another spend column")])
    frame = pd.DataFrame({"customer_id": transactions[customer], "day": ts.dt.normalize(),
                          "money": money})
    frame = frame[frame["day"].notna() & frame["customer_id"].notna()]
    days = frame.groupby(["customer_id", "day"], sort=False, as_index=False)["money"].sum(
        min_count=1)
    return rfm_from_days(days, calibration_end=calibration_end, time_unit=time_unit,
                         holdout_end=holdout_end)
