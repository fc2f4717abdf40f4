"""Events page: build the customer tables from a staged log and use them to train on."""

from __future__ import annotations

from typing import Any

from churn_core import pipeline
from churn_core.pipeline import Progress
from ui.flows.data import load_frame
from ui.state import StateKeys, put

K = StateKeys
VALUE_FEATURE_LABELS = {
    "auto": "Keep them when they improve the backtest",
    "keep": "Always keep them",
    "off": "Leave them out",
}


def use_training_table(result: Any, name: str) -> bool:
    """Make an event-log training table the current dataset (id, label, cutoff set)."""
    return load_frame(result.training, name, f"events:{name}:{len(result.training)}",
                      overrides=pipeline.event_overrides(result.training),
                      feature_labels=result.feature_labels)


def build(log: Any, definition: Any, name: str, *, value_features: str = "auto",
          progress: Progress | None = None) -> Any:
    """Build the tables (with ``customer_value``; BG/NBD features per ``value_features``),
    keep the result in state and make its training table the current dataset.

    Raises
    ------
    ChurnDataError
        When the tables cannot be built (see :func:`churn_core.pipeline.build_tables`).
    """
    result = pipeline.build_tables(log, definition=definition, value=True,
                                   value_features=value_features, progress=progress)
    put(K.EVENTS_BUILD, result)
    use_training_table(result, name)
    return result


def value_note(result: Any) -> str | None:
    """What was decided about the BG/NBD features, with both ROC-AUC figures."""
    return pipeline.value_features_note(result.summary.get("value_features"))
