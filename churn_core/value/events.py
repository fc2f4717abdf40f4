"""RFM summaries from an event log staged in DuckDB (:mod:`churn_core.events.staging`).

The staged table ``daily`` already holds one row per customer and day with
the day's orders and purchase money, so the summary is one grouped query:
purchase days are days with at least one order. :func:`value_from_log` is the
front door of the ``clv`` command.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from churn_core.events.mapping import propose_mapping
from churn_core.events.staging import EngineSettings, PreparedLog, prepare_log
from churn_core.events.types import EventMapping
from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress
from churn_core.value.clv import ValueModels, customer_value_table, fit_value_models
from churn_core.value.rfm import unit_days

logger = logging.getLogger(__name__)


def summary_from_log(log: PreparedLog, *, calibration_end: Any, time_unit: str = "week",
                     holdout_end: Any = None) -> pd.DataFrame:
    """RFM summary (as :func:`churn_core.value.rfm.rfm_from_days`) of a staged event log.

    One grouped DuckDB query over ``daily`` (no per-line data leaves DuckDB),
    so a summary per cutoff stays cheap on large logs.

    Parameters
    ----------
    log : PreparedLog
    calibration_end : date-like
        Last day of the calibration period (included).
    time_unit : {"day", "week"}
    holdout_end : date-like, optional
        Also count purchase days up to this day (``frequency_holdout``).

    Returns
    -------
    pandas.DataFrame
        Indexed by the customer id as text, sorted.

    Raises
    ------
    ChurnDataError
        ``VALUE_NO_CALIBRATION_DATA`` when nobody bought by ``calibration_end``;
        ``VALUE_BAD_HOLDOUT`` when ``holdout_end`` is not after it.
    """
    unit = unit_days(time_unit)
    end = pd.Timestamp(calibration_end).date()
    money = "coalesce(revenue, 0)" if log.has_money else "0.0"
    holdout = ""
    if holdout_end is not None:
        h_end = pd.Timestamp(holdout_end).date()
        if h_end <= end:
            raise ChurnDataError([Problem(
                "VALUE_BAD_HOLDOUT", "error",
                f"The holdout end {h_end} is not after the calibration end {end}.",
                values=(str(h_end),), action="choose a later holdout end")])
        holdout = (f", count(*) FILTER (day > DATE '{end}' AND day <= DATE '{h_end}') "
                   "AS frequency_holdout")
    # money summed in whole cents: exact, so the sum (and the fits on it) do not depend on
    # the order DuckDB's threads add the days in
    frame = log.con.execute(f"""
        SELECT customers.cid AS customer_id,
               CAST(count(*) FILTER (day <= DATE '{end}') - 1 AS DOUBLE) AS frequency,
               date_diff('day', min(day), max(day) FILTER (day <= DATE '{end}')) / {unit}
                   AS recency,
               date_diff('day', min(day), DATE '{end}') / {unit} AS T,
               CASE WHEN count(*) FILTER (day <= DATE '{end}') > 1
                    THEN greatest(sum(CAST(round({money} * 100) AS BIGINT))
                                      FILTER (day <= DATE '{end}')
                                  - CAST(round(arg_min({money}, day) * 100) AS BIGINT), 0)
                         / 100.0 / (count(*) FILTER (day <= DATE '{end}') - 1)
                    ELSE 0.0 END AS monetary_value {holdout}
        FROM daily JOIN customers USING (cust)
        WHERE n_orders > 0
        GROUP BY customers.cid
        HAVING min(day) <= DATE '{end}'
        ORDER BY customers.cid""").df()
    if frame.empty:
        raise ChurnDataError([Problem(
            "VALUE_NO_CALIBRATION_DATA", "error",
            f"No purchase on or before the calibration end {end}.",
            action="choose a later calibration end")])
    frame["customer_id"] = frame["customer_id"].astype(str)
    summary = frame.set_index("customer_id")
    if holdout_end is not None:
        summary["frequency_holdout"] = summary["frequency_holdout"].astype(float)
        summary["duration_holdout"] = (h_end - end).days / unit
    logger.info("RFM summary of %s: %d customers (calibration end %s, in %ss)",
                log.source_name, len(summary), end, time_unit)
    return summary


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
                   drop_duplicates: bool = True, progress: Progress | None = None) -> LogValue:
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
