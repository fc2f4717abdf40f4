"""Model page: train on the current table and make an analysis the current one."""

from __future__ import annotations

from typing import Any

import streamlit as st

from churn_core import pipeline
from churn_core.pipeline import ChurnDataError, Problem, Progress, TrainConfig
from ui.state import StateKeys, get, put

K = StateKeys


def analysis_state(analysis: Any, model_key: str) -> dict[str, Any]:
    """The state writes that make ``analysis`` the current model (also used to seed tests):
    its scores sorted once, its threshold, and every view of the old model dropped."""
    return {K.ANALYSIS: analysis, K.MODEL_KEY: model_key, K.TRAIN_PROBLEMS: None,
            K.SORTED_SCORES: pipeline.sorted_scores(analysis), K.THRESHOLD: analysis.threshold,
            K.PROFIT: None, K.VALUE_CHOICE: None, K.PROFIT_BAND: None, K.AT_RISK: None}


def set_analysis(analysis: Any) -> None:
    """Store a (re)trained or re-segmented analysis and reset its threshold views."""
    counter = int(get(K.MODEL_COUNTER) or 0) + 1
    put(K.MODEL_COUNTER, counter)
    for key, value in analysis_state(analysis, f"{get(K.DATASET_KEY)}:{counter}").items():
        put(key, value)
    st.session_state.pop(K.W_THRESHOLD, None)


def train(config: TrainConfig, progress: Progress) -> bool:
    """Train on the current table; keep the Analysis in this session. True on success.

    After an event-log build, the customers to act on are the build's scoring table
    (one row per customer, as of the log's last date) and the backtest by time is
    reported beside the cross-validation. Segments use the columns and number chosen on
    the Segments page, if any.
    """
    check = get(K.CHECK)
    build = _event_build(check)
    segments = get(K.SEGMENT_CHOICE)  # flows.segments.SegmentChoice made on the Segments page
    try:
        analysis = pipeline.fit_all(
            check.dataset, config=config, feature_labels=get(K.FEATURE_LABELS) or None,
            k=segments.k if segments else None,
            segment_features=segments.features if segments else None,
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


def value_features() -> dict | None:
    """The event-log build's decision on the BG/NBD features, when the current table is it."""
    build = _event_build(get(K.CHECK))
    return None if build is None else build.summary.get("value_features")


def value_features_note() -> str | None:
    """That decision in words (None for other tables)."""
    decision = value_features()
    return None if decision is None else pipeline.value_features_note(decision)


def _event_build(check: Any) -> Any:
    """The event-log build behind the current table, or None for any other table."""
    build = get(K.EVENTS_BUILD)
    if build is None or check is None or get(K.SOURCE_FRAME) is None or \
            not pipeline.is_built_table(check.dataset.frame):
        return None
    return build
