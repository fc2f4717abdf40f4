"""DuckDB spill folders do not pile up in the temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from churn_core.events import spill


def test_spill_folders_are_per_process_and_removed_at_exit(tmp_path):
    code = ("import tempfile, sys; tempfile.tempdir = sys.argv[1]; "
            "from churn_core.events.staging import connect; "
            "con = connect(); con.execute('SELECT 1').fetchall(); print('ok')")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert list(tmp_path.iterdir()) == []


def test_orphans_of_ended_processes_are_removed(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / f"{spill.PREFIX}{int(done.stdout)}_abc"
    live = tmp_path / f"{spill.PREFIX}{os.getpid()}_def"
    other = tmp_path / "churn_duckdb_oldstyle"
    for folder in (dead, live, other):
        folder.mkdir()
    assert spill.remove_orphans(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()
