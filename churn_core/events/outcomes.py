"""Churn in business words: cutoffs, who is active, who churned, and the time split.

A customer is *active* at cutoff ``c`` when they ordered in ``(c - active_days, c]``.
An active customer is *churned* when they place no order in
``(c + lead_days, c + lead_days + window_days]``. The outcome of a cutoff is
known only when ``c + lead_days + window_days <= last date in the data``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from churn_core.events.cutoffs import backtest_cutoffs, plan_cutoffs, required_days
from churn_core.events.staging import EngineSettings, PreparedLog, prepare_log
from churn_core.events.types import ChurnDefinition, EventMapping
from churn_core.problems import ChurnDataError, Problem


def resolve_cutoffs(first_day: date, last_day: date, definition: ChurnDefinition) -> list[date]:
    """Return the cutoff dates inside ``[first_day, last_day]``, ascending.

    Raises
    ------
    ChurnDataError
        ``EVENTS_TOO_FEW_CUTOFFS`` when ``cutoffs="auto"`` and no frequency leaves a
        training cutoff for a backtest by time; the message names the log length the
        window needs and a window that fits (see :func:`plan_cutoffs`).
    """
    plan = plan_cutoffs(first_day, last_day, definition)
    plan.raise_errors()
    return list(plan.cutoffs)


def outcome_known(cutoff: date, last_day: date, definition: ChurnDefinition) -> bool:
    """True when the whole churn window after ``cutoff`` lies inside the data."""
    return cutoff + timedelta(days=definition.horizon_days) <= last_day


def ensure_prepared(source: str | Path | PreparedLog, mapping: EventMapping | None,
                    engine: EngineSettings | None, **kwargs) -> PreparedLog:
    """Return ``source`` when already staged, else stage it with ``mapping``."""
    if isinstance(source, PreparedLog):
        return source
    if mapping is None:
        raise TypeError("mapping is required when source is a file")
    return prepare_log(source, mapping, engine=engine, **kwargs)


def _count_active(log: PreparedLog, cutoffs: list[date],
                  definition: ChurnDefinition) -> list[tuple]:
    """``(cutoff, active customers, churned)`` for each cutoff with an active customer."""
    values = ", ".join(f"(DATE '{c.isoformat()}')" for c in cutoffs)
    active, lead, window = definition.active_days, definition.lead_days, definition.window_days
    return log.con.execute(f"""
        WITH cut(c) AS (VALUES {values}),
        od AS (SELECT cust, day FROM daily WHERE n_orders > 0),
        act AS (SELECT DISTINCT c, cust FROM cut JOIN od
                ON od.day > c - {active} AND od.day <= c),
        fut AS (SELECT DISTINCT c, cust FROM cut JOIN od
                ON od.day > c + {lead} AND od.day <= c + {lead + window})
        SELECT act.c, count(*), count(*) FILTER (fut.cust IS NULL)
        FROM act LEFT JOIN fut ON act.c = fut.c AND act.cust = fut.cust
        GROUP BY act.c ORDER BY act.c""").fetchall()


def cutoff_summary(source: str | Path | PreparedLog, mapping: EventMapping | None = None,
                   definition: ChurnDefinition | None = None, *,
                   engine: EngineSettings | None = None,
                   counted: dict[date, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Customers and churn rate at every cutoff, so the user sees what a definition gives.

    Parameters
    ----------
    source : path or PreparedLog
        The event log, or one already staged by :func:`prepare_log` (faster).
    mapping : EventMapping
        Required when ``source`` is a path.
    definition : ChurnDefinition, optional
        Defaults to 90-day window, 365 days active, automatic cutoffs.
    engine : EngineSettings, optional
    counted : dict of date to (active customers, churned), optional
        Cutoffs already counted, e.g. from the labelled training table (the
        same definitions of active and churned); only the others are queried.

    Returns
    -------
    DataFrame
        ``cutoff`` (date), ``active_customers``, ``churned`` (NA when the
        outcome is not known yet), ``churn_rate``, ``outcome_known``.

    Raises
    ------
    ChurnDataError
        ``EVENTS_TOO_FEW_CUTOFFS`` from :func:`resolve_cutoffs`.
    """
    definition = definition or ChurnDefinition()
    log = ensure_prepared(source, mapping, engine)
    cutoffs = resolve_cutoffs(log.first_day, log.last_day, definition)
    columns = ["cutoff", "active_customers", "churned", "churn_rate", "outcome_known"]
    if not cutoffs:
        return pd.DataFrame(columns=columns)
    counted = counted or {}
    found = {c: (c, *counted[c]) for c in cutoffs if c in counted}
    query = [c for c in cutoffs if c not in counted]
    if query:
        found |= {r[0]: r for r in _count_active(log, query, definition)}
    records = []
    for c in cutoffs:
        _, n, churned = found.get(c, (c, 0, 0))
        known = outcome_known(c, log.last_day, definition)
        records.append({
            "cutoff": c, "active_customers": int(n),
            "churned": int(churned) if known else pd.NA,
            "churn_rate": (churned / n if n else np.nan) if known else np.nan,
            "outcome_known": known})
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["churned"] = frame["churned"].astype("Int64")
    return frame


