"""The shared SQLite store: WAL mode, named migrations applied once, atomic transactions."""

from __future__ import annotations

import pytest

from churn_core.problems import ChurnDataError
from churn_core.store import default_store_path, migrate, open_store, transaction

MIGRATIONS = [("demo_v1", ["CREATE TABLE demo (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"])]


def test_default_path_follows_home_variable(tmp_path):
    path = default_store_path(env={"CHURN_RADAR_HOME": str(tmp_path)})
    assert path == tmp_path / "churn_radar.db"
    assert default_store_path(env={}).parent.name == ".churn-radar"


def test_wal_and_migrations_applied_once(tmp_path):
    conn = open_store(tmp_path / "s.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert migrate(conn, MIGRATIONS) == ["demo_v1"]
    assert migrate(conn, MIGRATIONS) == []


def test_failed_transaction_leaves_nothing(tmp_path):
    conn = open_store(tmp_path / "s.db")
    migrate(conn, MIGRATIONS)
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO demo(name) VALUES ('a')")
        raise RuntimeError("interrupted")
    assert conn.execute("SELECT count(*) FROM demo").fetchone()[0] == 0


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ChurnDataError) as exc:
        open_store(bad)
    assert exc.value.problems[0].code == "STORE_UNAVAILABLE"
