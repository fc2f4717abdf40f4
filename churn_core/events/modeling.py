"""Train on tables built from an event log: fixed roles and a backtest by time.

A built training table stacks several cutoffs, so one customer appears many
times and ``cutoff`` is bookkeeping, not a feature. These helpers give the
customer-table pipeline the right schema overrides and a time split (test =
latest outcome-known cutoff) so that ``train`` and ``score`` work on built
tables exactly as on any customer table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.events.build import SUMMARY_FILE
from churn_core.events.outcomes import time_split
from churn_core.events.types import ChurnDefinition
from churn_core.events.value_features import VALUE_COLUMN
from churn_core.outputs import file_sha256
from churn_core.problems import ChurnDataError, Problem
from churn_core.schema import SchemaOverrides
from churn_core.splits import Splits

log = logging.getLogger(__name__)

ID_COLUMN = "customer_id"
LABEL_COLUMN = "churned"
CUTOFF_COLUMN = "cutoff"


def event_overrides(frame: pd.DataFrame) -> SchemaOverrides:
    """Schema overrides for a built table: id, label; ``cutoff`` and ``customer_value``
    (what a customer is worth, not a churn feature) excluded."""
    types = {c: "exclude" for c in (CUTOFF_COLUMN, VALUE_COLUMN) if c in frame.columns}
    label = LABEL_COLUMN if LABEL_COLUMN in frame.columns else None
    return SchemaOverrides(id_column=ID_COLUMN, label_column=label, column_types=types)


def is_event_table(frame: pd.DataFrame) -> bool:
    """True when ``frame`` looks like a table written by ``build_tables``."""
    return {ID_COLUMN, CUTOFF_COLUMN}.issubset(frame.columns)


def read_summary(table_path: str | Path, *, required: bool = False) -> dict[str, Any] | None:
    """The ``summary.json`` written beside a built table, checked against the table.

    Parameters
    ----------
    table_path : str or Path
        The built table (``training.parquet``).
    required : bool
        Refuse a table without a readable summary instead of returning None:
        without it the churn window is unknown, and a backtest could look ahead.

    Raises
    ------
    ChurnDataError
        ``EVENTS_SUMMARY_MISMATCH`` when the summary lists another version of the
        table (a build stopped half way, or files copied from two builds);
        ``EVENTS_NO_SUMMARY`` when ``required`` and the summary is missing or unreadable.
    """
    table = Path(table_path)
    path = table.parent / SUMMARY_FILE
    data = None
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("could not read %s", path)
    if not isinstance(data, dict) or "definition" not in data:
        if required:
            raise ChurnDataError([Problem(
                "EVENTS_NO_SUMMARY", "error",
                f"{table.name} was built from an event log, but {SUMMARY_FILE} beside it is "
                "missing or unreadable, so the churn window (and which cutoffs a backtest may "
                "use) is unknown.", values=(str(path),),
                action="build the tables again (churn_core build) into an empty folder")])
        return None
    listed = data.get("tables", {})
    if isinstance(listed, dict) and table.name in listed and \
            listed[table.name] != file_sha256(table):
        raise ChurnDataError([Problem(
            "EVENTS_SUMMARY_MISMATCH", "error",
            f"{SUMMARY_FILE} describes another version of {table.name} (a build stopped half "
            "way, or files from two builds).", values=(str(path),),
            action="build the tables again into an empty folder")])
    return data


def definition_from_summary(summary: Mapping[str, Any] | None) -> ChurnDefinition | None:
    """The churn definition recorded in a build summary."""
    if not summary or "definition" not in summary:
        return None
    d = dict(summary["definition"])
    return ChurnDefinition(window_days=int(d.get("window_days", 90)),
                           active_days=int(d.get("active_days", 365)),
                           lead_days=int(d.get("lead_days", 0)),
                           min_history_days=int(d.get("min_history_days", 90)))


def backtest_splits(frame: pd.DataFrame, *, definition: ChurnDefinition | None,
                    valid_size: float = 0.2, seed: int = 42,
                    labelled: Iterable[bool] | None = None) -> Splits:
    """Train/validation on earlier cutoffs (customers on one side), test on the latest one.

    Rows without a label (``labelled`` false) are dropped from every part.
    """
    split = time_split(frame, definition=definition, valid_size=valid_size, seed=seed)
    keep = np.ones(len(frame), dtype=bool) if labelled is None else np.asarray(list(labelled))
    return Splits(train=split.train[keep[split.train]], valid=split.valid[keep[split.valid]],
                  test=split.test[keep[split.test]])
