"""Campaign tables on the shared store (:mod:`churn_core.store`).

Tables (migration ``campaigns_v1``):

``campaigns``
    one row per campaign: name, date, model hash, threshold, control share,
    economics (JSON), id column name.
``campaign_members``
    who was on the list, in which group, with score, risk decile and segment.
``campaign_outcomes``
    whether each member churned, and optionally the revenue, keyed by
    (campaign, customer) so uploading the same outcome again changes nothing.
``campaign_uploads``
    one row per distinct outcome file (by SHA-256), with its counts.

Every write runs in :func:`churn_core.store.transaction`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.problems import ChurnDataError, Problem
from churn_core.store import migrate, now_iso, open_store, transaction

MIGRATIONS = [
    ("campaigns_v1", [
        """CREATE TABLE campaigns (
            campaign_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            model_hash TEXT NOT NULL DEFAULT '',
            threshold REAL,
            holdout REAL NOT NULL,
            economics TEXT NOT NULL DEFAULT '{}',
            id_column TEXT NOT NULL,
            n_members INTEGER NOT NULL,
            n_control INTEGER NOT NULL,
            base_rate REAL NOT NULL)""",
        """CREATE TABLE campaign_members (
            campaign_id INTEGER NOT NULL REFERENCES campaigns(campaign_id),
            customer_id TEXT NOT NULL,
            grp TEXT NOT NULL CHECK (grp IN ('contact', 'control')),
            churn_probability REAL,
            risk_decile INTEGER NOT NULL,
            segment TEXT NOT NULL DEFAULT '',
            value_at_risk REAL,
            PRIMARY KEY (campaign_id, customer_id)) WITHOUT ROWID""",
        """CREATE TABLE campaign_uploads (
            upload_id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns(campaign_id),
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            uploaded_at TEXT NOT NULL,
            n_rows INTEGER NOT NULL,
            n_matched INTEGER NOT NULL,
            n_unknown INTEGER NOT NULL,
            n_new INTEGER NOT NULL,
            n_changed INTEGER NOT NULL,
            UNIQUE (campaign_id, sha256))""",
        """CREATE TABLE campaign_outcomes (
            campaign_id INTEGER NOT NULL,
            customer_id TEXT NOT NULL,
            churned INTEGER NOT NULL CHECK (churned IN (0, 1)),
            revenue REAL,
            upload_id INTEGER NOT NULL REFERENCES campaign_uploads(upload_id),
            PRIMARY KEY (campaign_id, customer_id),
            FOREIGN KEY (campaign_id, customer_id)
                REFERENCES campaign_members(campaign_id, customer_id)) WITHOUT ROWID""",
    ]),
]


@dataclass(frozen=True)
class CampaignRecord:
    """A stored campaign (one row of ``campaigns``)."""

    campaign_id: int
    name: str
    created_at: str
    model_hash: str
    threshold: float | None
    holdout: float
    economics: dict[str, Any]
    id_column: str
    n_members: int
    n_control: int
    base_rate: float


def connect(path: str | Path | None = None) -> sqlite3.Connection:
    """Open the store (default path when None) with the campaign tables in place."""
    conn = open_store(path)
    applied = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
    if any(name not in applied for name, _ in MIGRATIONS):
        migrate(conn, MIGRATIONS)   # takes the write lock; readers of a current store skip it
    return conn


def _record(row: sqlite3.Row) -> CampaignRecord:
    return CampaignRecord(int(row["campaign_id"]), row["name"], row["created_at"],
                          row["model_hash"], row["threshold"], float(row["holdout"]),
                          json.loads(row["economics"] or "{}"), row["id_column"],
                          int(row["n_members"]), int(row["n_control"]), float(row["base_rate"]))


def find_campaign(conn: sqlite3.Connection, name: str) -> CampaignRecord | None:
    """The campaign called ``name``, or None."""
    row = conn.execute("SELECT * FROM campaigns WHERE name = ?", (str(name).strip(),)).fetchone()
    return None if row is None else _record(row)


def get_campaign(conn: sqlite3.Connection, name: str) -> CampaignRecord:
    """The campaign called ``name``.

    Raises
    ------
    ChurnDataError
        ``CAMPAIGN_NOT_FOUND``, listing the names that exist.
    """
    found = find_campaign(conn, name)
    if found is None:
        names = [r[0] for r in conn.execute("SELECT name FROM campaigns ORDER BY campaign_id")]
        known = ", ".join(names[-5:]) if names else "none yet"
        raise ChurnDataError([Problem(
            "CAMPAIGN_NOT_FOUND", "error",
            f"There is no campaign called '{name}' in this store (campaigns: {known}).",
            values=(str(name),), action="check the name, or --store if it lives elsewhere")])
    return found


def insert_campaign(conn: sqlite3.Connection, *, name: str, id_column: str,
                    members: pd.DataFrame, holdout: float, base_rate: float,
                    model_hash: str = "", threshold: float | None = None,
                    economics: Mapping[str, Any] | None = None) -> CampaignRecord:
    """Record a campaign and its members in one transaction.

    Parameters
    ----------
    members : DataFrame
        ``customer_id, grp, churn_probability, risk_decile, segment, value_at_risk``.

    Raises
    ------
    ChurnDataError
        ``CAMPAIGN_EXISTS`` when the name is taken (nothing is written).
    """
    econ = json.dumps(dict(economics or {}), sort_keys=True, default=str)
    n_control = int((members["grp"] == "control").sum())
    rows = list(zip(members["customer_id"].astype(str),
                    members["grp"].astype(str),
                    _nullable(members["churn_probability"]),
                    members["risk_decile"].astype(int).tolist(),
                    members["segment"].astype(str),
                    _nullable(members["value_at_risk"]), strict=True))
    with transaction(conn):
        if conn.execute("SELECT 1 FROM campaigns WHERE name = ?", (name,)).fetchone():
            raise ChurnDataError([Problem(
                "CAMPAIGN_EXISTS", "error", f"A campaign called '{name}' already exists.",
                values=(name,), action="choose another name (each campaign keeps its own "
                "control group)")])
        cur = conn.execute(
            "INSERT INTO campaigns(name, created_at, model_hash, threshold, holdout, economics,"
            " id_column, n_members, n_control, base_rate) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (name, now_iso(), model_hash, threshold, float(holdout), econ, id_column,
             len(members), n_control, float(base_rate)))
        campaign_id = int(cur.lastrowid)
        conn.executemany(
            "INSERT INTO campaign_members(campaign_id, customer_id, grp, churn_probability, "
            "risk_decile, segment, value_at_risk) VALUES (?,?,?,?,?,?,?)",
            [(campaign_id, *r) for r in rows])
    return get_campaign(conn, name)


def _nullable(values: pd.Series) -> list[float | None]:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return [None if not np.isfinite(x) else float(x) for x in v]


def members_frame(conn: sqlite3.Connection, campaign_id: int) -> pd.DataFrame:
    """Members with their outcome (``churned``/``revenue`` missing where none was uploaded)."""
    rows = conn.execute(
        "SELECT m.customer_id, m.grp, m.churn_probability, m.risk_decile, m.segment, "
        "m.value_at_risk, o.churned, o.revenue FROM campaign_members m "
        "LEFT JOIN campaign_outcomes o ON o.campaign_id = m.campaign_id "
        "AND o.customer_id = m.customer_id WHERE m.campaign_id = ? "
        "ORDER BY m.risk_decile, m.churn_probability DESC, m.customer_id",
        (campaign_id,)).fetchall()
    cols = ["customer_id", "grp", "churn_probability", "risk_decile", "segment",
            "value_at_risk", "churned", "revenue"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    for col in ("churn_probability", "value_at_risk", "churned", "revenue"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def stored_outcomes(conn: sqlite3.Connection, campaign_id: int) -> dict[str, tuple[int, float]]:
    """customer id -> (churned, revenue) already stored for a campaign."""
    return {r[0]: (int(r[1]), r[2]) for r in conn.execute(
        "SELECT customer_id, churned, revenue FROM campaign_outcomes WHERE campaign_id = ?",
        (campaign_id,))}


def upload_seen(conn: sqlite3.Connection, campaign_id: int, sha256: str) -> bool:
    """Whether a file with this hash was already uploaded to the campaign."""
    return conn.execute("SELECT 1 FROM campaign_uploads WHERE campaign_id = ? AND sha256 = ?",
                        (campaign_id, sha256)).fetchone() is not None


def write_outcomes(conn: sqlite3.Connection, campaign_id: int, outcomes: pd.DataFrame, *,
                   file_name: str, sha256: str, n_rows: int, n_unknown: int
                   ) -> tuple[int, int, bool]:
    """Store outcomes (``customer_id, churned, revenue``) and log the upload, atomically.

    Outcomes equal to the stored ones are left alone; different ones replace them.

    Returns
    -------
    n_new, n_changed, duplicate_file : int, int, bool
        ``duplicate_file`` is True when this exact file was uploaded before (then
        nothing is written).
    """
    with transaction(conn):
        if upload_seen(conn, campaign_id, sha256):
            return 0, 0, True
        before = stored_outcomes(conn, campaign_id)
        todo = []
        n_new = n_changed = 0
        for cid, churned, revenue in zip(outcomes["customer_id"], outcomes["churned"],
                                         _nullable(outcomes["revenue"]), strict=True):
            old = before.get(cid)
            if old is None:
                n_new += 1
            elif old[0] == int(churned) and _same(old[1], revenue):
                continue
            else:
                n_changed += 1
            todo.append((campaign_id, cid, int(churned), revenue))
        cur = conn.execute(
            "INSERT INTO campaign_uploads(campaign_id, file_name, sha256, uploaded_at, n_rows, "
            "n_matched, n_unknown, n_new, n_changed) VALUES (?,?,?,?,?,?,?,?,?)",
            (campaign_id, file_name, sha256, now_iso(), n_rows, len(outcomes), n_unknown,
             n_new, n_changed))
        upload_id = int(cur.lastrowid)
        conn.executemany(
            "INSERT INTO campaign_outcomes(campaign_id, customer_id, churned, revenue, "
            "upload_id) VALUES (?,?,?,?,?) ON CONFLICT(campaign_id, customer_id) DO UPDATE "
            "SET churned = excluded.churned, revenue = excluded.revenue, "
            "upload_id = excluded.upload_id", [(*t, upload_id) for t in todo])
    return n_new, n_changed, False


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def campaigns_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every campaign, newest first, with member, control and outcome counts."""
    rows = conn.execute(
        "SELECT c.campaign_id, c.name, c.created_at, c.model_hash, c.threshold, c.holdout, "
        "c.n_members, c.n_control, (SELECT count(*) FROM campaign_outcomes o "
        "WHERE o.campaign_id = c.campaign_id) AS n_outcomes, (SELECT count(*) FROM "
        "campaign_uploads u WHERE u.campaign_id = c.campaign_id) AS n_uploads "
        "FROM campaigns c ORDER BY c.campaign_id DESC").fetchall()
    cols = ["campaign_id", "name", "created_at", "model_hash", "threshold", "holdout",
            "n_members", "n_control", "n_outcomes", "n_uploads"]
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)
