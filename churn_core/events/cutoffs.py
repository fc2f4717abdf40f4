"""At which dates (cutoffs) customers are looked at, and the automatic choice for short logs.

A strict backtest by time tests on the latest outcome-known cutoff ``T`` and trains only
on cutoffs whose churn window ends by ``T`` (``c + lead + window <= T``). With a 90-day
window, month ends need about a year of data to leave a few training cutoffs, so
``"auto"`` keeps month ends when they leave at least :data:`MIN_TRAIN_CUTOFFS` and
otherwise looks at customers every 14 or every 7 days, counted back from the latest date
whose outcome is known.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from churn_core.events.types import ChurnDefinition
from churn_core.problems import ChurnDataError, Problem

STEP_DAYS = {"biweekly": 14, "weekly": 7}
AUTO_ORDER = ("monthly", "biweekly", "weekly")     # coarsest first: fewer, cheaper cutoffs
MIN_TRAIN_CUTOFFS = 3
_WORDS = {"monthly": "month ends", "biweekly": "every 14 days", "weekly": "every 7 days",
          "dates": "the given dates"}


@dataclass(frozen=True)
class CutoffPlan:
    """The cutoffs a churn definition gives on one log, and why.

    Attributes
    ----------
    requested : str
        ``"auto"``, ``"monthly"``, ``"biweekly"``, ``"weekly"`` or ``"dates"``.
    frequency : str
        The grid used: ``"monthly"``, ``"biweekly"`` (every 14 days), ``"weekly"``
        (every 7 days) or ``"dates"``.
    cutoffs : tuple of date
        Ascending, inside the log.
    test_cutoff : date or None
        The latest outcome-known cutoff (the test of a backtest by time).
    train_cutoffs : tuple of date
        Outcome-known cutoffs whose churn window ends by ``test_cutoff``.
    reason : str
        Why this grid, in plain words.
    problems : tuple of Problem
        With ``"auto"``: ``EVENTS_CUTOFFS_CHOSEN`` (info, or warning when fewer than
        :data:`MIN_TRAIN_CUTOFFS` training cutoffs), or ``EVENTS_TOO_FEW_CUTOFFS``
        (error) when no grid allows a backtest.
    """

    requested: str
    frequency: str
    cutoffs: tuple[date, ...]
    test_cutoff: date | None
    train_cutoffs: tuple[date, ...]
    reason: str = ""
    problems: tuple[Problem, ...] = ()

    def raise_errors(self, before: Sequence[Problem] = ()) -> None:
        """Raise ``ChurnDataError`` with ``before`` and this plan's errors, if it has any."""
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            raise ChurnDataError([*before, *errors])

    def to_dict(self) -> dict:
        """Return a JSON-ready record for the build summary."""
        return {"requested": self.requested, "frequency": self.frequency,
                "reason": self.reason, "cutoffs": len(self.cutoffs),
                "test_cutoff": self.test_cutoff.isoformat() if self.test_cutoff else None,
                "train_cutoffs": [c.isoformat() for c in self.train_cutoffs]}


def month_end(d: date) -> date:
    """The last day of the month of ``d``."""
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def grid(frequency: str, first_day: date, last_day: date, definition: ChurnDefinition
         ) -> list[date]:
    """Cutoffs of one frequency inside the log, ascending.

    ``"monthly"``: every month end from ``first_day + min_history_days`` to ``last_day``.
    ``"biweekly"``/``"weekly"``: every 14/7 days counted back from the latest date whose
    outcome is known (``last_day - lead - window``) to ``first_day + min_history_days``.
    """
    start = first_day + timedelta(days=definition.min_history_days)
    out = []
    if frequency == "monthly":
        c = month_end(start)
        while c <= last_day:
            out.append(c)
            c = month_end(c + timedelta(days=1))
        return out
    step = timedelta(days=STEP_DAYS[frequency])
    c = last_day - timedelta(days=definition.horizon_days)
    while c >= start:
        out.append(c)
        c -= step
    return out[::-1]


def backtest_cutoffs(known: Sequence[date], horizon_days: int
                     ) -> tuple[date | None, tuple[date, ...]]:
    """The test cutoff (latest) and the training cutoffs of a strict backtest.

    Parameters
    ----------
    known : sequence of date
        Outcome-known cutoffs.
    horizon_days : int
        Lead plus window: a training cutoff's label window must end by the test cutoff.

    Returns
    -------
    test_cutoff : date or None
    train_cutoffs : tuple of date
    """
    distinct = sorted(set(known))
    if not distinct:
        return None, ()
    test = distinct[-1]
    return test, tuple(c for c in distinct[:-1] if c + timedelta(days=horizon_days) <= test)


def required_days(definition: ChurnDefinition, train_cutoffs: int = 1) -> int:
    """Days a log must span for a strict backtest with weekly cutoffs.

    History before the first cutoff, then ``train_cutoffs`` weekly training cutoffs whose
    label windows end by the test cutoff, then the test cutoff's own label window.
    """
    horizon = definition.horizon_days
    return (definition.min_history_days + horizon
            + 7 * (math.ceil(horizon / 7) + train_cutoffs - 1))


