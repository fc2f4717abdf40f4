"""Monitor page: the runs the scheduled command recorded in the shared store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churn_core.pipeline import (
    DriftReport,
    default_store_path,
    ensure_schema,
    find_run,
    history_frame,
    list_retrain,
    list_runs,
    open_store,
)


@dataclass(frozen=True)
class MonitorHistory:
    """Every recorded run (one row each, oldest first) and the retraining decisions
    (one row each, oldest first)."""

    store: Path
    history: pd.DataFrame
    decisions: pd.DataFrame


def store_path() -> Path:
    """Where the command line records runs (``CHURN_RADAR_STORE`` or the default)."""
    return default_store_path()


def load_history(path: Path) -> MonitorHistory:
    """Read the run history from the store at ``path`` (raises ChurnDataError when the
    store cannot be read)."""
    conn = open_store(path)
    ensure_schema(conn)
    runs = list_runs(conn)
    return MonitorHistory(path, history_frame(runs) if runs else pd.DataFrame(),
                          list_retrain(conn))


def run_summary(history: MonitorHistory, run_id: str) -> dict[str, Any]:
    """The stored summary of one run (alerts, what changed, drift); empty when gone."""
    run = find_run(open_store(history.store), run_id)
    return run.summary if run is not None else {}


def drift_table(summary: dict[str, Any]) -> pd.DataFrame | None:
    """The per-column drift tests of a run, or None when the run has none."""
    drift = summary.get("drift")
    return DriftReport.from_dict(drift).table if drift else None