@dataclass(frozen=True)
class TimeSplit:
    """Positional row indexes of a stacked training table for a backtest by time.

    Attributes
    ----------
    train, valid, test : ndarray of int
        ``test`` is every row at ``test_cutoff`` (the latest outcome-known
        cutoff); ``train``/``valid`` are earlier cutoffs, each customer on one
        side only.
    test_cutoff : date
    train_cutoffs : tuple of date
        Earlier cutoffs used (with a definition: only those whose churn window
        ends by the test cutoff, so no training label looks past it).
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    test_cutoff: date
    train_cutoffs: tuple[date, ...]


def time_split(training: pd.DataFrame, *, definition: ChurnDefinition | None = None,
               valid_size: float = 0.2, seed: int = 42) -> TimeSplit:
    """Split stacked cutoffs: latest cutoff = test, earlier ones = train/valid.

    Parameters
    ----------
    training : DataFrame
        ``BuildResult.training`` (columns ``customer_id``, ``cutoff``, ...).
    definition : ChurnDefinition, optional
        When given, earlier cutoffs whose label window reaches past the test
        cutoff are left out (a strict backtest: nothing used in training was
        observed after the test cutoff).
    valid_size : float
        Share of customers (not rows) sent to validation.
    seed : int

    Raises
    ------
    ChurnDataError
        ``EVENTS_TOO_FEW_CUTOFFS`` when no earlier cutoff is left for training; the
        message names the log length the definition needs.
    """
    cutoffs = pd.to_datetime(training["cutoff"]).dt.date.to_numpy()
    distinct = sorted(set(cutoffs))
    test_cutoff, earlier = backtest_cutoffs(
        distinct, definition.horizon_days if definition is not None else 0)
    if not earlier:
        raise ChurnDataError([_too_few_cutoffs(distinct, definition)])
    # Compared as integer codes: np.isin on dates or ids as Python objects took 117 s on a
    # 755k-row table (2 busy cores); on codes it takes well under a second.
    day_codes, days = pd.factorize(cutoffs)
    known = {d: i for i, d in enumerate(days)}
    in_earlier = np.isin(day_codes, np.array([known[d] for d in earlier], dtype=np.int64))
    codes, names = pd.factorize(training["customer_id"].astype(str))
    present = np.unique(codes[in_earlier])
    # the customers in text order (as np.unique of the ids), so the same seed picks the same ones
    customers = present[np.argsort(np.asarray(names, dtype=object)[present], kind="stable")]
    rng = np.random.default_rng(seed)
    n_valid = int(round(valid_size * customers.size))
    valid_customers = rng.permutation(customers)[:n_valid]
    is_valid = np.isin(codes, valid_customers)
    return TimeSplit(
        train=np.flatnonzero(in_earlier & ~is_valid),
        valid=np.flatnonzero(in_earlier & is_valid),
        test=np.flatnonzero(day_codes == known[test_cutoff]),
        test_cutoff=test_cutoff, train_cutoffs=earlier)


def _too_few_cutoffs(distinct: list[date], definition: ChurnDefinition | None) -> Problem:
    found = (f"the table has {len(distinct)} cutoff{'s' if len(distinct) != 1 else ''}"
             + (f" ({distinct[0]} to {distinct[-1]})" if len(distinct) > 1 else ""))
    if definition is None:
        return Problem("EVENTS_TOO_FEW_CUTOFFS", "error",
                       f"A backtest by time needs at least two cutoffs; {found}.",
                       count=len(distinct), action="build with more cutoffs")
    need = required_days(definition)
    return Problem(
        "EVENTS_TOO_FEW_CUTOFFS", "error",
        f"A backtest by time needs an outcome-known cutoff at least "
        f"{definition.horizon_days} days before the latest one; {found}. With a "
        f"{definition.window_days}-day churn window the log must span at least {need} days "
        f"({definition.min_history_days} days of history, then {definition.horizon_days} "
        f"days to label a training cutoff and {definition.horizon_days} more for the test).",
        count=len(distinct), values=(f"needed_days={need}",),
        action="build with weekly or automatic cutoffs, a shorter churn window, or a "
               "longer log")
