"""What the buttons do: load a table, re-check it with the user's choices, train.

These functions only move values between ``st.session_state`` and the
``churn_core.pipeline`` facade; every decision about the data is the library's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from churn_core import pipeline
from churn_core.actions import ActionRules
from churn_core.alerts import SortedScores
from churn_core.atrisk import CustomerValue
from churn_core.model import TrainConfig
from churn_core.problems import ChurnDataError, Problem, setting_problem
from churn_core.reading.table import ReadOptions
from churn_core.schema import SchemaOverrides
from churn_core.threshold import Economics, ThresholdChoice
from ui import cache
from ui.state import (
    SAMPLE_CSV,
    StateKeys,
    clear_dataset_dependents,
    get,
    new_source,
    put,
    set_check,
)

K = StateKeys


def _fail(problems: list[Problem]) -> None:
    put(K.CHECK, None)
    put(K.DATASET_KEY, None)
    put(K.LOAD_PROBLEMS, problems)
    clear_dataset_dependents()


def run_check() -> bool:
    """Read (cached) and check the current source with the stored options; True when loaded."""
    try:
        frame = get(K.SOURCE_FRAME)
        overrides = get(K.OVERRIDES)
        confirmed = tuple(get(K.CONFIRMED) or ())
        if frame is not None:
            check = pipeline.check_frame(frame, overrides=overrides, confirmed=confirmed)
        else:
            data = get(K.SOURCE_BYTES)
            if data is None:
                return False
            options = (get(K.READ_OPTIONS) or ReadOptions()).with_id(
                overrides.id_column if overrides else None)  # a chosen id is read exactly
            read = cache.read_file(cache.digest(data), data, get(K.SOURCE_NAME), options)
            check = pipeline.check_frame(read.frame, overrides=overrides, confirmed=confirmed,
                                         read=read)
    except ChurnDataError as exc:
        _fail(list(exc.problems))
        return False
    except ValueError as exc:  # a setting the library refuses (bad date, unknown type)
        _fail([setting_problem(exc)])
        return False
    set_check(check)
    return True


def load_bytes(data: bytes, name: str, source_id: str) -> bool:
    """Make an uploaded file the current table (all earlier choices and results dropped)."""
    new_source(data=data, name=name, source_id=source_id)
    return run_check()


def load_sample() -> bool:
    """Open the bundled sample table."""
    return load_bytes(SAMPLE_CSV.read_bytes(), SAMPLE_CSV.name, "sample")


def load_frame(frame: pd.DataFrame, name: str, source_id: str, *,
               overrides: SchemaOverrides | None = None,
               feature_labels: dict[str, str] | None = None) -> bool:
    """Make an in-memory table (an event-log build) the current table."""
    new_source(data=None, name=name, source_id=source_id, frame=frame,
               feature_labels=feature_labels)
    put(K.OVERRIDES, overrides)
    return run_check()


def set_read_options(options: ReadOptions | None) -> bool:
    put(K.READ_OPTIONS, options)
    return run_check()


def set_overrides(overrides: SchemaOverrides | None) -> bool:
    put(K.OVERRIDES, overrides)
    return run_check()


def set_confirmed(columns: tuple[str, ...]) -> bool:
    put(K.CONFIRMED, tuple(columns))
    return run_check()


def train(config: TrainConfig, progress: Callable[[float, str], None]) -> bool:
    """Train on the current table; keep the Analysis in this session. True on success.

    After an event-log build, the customers to act on are the build's scoring table
    (one row per customer, as of the log's last date) and the backtest by time is
    reported beside the cross-validation.
    """
    check = get(K.CHECK)
    build = _event_build(check)
    try:
        analysis = pipeline.fit_all(
            check.dataset, config=config, feature_labels=get(K.FEATURE_LABELS) or None,
            splits=pipeline.build_splits(check, build.summary, seed=config.seed) if build
            else None,
            scoring=build.scoring if build else None,
            as_of=build.summary.get("scoring_date") if build else None, progress=progress)
    except ChurnDataError as exc:
        put(K.TRAIN_PROBLEMS, list(exc.problems))
        return False
    except ValueError as exc:  # e.g. too few churners to cross-validate
        put(K.TRAIN_PROBLEMS, [Problem("TRAINING_FAILED", "error", str(exc),
                                       action="load more data or check the label")])
        return False
    set_analysis(analysis)
    return True


def _event_build(check: Any) -> Any:
    """The event-log build behind the current table, or None for any other table."""
    build = get(K.EVENTS_BUILD)
    if build is None or get(K.SOURCE_FRAME) is None or \
            not pipeline.is_built_table(check.dataset.frame):
        return None
    return build


def set_analysis(analysis: Any) -> None:
    """Store a (re)trained or re-segmented analysis and reset its threshold views."""
    counter = int(get(K.MODEL_COUNTER) or 0) + 1
    put(K.MODEL_COUNTER, counter)
    put(K.ANALYSIS, analysis)
    put(K.MODEL_KEY, f"{get(K.DATASET_KEY)}:{counter}")
    put(K.TRAIN_PROBLEMS, None)
    put(K.SORTED_SCORES, pipeline.sorted_scores(analysis))
    put(K.THRESHOLD, analysis.threshold)
    put(K.PROFIT, None)
    put(K.VALUE_CHOICE, None)
    put(K.PROFIT_BAND, None)
    put(K.AT_RISK, None)
    st.session_state.pop(K.W_THRESHOLD, None)


def resegment(k: int | None) -> None:
    """Refit the segments of the current analysis with ``k`` segments (None = chosen)."""
    set_analysis(pipeline.resegment(get(K.ANALYSIS), k))


@dataclass(frozen=True)
class ValueChoice:
    """What each customer to act on is worth (a column, or None for the constant), the
    figures and their scores sorted with them, for one model."""

    model_key: str
    column: str | None
    constant: float
    values: CustomerValue
    scores: SortedScores


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
                progress: Callable[[float, str], None] | None = None) -> BandView:
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


def use_training_table(result: Any, name: str) -> bool:
    """Make an event-log training table the current dataset (id, label, cutoff set)."""
    from churn_core.events.modeling import event_overrides

    return load_frame(result.training, name, f"events:{name}:{len(result.training)}",
                      overrides=event_overrides(result.training),
                      feature_labels=result.feature_labels)
