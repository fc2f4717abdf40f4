"""Monitoring runs in the shared store: per-customer scores, summaries, references, decisions.

A run is identified by its model and its data: ``run_id`` is derived from the
model hash and the data fingerprint, and the pair is unique, so the same data
scored twice by the same model is one run (a scheduler may retry freely).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churn_core.store import migrate, now_iso, transaction

MIGRATIONS = [("monitor_v1", [
    """CREATE TABLE monitor_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL UNIQUE,
        model_hash TEXT NOT NULL,
        data_fingerprint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rows INTEGER NOT NULL,
        threshold REAL NOT NULL,
        at_risk INTEGER NOT NULL,
        summary_json TEXT NOT NULL,
        UNIQUE (model_hash, data_fingerprint))""",
    """CREATE TABLE monitor_scores (
        run_id TEXT NOT NULL REFERENCES monitor_runs(run_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        customer_id TEXT NOT NULL,
        score REAL,
        tier TEXT NOT NULL,
        at_risk INTEGER NOT NULL,
        reason_1 TEXT, reason_2 TEXT, reason_3 TEXT,
        PRIMARY KEY (run_id, position))""",
    "CREATE INDEX monitor_scores_customer ON monitor_scores(run_id, customer_id)",
    """CREATE TABLE monitor_references (
        model_hash TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL,
        profile_json TEXT NOT NULL)""",
    """CREATE TABLE monitor_retrain (
        decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        champion_hash TEXT NOT NULL,
        challenger_hash TEXT NOT NULL,
        holdout_rows INTEGER NOT NULL,
        champion_auc REAL,
        challenger_auc REAL,
        promoted INTEGER NOT NULL,
        out_dir TEXT,
        detail_json TEXT NOT NULL)""",
])]

SCORE_COLUMNS = ["customer_id", "score", "tier", "at_risk", "reason_1", "reason_2", "reason_3"]


@dataclass(frozen=True)
class StoredRun:
    """One run's row (its summary parsed)."""

    seq: int
    run_id: str
    model_hash: str
    data_fingerprint: str
    created_at: str
    rows: int
    threshold: float
    at_risk: int
    summary: dict[str, Any]


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the monitoring tables where they are missing (named migration ``monitor_v1``)."""
    migrate(conn, MIGRATIONS)


def run_id_for(model_hash: str, data_fingerprint: str) -> str:
    """The run id of a model and a data fingerprint (16 hex digits, deterministic)."""
    return hashlib.sha256(f"{model_hash}:{data_fingerprint}".encode()).hexdigest()[:16]


def _stored(row: sqlite3.Row | None) -> StoredRun | None:
    if row is None:
        return None
    return StoredRun(seq=row["seq"], run_id=row["run_id"], model_hash=row["model_hash"],
                     data_fingerprint=row["data_fingerprint"], created_at=row["created_at"],
                     rows=row["rows"], threshold=row["threshold"], at_risk=row["at_risk"],
                     summary=json.loads(row["summary_json"]))


def find_run(conn: sqlite3.Connection, run_id: str) -> StoredRun | None:
    """The run with this id, or None."""
    return _stored(conn.execute("SELECT * FROM monitor_runs WHERE run_id = ?",
                                (run_id,)).fetchone())


def previous_run(conn: sqlite3.Connection, model_hash: str, *,
                 before_seq: int | None = None) -> StoredRun | None:
    """The latest run of ``model_hash`` (before run number ``before_seq`` when given)."""
    limit = before_seq if before_seq is not None else 2**62
    return _stored(conn.execute(
        "SELECT * FROM monitor_runs WHERE model_hash = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
        (model_hash, limit)).fetchone())


def first_run(conn: sqlite3.Connection, model_hash: str) -> StoredRun | None:
    """The earliest run of ``model_hash``, or None."""
    return _stored(conn.execute(
        "SELECT * FROM monitor_runs WHERE model_hash = ? ORDER BY seq LIMIT 1",
        (model_hash,)).fetchone())


def save_run(conn: sqlite3.Connection, *, run_id: str, model_hash: str, data_fingerprint: str,
             threshold: float, scores: pd.DataFrame, summary: dict[str, Any]) -> StoredRun:
    """Store a run and its per-customer scores in one transaction.

    Parameters
    ----------
    scores : DataFrame
        :data:`SCORE_COLUMNS`, one row per scored row, in input order.
    summary : dict
        JSON-safe run summary (drift, estimates, diff, ...).

    Returns
    -------
    StoredRun
        The stored run; an existing run with the same id is returned unchanged.
    """
    created = now_iso()
    rows = [(run_id, i, str(r[0]), None if not np.isfinite(r[1]) else float(r[1]), str(r[2]),
             int(bool(r[3])), r[4] or None, r[5] or None, r[6] or None)
            for i, r in enumerate(scores[SCORE_COLUMNS].itertuples(index=False, name=None))]
    with transaction(conn):
        if conn.execute("SELECT 1 FROM monitor_runs WHERE run_id = ?", (run_id,)).fetchone():
            pass  # written meanwhile by another process: keep the first
        else:
            conn.execute(
                "INSERT INTO monitor_runs(run_id, model_hash, data_fingerprint, created_at, rows,"
                " threshold, at_risk, summary_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, model_hash, data_fingerprint, created, len(scores), float(threshold),
                 int(scores["at_risk"].sum()), json.dumps({**summary, "created_at": created},
                                                          allow_nan=False)))
            conn.executemany("INSERT INTO monitor_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             rows)
    stored = find_run(conn, run_id)
    assert stored is not None
    return stored


def load_scores(conn: sqlite3.Connection, run_id: str) -> pd.DataFrame:
    """Per-customer scores of a run (:data:`SCORE_COLUMNS`), in input order."""
    cur = conn.execute(f"SELECT {', '.join(SCORE_COLUMNS)} FROM monitor_scores WHERE run_id = ? "
                       "ORDER BY position", (run_id,))
    frame = pd.DataFrame(cur.fetchall(), columns=SCORE_COLUMNS)
    frame["score"] = frame["score"].astype(float)
    frame["at_risk"] = frame["at_risk"].astype(bool)
    for col in ("reason_1", "reason_2", "reason_3"):
        frame[col] = frame[col].fillna("").astype(str)
    return frame


def list_runs(conn: sqlite3.Connection, model_hash: str | None = None) -> list[StoredRun]:
    """Every run (of one model when given), oldest first."""
    sql, args = "SELECT * FROM monitor_runs", ()
    if model_hash is not None:
        sql, args = sql + " WHERE model_hash = ?", (model_hash,)
    return [r for r in (_stored(x) for x in conn.execute(sql + " ORDER BY seq", args))
            if r is not None]


def get_reference(conn: sqlite3.Connection, model_hash: str) -> tuple[str, dict] | None:
    """``(source, profile)`` stored for a model, or None."""
    row = conn.execute("SELECT source, profile_json FROM monitor_references WHERE model_hash = ?",
                       (model_hash,)).fetchone()
    return None if row is None else (row["source"], json.loads(row["profile_json"]))


def put_reference(conn: sqlite3.Connection, model_hash: str, source: str,
                  profile: dict[str, Any]) -> None:
    """Store a model's reference profile unless one is stored already (the first wins)."""
    with transaction(conn):
        conn.execute("INSERT OR IGNORE INTO monitor_references VALUES (?, ?, ?, ?)",
                     (model_hash, source, now_iso(), json.dumps(profile, allow_nan=False)))


def record_retrain(conn: sqlite3.Connection, *, champion_hash: str, challenger_hash: str,
                   holdout_rows: int, champion_auc: float, challenger_auc: float,
                   promoted: bool, out_dir: str | None, detail: dict[str, Any]) -> int:
    """Record a champion/challenger decision; return its id."""
    def num(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO monitor_retrain(created_at, champion_hash, challenger_hash, holdout_rows,"
            " champion_auc, challenger_auc, promoted, out_dir, detail_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (now_iso(), champion_hash, challenger_hash, int(holdout_rows), num(champion_auc),
             num(challenger_auc), int(promoted), out_dir, json.dumps(detail, allow_nan=False)))
    return int(cur.lastrowid)


def list_retrain(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every retraining decision, oldest first."""
    cur = conn.execute("SELECT decision_id, created_at, champion_hash, challenger_hash, "
                       "holdout_rows, champion_auc, challenger_auc, promoted, out_dir "
                       "FROM monitor_retrain ORDER BY decision_id")
    cols = [d[0] for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def history_frame(runs: list[StoredRun]) -> pd.DataFrame:
    """One row per run, oldest first: size, at-risk count, drift, estimated and realised
    ROC-AUC, alerts and the score quantiles (for charts across runs)."""
    rows = []
    for r in runs:
        s = r.summary
        est, real = s.get("estimate") or {}, s.get("realised") or {}
        q = (s.get("scores") or {}).get("quantiles") or {}
        rows.append({
            "run_id": r.run_id, "model": r.model_hash[:12], "created_at": r.created_at,
            "rows": r.rows, "at_risk": r.at_risk, "threshold": r.threshold,
            "drifted": len(s.get("drifted_features") or []),
            "drifted_features": ", ".join(s.get("drifted_features") or []),
            "score_drift": bool(s.get("score_drift")),
            "estimated_auc": est.get("roc_auc"), "estimated_auc_low": est.get("roc_auc_low"),
            "estimated_auc_high": est.get("roc_auc_high"), "realised_auc": real.get("roc_auc"),
            "entered": (s.get("diff") or {}).get("entered_count"),
            "left": (s.get("diff") or {}).get("left_count"),
            "alerts": "; ".join(s.get("alerts") or []),
            **{f"score_q{k}": q.get(k) for k in ("0", "0.05", "0.25", "0.5", "0.75", "0.95", "1")},
        })
    frame = pd.DataFrame(rows)
    for col in ("estimated_auc", "estimated_auc_low", "estimated_auc_high", "realised_auc"):
        if col in frame:
            frame[col] = frame[col].astype(float)
    return frame
