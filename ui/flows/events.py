"""Events page: use an event-log build as the table to train on."""

from __future__ import annotations

from typing import Any

from churn_core import pipeline
from ui.flows.data import load_frame


def use_training_table(result: Any, name: str) -> bool:
    """Make an event-log training table the current dataset (id, label, cutoff set)."""
    return load_frame(result.training, name, f"events:{name}:{len(result.training)}",
                      overrides=pipeline.event_overrides(result.training),
                      feature_labels=result.feature_labels)


def days_covered(first_day: Any, last_day: Any) -> int:
    """Days from the first to the last day of the log, both counted (0 when unknown)."""
    import pandas as pd

    first, last = pd.to_datetime(first_day, errors="coerce"), pd.to_datetime(last_day,
                                                                             errors="coerce")
    if pd.isna(first) or pd.isna(last):
        return 0
    return int((last.normalize() - first.normalize()).days) + 1
