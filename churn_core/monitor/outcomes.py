"""Outcomes that arrive after a run: realised figures replace the estimates.

A run records its model's label column and mapping; a later file with the
customer ids and that label column gives the realised ROC-AUC, precision and
recall of the run's stored scores for the customers it matches.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

import pandas as pd

from churn_core.labels import encode_label
from churn_core.monitor.estimate import Performance, realised_performance
from churn_core.monitor.runs import find_run, load_scores
from churn_core.problems import ChurnDataError, Problem
from churn_core.store import now_iso, transaction


@dataclass(frozen=True)
class _LabelMapping:
    """What :func:`churn_core.labels.encode_label` reads from a schema."""

    label_mapping: dict[str, int] = field(default_factory=dict)


def _error(code: str, message: str, **kw) -> ChurnDataError:
    return ChurnDataError([Problem(code, "error", message, **kw)])


def record_outcomes(conn: sqlite3.Connection, run_id: str, frame: pd.DataFrame) -> Performance:
    """Compute a run's realised performance from known outcomes and store it with the run.

    Parameters
    ----------
    conn : sqlite3.Connection
    run_id : str
    frame : DataFrame
        The run's id column and the model's label column (any other columns ignored).

    Returns
    -------
    Performance
        ``kind="realised"`` over the matched customers with a known outcome.

    Raises
    ------
    ChurnDataError
        ``RUN_NOT_FOUND``, ``MISSING_COLUMNS`` or ``OUTCOMES_NO_MATCH``.
    """
    run = find_run(conn, run_id)
    if run is None:
        raise _error("RUN_NOT_FOUND", f"no monitoring run {run_id!r} in the store",
                     values=(run_id,), action="copy the run id from the monitor output")
    label = run.summary.get("label") or {}
    id_col, label_col = label.get("id_column"), label.get("column")
    missing = [c for c in (id_col, label_col) if not c or c not in frame.columns]
    if missing:
        raise ChurnDataError([Problem("MISSING_COLUMNS", "error", f"the outcomes need column "
                                      f"{c!r}", column=c) for c in missing if c] or
                             [Problem("MISSING_COLUMNS", "error", "the run's model has no id "
                                      "or label column to match outcomes by")])
    y = encode_label(frame[label_col], _LabelMapping(dict(label.get("mapping") or {})))
    outcomes = pd.DataFrame({"customer_id": frame[id_col].astype(str).to_numpy(),
                             "outcome": y.to_numpy()}).dropna()
    outcomes = outcomes.drop_duplicates("customer_id", keep="last")
    scores = load_scores(conn, run_id).drop_duplicates("customer_id", keep="first")
    matched = scores.merge(outcomes, on="customer_id", how="inner")
    if matched.empty:
        raise _error("OUTCOMES_NO_MATCH", f"none of the {len(outcomes):,} outcomes match a "
                     f"customer of run {run_id}", column=id_col,
                     values=tuple(outcomes["customer_id"].head(5)))
    realised = realised_performance(matched["outcome"].to_numpy(dtype=float),
                                    matched["score"].to_numpy(dtype=float), run.threshold)
    summary = {**run.summary, "realised": realised.to_dict(), "outcomes_at": now_iso()}
    with transaction(conn):
        conn.execute("UPDATE monitor_runs SET summary_json = ? WHERE run_id = ?",
                     (json.dumps(summary, allow_nan=False), run_id))
    return realised


def label_info(id_column: str | None, label_column: str | None,
               mapping: dict[str, int]) -> dict[str, object]:
    """What a run stores to match later outcomes (see :func:`record_outcomes`)."""
    return {"id_column": id_column, "column": label_column,
            "mapping": {str(k): int(v) for k, v in mapping.items()}}

