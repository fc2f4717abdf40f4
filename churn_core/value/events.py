"""RFM summaries from an event log staged in DuckDB (:mod:`churn_core.events.staging`).

The staged table ``daily`` already holds one row per customer and day with
the day's orders and purchase money, so the summary is one grouped query:
purchase days are days with at least one order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from churn_core.events.mapping import EventMapping, propose_mapping
from churn_core.events.staging import EngineSettings, PreparedLog, prepare_log
from churn_core.problems import ChurnDataError, Problem
from churn_core.value.clv import ValueModels, customer_value_table, fit_value_models
from churn_core.value.rfm import rfm_from_days, unit_days

Progress = Callable[[float, str], None] | None

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


@dataclass(frozen=True)
class LogValue:
    """Value models fitted on an event log, and the per-customer table.

    Attributes
    ----------
    models : ValueModels
    table : pandas.DataFrame
        One row per customer (``customer_id`` first): the RFM summary,
        ``p_alive``, ``expected_purchases``, ``expected_spend``, ``expected_value``.
    mapping : EventMapping
    calibration_end : date
    time_unit : str
    horizon : float
        In ``time_unit``.
    problems : tuple of Problem
        What reading the log reported (dropped lines, returns...).
    """

    models: ValueModels
    table: pd.DataFrame
    mapping: EventMapping
    calibration_end: date
    time_unit: str
    horizon: float
    problems: tuple[Problem, ...]

    def to_dict(self) -> dict[str, Any]:
        """Fitted parameters and settings, JSON-ready (``bgnbd``, ``gamma_gamma``, ...)."""
        return {**self.models.to_dict(), "calibration_end": self.calibration_end.isoformat(),
                "time_unit": self.time_unit, "horizon": self.horizon,
                "customers": len(self.table), "mapping": self.mapping.to_string()}


def _date(text: Any, what: str) -> date:
    try:
        return pd.Timestamp(text).date()
    except (ValueError, TypeError) as exc:
        raise ChurnDataError([Problem(
            "VALUE_BAD_DATE", "error", f"The {what} {text!r} is not a date.",
            values=(str(text),), action="write it as YYYY-MM-DD")]) from exc


def value_from_log(source: str | Path | PreparedLog, *, calibration_end: Any,
                   time_unit: str = "week", horizon_days: float = 90.0,
                   mapping: EventMapping | None = None, engine: EngineSettings | None = None,
                   drop_duplicates: bool = True, progress: Progress = None) -> LogValue:
    """Fit BG/NBD and Gamma-Gamma on an event log and value every customer.

    Parameters
    ----------
    source : str, Path or PreparedLog
        The event log (any format :func:`churn_core.events.propose_mapping`
        reads), or one already staged.
    calibration_end : date-like
        Last day the models learn from; customers are valued from there.
    time_unit : {"day", "week"}
    horizon_days : float, default 90
        Horizon of ``expected_purchases`` and ``expected_value`` in days
        (e.g. the churn window), converted to ``time_unit``.
    mapping : EventMapping, optional
        Column roles; proposed from the file when None.
    engine : EngineSettings, optional
    drop_duplicates : bool
        As in :func:`churn_core.events.prepare_log` (CDNOW-style logs where
        identical lines are real repeat orders need False).
    progress : callable(fraction, message), optional

    Returns
    -------
    LogValue

    Raises
    ------
    ChurnDataError
        From reading the log, ``VALUE_BAD_DATE``, or the fits.
    """
    end = _date(calibration_end, "calibration end")
    days = unit_days(time_unit)
    if isinstance(source, PreparedLog):
        log = source
    else:
        mapping = mapping or propose_mapping(source)
        log = prepare_log(source, mapping, engine=engine, drop_duplicates=drop_duplicates,
                          progress=progress)
    if progress:
        progress(0.9, "fitting the value models")
    summary = summary_from_log(log, calibration_end=end, time_unit=time_unit)
    models = fit_value_models(summary, time_unit=time_unit)
    horizon = float(horizon_days) / days
    table = customer_value_table(models, summary, horizon=horizon).reset_index()
    return LogValue(models=models, table=table, mapping=log.mapping, calibration_end=end,
                    time_unit=time_unit, horizon=horizon, problems=log.problems)
