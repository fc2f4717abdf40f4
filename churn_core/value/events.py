"""RFM summaries from an event log staged in DuckDB (:mod:`churn_core.events.staging`).

The staged table ``daily`` already holds one row per customer and day with
the day's orders and purchase money, so the summary is one grouped query:
purchase days are days with at least one order.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from churn_core.events.staging import PreparedLog
from churn_core.value.rfm import rfm_from_days, unit_days

logger = logging.getLogger(__name__)


def purchase_days(log: PreparedLog, *, until: Any = None) -> pd.DataFrame:
    """Return ``customer_id, day, money`` for every customer and day with an order.

    Parameters
    ----------
    log : PreparedLog
        A staged event log.
    until : date-like, optional
        Leave out later days (keeps the frame small when a holdout is not needed).

    Returns
    -------
    pandas.DataFrame
        ``money`` is the day's purchase spend, NaN when the log has none.
    """
    money = "revenue" if log.has_money else "NULL::DOUBLE"
    where = "" if until is None else f"AND day <= DATE '{pd.Timestamp(until).date()}'"
    frame = log.con.execute(f"""
        SELECT customers.cid AS customer_id, CAST(day AS TIMESTAMP) AS day, {money} AS money
        FROM daily JOIN customers USING (cust)
        WHERE n_orders > 0 {where}""").df()
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def summary_from_log(log: PreparedLog, *, calibration_end: Any, time_unit: str = "week",
                     holdout_end: Any = None) -> pd.DataFrame:
    """RFM summary (:func:`churn_core.value.rfm.rfm_from_days`) of a staged event log.

    Parameters
    ----------
    log : PreparedLog
    calibration_end : date-like
        Last day of the calibration period (included).
    time_unit : {"day", "week"}
    holdout_end : date-like, optional
        Also count purchases up to this day (``frequency_holdout``).

    Returns
    -------
    pandas.DataFrame
        Indexed by the customer id as text.
    """
    unit_days(time_unit)
    days = purchase_days(log, until=holdout_end if holdout_end is not None else calibration_end)
    return rfm_from_days(days, calibration_end=calibration_end, time_unit=time_unit,
                         holdout_end=holdout_end)
