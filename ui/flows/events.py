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
