"""What the buttons do: load a table, re-check it with the user's choices, train.

These functions only move values between ``st.session_state`` and the
``churn_core.pipeline`` facade; every decision about the data is the library's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from churn_core import pipeline
from churn_core.io import ReadOptions
from churn_core.model import TrainConfig
from churn_core.problems import ChurnDataError, Problem
from churn_core.schema import SchemaOverrides
from churn_core.threshold import Economics
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
        _fail([Problem("BAD_SETTING", "error", str(exc), action="change the setting")])
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
    """Train on the current table; keep the Analysis in this session. True on success."""
    check = get(K.CHECK)
    try:
        analysis = pipeline.fit_all(check.dataset, config=config,
                                    feature_labels=get(K.FEATURE_LABELS) or None,
                                    splits=_event_splits(check, config.seed),
                                    progress=progress)
    except ChurnDataError as exc:
        put(K.TRAIN_PROBLEMS, list(exc.problems))
        return False
    except ValueError as exc:  # e.g. too few churners to split
        put(K.TRAIN_PROBLEMS, [Problem("TRAINING_FAILED", "error", str(exc),
                                       action="load more data or check the label")])
        return False
    set_analysis(analysis)
    return True


def _event_splits(check: Any, seed: int) -> Any:
    """A backtest by time when the current table was built from an event log, else None."""
    from churn_core.events.modeling import (
        backtest_splits,
        definition_from_summary,
        is_event_table,
    )

    build = get(K.EVENTS_BUILD)
    frame = check.dataset.frame
    if build is None or not str(get(K.SOURCE_ID) or "").startswith("events:") \
            or not is_event_table(frame):
        return None
    return backtest_splits(frame, definition=definition_from_summary(build.summary), seed=seed,
                           labelled=check.dataset.y.notna().to_numpy())


def set_analysis(analysis: Any) -> None:
    """Store a (re)trained or re-segmented analysis and reset its threshold views."""
    counter = int(get(K.MODEL_COUNTER) or 0) + 1
    put(K.MODEL_COUNTER, counter)
    put(K.ANALYSIS, analysis)
    put(K.MODEL_KEY, f"{get(K.DATASET_KEY)}:{counter}")
    put(K.TRAIN_PROBLEMS, None)
    put(K.SORTED_SCORES, np.sort(np.asarray(analysis.scores, dtype=float)))
    put(K.THRESHOLD, float(analysis.threshold))
    put(K.THRESHOLD_METHOD, analysis.threshold_method)
    put(K.PROFIT, None)
    put(K.AT_RISK, None)
    st.session_state.pop(K.W_THRESHOLD, None)


def resegment(k: int | None) -> None:
    """Refit the segments of the current analysis with ``k`` segments (None = chosen)."""
    from churn_core.segments import assign_segments, fit_segments

    a = get(K.ANALYSIS)
    seed = a.result.params.get("seed", 42)
    model = fit_segments(a.X.iloc[a.result.splits.train], k=k, seed=int(seed or 42))
    set_analysis(dataclasses.replace(a, segments=model, segment_labels=assign_segments(model,
                                                                                      a.X)))


def profit_view(analysis: Any, econ: Economics) -> tuple[pd.DataFrame, Any]:
    """Profit at every threshold and the best point, computed once per set of economics."""
    stored = get(K.PROFIT)
    if stored is not None and stored[0] == econ:
        return stored[1], stored[2]
    population = len(analysis.scores)
    table = analysis.valid_curve.profit(econ, population=population, max_points=None)
    best = pipeline.profit_threshold(analysis, econ)
    put(K.PROFIT, (econ, table, best))
    return table, best


SHOWN_ROWS = 1000


def at_risk(analysis: Any, threshold: float, flagged: int) -> pd.DataFrame:
    """The riskiest customers flagged at ``threshold`` (at most ``SHOWN_ROWS``) for display,
    in O(1) per slider move.

    The riskiest ``SHOWN_ROWS`` customers are listed once per model (flagged at
    threshold 0, so tier "high" and the suggested action of a flagged customer); the
    customers flagged at ``threshold`` are the first ``flagged`` of them. The download
    builds the whole list at the chosen threshold.
    """
    memo = get(K.AT_RISK)
    model_key = get(K.MODEL_KEY)
    if memo is None or memo[0] != model_key:
        memo = (model_key, pipeline.export_table(analysis, 0.0, limit=SHOWN_ROWS))
        put(K.AT_RISK, memo)
    return memo[1].iloc[:flagged]


def use_training_table(result: Any, name: str) -> bool:
    """Make an event-log training table the current dataset (id, label, cutoff set)."""
    from churn_core.events.modeling import event_overrides

    return load_frame(result.training, name, f"events:{name}:{len(result.training)}",
                      overrides=event_overrides(result.training),
                      feature_labels=result.feature_labels)
