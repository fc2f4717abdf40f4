"""Monitor page: seeded with a temporary store through CHURN_RADAR_HOME."""

from __future__ import annotations

import pytest

from churn_core.bundle import load_bundle
from churn_core.monitor.service import monitor
from churn_core.store import default_store_path, open_store
from tests.app.conftest import assert_clean
from tests.unit.monitor_helpers import fresh, train_bundle
from ui.state import StateKeys


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    folder, frame = train_bundle(home / "model")
    bundle = load_bundle(folder)
    conn = open_store(default_store_path(env={"CHURN_RADAR_HOME": str(home)}))
    monitor(bundle, frame, conn=conn)
    shifted = fresh()
    shifted["WarehouseToHome"] = shifted["WarehouseToHome"] + 15
    monitor(bundle, shifted, conn=conn)
    conn.close()
    return home


def test_without_store_says_how_to_record_runs(page, tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_RADAR_HOME", str(tmp_path / "empty"))
    at = page("monitor.py")
    assert_clean(at)
    assert at.info and "No monitoring runs yet" in at.info[0].value
    assert at.code and "churn_core monitor" in at.code[0].value


def test_history_drift_and_charts(page, seeded_home, monkeypatch):
    monkeypatch.setenv("CHURN_RADAR_HOME", str(seeded_home))
    at = page("monitor.py")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Runs"] == "2"
    assert metrics["Drifted columns (latest)"] != "0"
    assert any("drift in WarehouseToHome" in w.value for w in at.warning)
    tables = [t.value for t in at.dataframe]
    drift = next(t for t in tables if "effect_name" in t.columns)
    assert drift.loc[drift["feature"] == "WarehouseToHome", "drifted"].item()
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    # The first run has nothing to compare with.
    runs = at.selectbox(key=StateKeys.W_MONITOR_RUN)
    runs.select_index(len(runs.options) - 1).run()
    assert_clean(at)
    assert any("First run of this model" in c.value for c in at.caption)
