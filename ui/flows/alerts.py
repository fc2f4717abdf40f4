"""Alerts page: what each customer is worth, profit at every threshold, the list, the band.

Each view is computed once per model and inputs and kept in state as a small frozen
dataclass, so moving a slider costs O(1) and never recomputes a bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from churn_core import pipeline
from churn_core.pipeline import (
    ActionRules,
    CustomerValue,
    Economics,
    Progress,
    SortedScores,
    ThresholdChoice,
)
from ui.flows.model import value_features
from ui.state import StateKeys, get, put

K = StateKeys


@dataclass(frozen=True)
class ValueChoice:
    """What each customer to act on is worth (a column, or None for the constant), the
    figures and their scores sorted with them, for one model."""

    model_key: str
    column: str | None
    constant: float
    values: CustomerValue
    scores: SortedScores


def value_sources(analysis: Any, same: str) -> tuple[list[str], int]:
    """The choices for what each customer is worth, and the default's position.

    ``same`` (one value for everyone) first, then the build's ``customer_value``
    (BG/NBD x Gamma-Gamma) when there is one, which is the default, then the numeric
    features.
    """
    X = analysis.population.X
    numeric = [c for c in X.columns if not isinstance(X[c].dtype, pd.CategoricalDtype)]
    estimated = pipeline.default_value_column(analysis)
    options = [same, *([estimated] if estimated and estimated not in numeric else []), *numeric]
    return options, options.index(estimated) if estimated else 0


def value_choice(analysis: Any, column: str | None, constant: float) -> ValueChoice:
    """Per-customer values (computed once per model, column and constant)."""
    stored = get(K.VALUE_CHOICE)
    key = get(K.MODEL_KEY)
    if stored is not None and (stored.model_key, stored.column, stored.constant) == \
            (key, column, constant):
        return stored
    values = pipeline.customer_values(analysis, column=column, constant=constant)
    scores = get(K.SORTED_SCORES) if column is None else \
        pipeline.sorted_scores(analysis, values)
    choice = ValueChoice(key, column, constant, values, scores)
    put(K.VALUE_CHOICE, choice)
    return choice


@dataclass(frozen=True)
class ProfitView:
    """Expected profit at every threshold and the best choice, for one set of economics."""

    econ: Economics
    column: str | None
    table: pd.DataFrame
    best: ThresholdChoice


def profit_view(analysis: Any, econ: Economics, value: ValueChoice) -> ProfitView:
    """Profit at every threshold and the best point, computed once per economics and value."""
    stored = get(K.PROFIT)
    if stored is not None and stored.econ == econ and stored.column == value.column:
        return stored
    table = pipeline.profit_table(analysis, econ, scores=value.scores)
    best = pipeline.profit_threshold(analysis, econ, table=table, values=value.values)
    view = ProfitView(econ, value.column, table, best)
    put(K.PROFIT, view)
    return view


SHOWN_ROWS = 1000


@dataclass(frozen=True)
class ListPreview:
    """The riskiest customers to act on (at most SHOWN_ROWS), listed once per model, rules
    and customer values."""

    key: tuple
    table: pd.DataFrame


def at_risk(analysis: Any, listed: int, rules: ActionRules | None = None,
            value: ValueChoice | None = None) -> pd.DataFrame:
    """The first ``listed`` rows of the at-risk list (riskiest first) for display, in O(1)
    per slider move.

    The riskiest ``SHOWN_ROWS`` customers to act on are listed once per model, rules and
    values (at threshold 0: tier and action of a flagged customer); the customers on the
    list at any threshold and capacity are the first ``listed`` of them. The download
    builds the whole list.
    """
    memo = get(K.AT_RISK)
    key = (get(K.MODEL_KEY), rules, None if value is None else value.column,
           None if value is None else value.constant)
    if memo is None or memo.key != key:
        memo = ListPreview(key, pipeline.export_table(
            analysis, 0.0, limit=SHOWN_ROWS, rules=rules,
            values=None if value is None else value.values))
        put(K.AT_RISK, memo)
    return memo.table.iloc[:listed]


@dataclass(frozen=True)
class BandView:
    """How sure the profit is: the bootstrap band and the sensitivity table."""

    key: tuple
    band: Any
    tornado: pd.DataFrame


def reliability(analysis: Any, econ: Economics, value: ValueChoice,
                progress: Progress | None = None) -> BandView:
    """The profit band and tornado for these inputs (computed once per model and inputs)."""
    key = (get(K.MODEL_KEY), econ, value.column, value.constant)
    stored = get(K.PROFIT_BAND)
    if stored is not None and stored.key == key:
        return stored
    view = BandView(key, pipeline.profit_band(analysis, econ, value.values, progress=progress),
                    pipeline.profit_sensitivity(analysis, econ, value.values))
    put(K.PROFIT_BAND, view)
    return view


def stored_reliability(econ: Economics, value: ValueChoice) -> BandView | None:
    """The band already computed for exactly these inputs, else None."""
    stored = get(K.PROFIT_BAND)
    key = (get(K.MODEL_KEY), econ, value.column, value.constant)
    return stored if stored is not None and stored.key == key else None


def bundle_zip(analysis: Any, threshold: Any, capacity: int | None) -> bytes:
    """The model bundle with this threshold and capacity (and, after an event-log build, its
    decision on the BG/NBD features) as a zip to download."""
    return pipeline.bundle_to_zip(pipeline.make_bundle(
        analysis, threshold=threshold, capacity=capacity, value_features=value_features()))