def plan_cutoffs(first_day: date, last_day: date, definition: ChurnDefinition) -> CutoffPlan:
    """Choose the cutoffs for a log spanning ``first_day`` to ``last_day``.

    Parameters
    ----------
    first_day, last_day : date
        Dates of the first and last usable event.
    definition : ChurnDefinition
        ``cutoffs="auto"`` picks the first of month ends, every 14 days, every 7 days
        that leaves at least :data:`MIN_TRAIN_CUTOFFS` training cutoffs for a strict
        backtest, else the one that leaves the most (month ends on a tie).

    Returns
    -------
    CutoffPlan
        Never raises; an impossible backtest under ``"auto"`` is an error in
        ``problems`` (see :func:`churn_core.events.outcomes.resolve_cutoffs`).
    """
    if not isinstance(definition.cutoffs, str):
        inside = [c for c in definition.cutoffs if first_day <= c <= last_day]
        return _plan("dates", "dates", inside, last_day, definition, "explicit dates")
    if definition.cutoffs != "auto":
        freq = definition.cutoffs
        return _plan(freq, freq, grid(freq, first_day, last_day, definition), last_day,
                     definition, f"{_WORDS[freq]} as requested")
    options = [_plan("auto", f, grid(f, first_day, last_day, definition), last_day, definition)
               for f in AUTO_ORDER]
    enough = [p for p in options if len(p.train_cutoffs) >= MIN_TRAIN_CUTOFFS]
    chosen = enough[0] if enough else max(options, key=lambda p: len(p.train_cutoffs))
    if not chosen.train_cutoffs:
        return replace(chosen, reason="no cutoff frequency allows a backtest",
                       problems=(_too_short(first_day, last_day, definition),))
    n = len(chosen.train_cutoffs)
    reason = (f"month ends leave {_count(len(options[0].train_cutoffs))} for a backtest by "
              f"time with a {definition.window_days}-day window (at least "
              f"{MIN_TRAIN_CUTOFFS} wanted)")
    if chosen.frequency != "monthly":
        reason += f"; {_WORDS[chosen.frequency]} leaves {n}"
    few = n < MIN_TRAIN_CUTOFFS
    problem = Problem(
        "EVENTS_CUTOFFS_CHOSEN", "warning" if few else "info",
        f"Cutoffs chosen automatically: {_WORDS[chosen.frequency]} ({len(chosen.cutoffs)} in "
        f"all, test cutoff {chosen.test_cutoff}), because {reason}."
        + (f" The backtest rests on only {_count(n)}; a longer log or a shorter window "
           "gives a sturdier one." if few else ""),
        count=len(chosen.cutoffs), values=(chosen.frequency,),
        action="choose monthly, weekly or explicit cutoff dates to override")
    return replace(chosen, reason=reason, problems=(problem,))


def _count(n: int) -> str:
    return f"{n or 'no'} training cutoff{'' if n == 1 else 's'}"


def _plan(requested: str, frequency: str, cutoffs: list[date], last_day: date,
          definition: ChurnDefinition, reason: str = "") -> CutoffPlan:
    horizon = timedelta(days=definition.horizon_days)
    test, train = backtest_cutoffs([c for c in cutoffs if c + horizon <= last_day],
                                   definition.horizon_days)
    return CutoffPlan(requested=requested, frequency=frequency, cutoffs=tuple(cutoffs),
                      test_cutoff=test, train_cutoffs=train, reason=reason)


def _fitting_window(span: int, definition: ChurnDefinition) -> int:
    """The longest window (days) that leaves MIN_TRAIN_CUTOFFS weekly training cutoffs."""
    for window in range(definition.window_days - 1, 0, -1):
        if required_days(replace(definition, window_days=window), MIN_TRAIN_CUTOFFS) <= span:
            return window
    return 0


def _too_short(first_day: date, last_day: date, definition: ChurnDefinition) -> Problem:
    span = (last_day - first_day).days
    need = required_days(definition)
    horizon = definition.horizon_days
    lead = f" after a {definition.lead_days}-day lead" if definition.lead_days else ""
    fit = _fitting_window(span, definition)
    shorter = (f"use a churn window of at most {fit} days (it leaves {MIN_TRAIN_CUTOFFS} "
               "weekly training cutoffs), " if fit else "")
    return Problem(
        "EVENTS_TOO_FEW_CUTOFFS", "error",
        f"The log spans {span} days ({first_day} to {last_day}); a backtest by time with a "
        f"{definition.window_days}-day churn window{lead} needs at least {need} days "
        f"(about {need / 30.4:.0f} months): {definition.min_history_days} days of history "
        f"before the first cutoff, {horizon} days to label a training cutoff and {horizon} "
        f"more to label the test cutoff.", count=span,
        values=(f"needed_days={need}", f"window_that_fits={fit}"),
        action=f"{shorter}less history before the first cutoff, or a longer log")
