"""BG/NBD and Gamma-Gamma columns at each cutoff: candidate features and customer value.

At every cutoff the models are fitted on purchases up to that cutoff only
(:func:`churn_core.value.events.summary_from_log` reads ``daily`` with
``day <= cutoff``), so the columns are point in time like every other
feature. For the churn window ``(cutoff + lead, cutoff + lead + window]``:

``bgnbd_p_alive``
    probability that the customer is still active at the cutoff;
``bgnbd_expected_orders``
    expected purchase days in the churn window;
``expected_value_window``
    expected spend in the churn window (expected purchases x Gamma-Gamma's
    expected spend per purchase); only when the log has money.

and, not a feature (excluded from training by
:func:`churn_core.events.modeling.event_overrides`):

``customer_value``
    what the customer is worth: expected spend over the next
    :data:`VALUE_HORIZON_DAYS` days from BG/NBD and Gamma-Gamma; only when
    the log has money. ``train`` uses it as the default value of a kept
    customer (value at risk, profit).

Which candidate features the model keeps is decided by
:mod:`churn_core.events.value_choice` (a backtest with and without them).

A cutoff where a model cannot be fitted (too few repeat buyers) gets missing
values and a warning, not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from churn_core.events.staging import PreparedLog
from churn_core.events.types import ChurnDefinition
from churn_core.problems import ChurnDataError, Problem
from churn_core.value.bgnbd import expected_purchases, probability_alive
from churn_core.value.clv import BUILD_VALUE_COLUMN, fit_value_models
from churn_core.value.gamma_gamma import expected_average_spend

logger = logging.getLogger(__name__)

VALUE_FEATURE_LABELS = {
    "bgnbd_p_alive": "{value:.0%} likely still an active buyer (BG/NBD)",
    "bgnbd_expected_orders": "{value:.2f} orders expected in the churn window (BG/NBD)",
    "expected_value_window": "{value:,.2f} expected spend in the churn window",
}
VALUE_COLUMN = BUILD_VALUE_COLUMN
VALUE_HORIZON_DAYS = 365


def value_columns(log: PreparedLog, cutoff: date, definition: ChurnDefinition
                  ) -> tuple[pd.DataFrame, list[Problem]]:
    """Value columns of every customer who bought by ``cutoff``, from models fitted up to it.

    Parameters
    ----------
    log : PreparedLog
    cutoff : date
    definition : ChurnDefinition
        Its ``window_days`` and ``lead_days`` set the window of the expectations.

    Returns
    -------
    frame : pandas.DataFrame
        ``customer_id`` (text), the columns of :data:`VALUE_FEATURE_LABELS`
        and :data:`VALUE_COLUMN` (``expected_value_window`` and ``customer_value``
        only when the log has money); empty when
        nobody bought by the cutoff or the purchase model cannot be fitted.
    problems : list of Problem
        ``VALUE_FEATURES_SKIPPED`` (warning) when a model could not be fitted.
    """
    try:
        summary = summary_from_cutoff(log, cutoff)
        models = fit_value_models(summary, time_unit="day")
    except ChurnDataError as exc:
        return pd.DataFrame({"customer_id": pd.Series(dtype="string")}), [Problem(
            "VALUE_FEATURES_SKIPPED", "warning",
            f"No purchase model at cutoff {cutoff}: {exc.summary()}",
            action="value columns left empty at this cutoff")]
    lead, window = float(definition.lead_days), float(definition.window_days)
    bg = models.bgnbd
    orders = expected_purchases(bg, summary, lead + window)
    if lead > 0:
        orders = orders - expected_purchases(bg, summary, lead)
    frame = pd.DataFrame({"customer_id": summary.index.astype("string"),
                          "bgnbd_p_alive": probability_alive(bg, summary),
                          "bgnbd_expected_orders": orders})
    problems = []
    if log.has_money:
        if models.gamma_gamma is not None:
            spend = expected_average_spend(models.gamma_gamma, summary)
        else:
            spend = np.full(len(summary), np.nan)
            problems.append(Problem(
                "VALUE_FEATURES_SKIPPED", "warning",
                f"No spend model at cutoff {cutoff}: {models.gamma_gamma_note}",
                column="expected_value_window", action="left empty at this cutoff"))
        frame["expected_value_window"] = orders * spend
        frame[VALUE_COLUMN] = expected_purchases(bg, summary, float(VALUE_HORIZON_DAYS)) * spend
    return frame.reset_index(drop=True), problems


def summary_from_cutoff(log: PreparedLog, cutoff: date) -> pd.DataFrame:
    """The RFM summary in days at ``cutoff`` (purchases on or before it only)."""
    from churn_core.value.events import summary_from_log

    summary = summary_from_log(log, calibration_end=cutoff, time_unit="day")
    # DuckDB's sums depend on its threads in the last bits, and Gamma-Gamma's flat likelihood
    # turns that into visible differences: fit on spend rounded well below a cent
    return summary.round({"monetary_value": 6})


def add_value_columns(log: PreparedLog, table: pd.DataFrame, definition: ChurnDefinition,
                      cutoffs: Sequence[date] | None = None, *, features: bool = True,
                      value: bool = True) -> tuple[pd.DataFrame, list[Problem]]:
    """Join the value columns to a table keyed by ``customer_id`` and ``cutoff``.

    Parameters
    ----------
    log : PreparedLog
    table : pandas.DataFrame
        A training or scoring table from :func:`churn_core.events.build_tables`.
    definition : ChurnDefinition
    cutoffs : sequence of date, optional
        Default: the distinct cutoffs of ``table``.
    features : bool, default True
        Add the candidate features (:data:`VALUE_FEATURE_LABELS`).
    value : bool, default True
        Add :data:`VALUE_COLUMN` (when the log has money).

    Returns
    -------
    table : pandas.DataFrame
        The same rows in the same order, with the value columns added
        (missing for customers without a purchase by their cutoff).
    problems : list of Problem
    """
    days = pd.to_datetime(table["cutoff"]).dt.date
    cutoffs = sorted(set(days)) if cutoffs is None else list(cutoffs)
    parts, problems = [], []
    for c in cutoffs:
        frame, found = value_columns(log, c, definition)
        problems += found
        parts.append(frame.assign(cutoff=c))
    values = pd.concat(parts, ignore_index=True)
    keys = pd.DataFrame({"customer_id": table["customer_id"].astype("string").to_numpy(),
                         "cutoff": days.to_numpy()})
    joined = keys.merge(values, on=["customer_id", "cutoff"], how="left", validate="m:1")
    out = table.copy()
    wanted = [*(VALUE_FEATURE_LABELS if features else ()), *((VALUE_COLUMN,) if value else ())]
    for col in [c for c in wanted if c in joined]:
        out[col] = joined[col].to_numpy(dtype=float)
    logger.info("value columns added at %d cutoffs", len(cutoffs))
    return out, problems
