"""The embedded store that the dashboard and scheduled jobs share: SQLite in WAL mode.

One database file (default ``$CHURN_RADAR_HOME/churn_radar.db``, with
``CHURN_RADAR_HOME`` defaulting to ``~/.churn-radar``) holds campaigns, their
members and outcomes, and monitoring runs. SQLite in WAL mode lets one writer and
many readers work at once from different processes (DuckDB would lock the file to
one writing process). Every write goes through :func:`transaction`, so an
interrupted write leaves nothing half done.

Schema changes are *named migrations*: each feature module registers its own
list of ``(name, statements)`` and :func:`migrate` applies the ones a database has
not seen yet, each in one transaction, recording the name in ``schema_migrations``.
Names never change once released; a later change is a new name.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from churn_core.problems import ChurnDataError, Problem

log = logging.getLogger(__name__)

HOME_ENV = "CHURN_RADAR_HOME"
DB_NAME = "churn_radar.db"
BUSY_TIMEOUT_MS = 30_000

Migration = tuple[str, Sequence[str]]


def default_store_path(*, env: dict[str, str] | None = None) -> Path:
    """``$CHURN_RADAR_HOME/churn_radar.db``; ``CHURN_RADAR_HOME`` defaults to ``~/.churn-radar``."""
    home = (os.environ if env is None else env).get(HOME_ENV, "").strip()
    base = Path(home).expanduser() if home else Path.home() / ".churn-radar"
    return base / DB_NAME


def open_store(path: str | Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the store at ``path`` in WAL mode.

    Parameters
    ----------
    path : str or Path, optional
        Database file; :func:`default_store_path` when None.

    Returns
    -------
    sqlite3.Connection
        Autocommit mode (``isolation_level=None``): group writes with
        :func:`transaction`. Rows come back as :class:`sqlite3.Row`.

    Raises
    ------
    ChurnDataError
        ``STORE_UNAVAILABLE`` when the folder cannot be created or the file is
        not a SQLite database.
    """
    target = Path(path) if path is not None else default_store_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    except (OSError, sqlite3.DatabaseError) as exc:
        raise ChurnDataError([Problem(
            "STORE_UNAVAILABLE", "error",
            f"The store {str(target)!r} cannot be opened: {exc}.",
            values=(str(target),),
            action="choose another file with --store, or check that the folder is writable")]
        ) from exc
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block's statements as one transaction (``BEGIN IMMEDIATE``).

    ``IMMEDIATE`` takes the write lock at the start, so two processes writing at
    once wait for each other (up to the busy timeout) instead of failing halfway.
    Any exception rolls everything back.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> list[str]:
    """Apply the named migrations this database has not seen, in order.

    Returns
    -------
    list of str
        Names applied now (empty when the schema was current).
    """
    applied: list[str] = []
    for name, statements in migrations:
        with transaction(conn):
            seen = conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?",
                                (name,)).fetchone()
            if seen:
                continue
            for sql in statements:
                conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)",
                         (name, now_iso()))
        applied.append(name)
        log.info("store: applied migration %s", name)
    return applied


def now_iso() -> str:
    """The current UTC time as ISO 8601 text (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
