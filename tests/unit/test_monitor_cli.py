"""``python -m churn_core monitor`` and ``retrain``: exit codes, reports, decisions."""

from __future__ import annotations

import json
import sqlite3

import pytest

from churn_core.__main__ import main
from tests.unit.monitor_helpers import fresh, train_bundle


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    folder, frame = train_bundle(root / "model")
    frame.to_csv(root / "week1.csv", index=False)
    shifted = fresh()
    shifted["WarehouseToHome"] = shifted["WarehouseToHome"] + 15
    shifted.to_csv(root / "shifted.csv", index=False)
    frame.drop(columns=["Tenure"]).to_csv(root / "no_tenure.csv", index=False)
    return root, folder


def test_exit_codes_reports_and_idempotence(files, tmp_path, capsys):
    root, bundle = files
    store = str(tmp_path / "s.db")
    args = [str(bundle), str(root / "week1.csv"), "--store", store]
    assert main(["monitor", *args, "--report", str(tmp_path / "r1.json")]) == 0
    first = json.loads((tmp_path / "r1.json").read_text())
    for key in ("run_id", "drifted_features", "score_drift", "estimated_auc",
                "entered_at_risk", "left_at_risk"):
        assert key in first
    assert main(["monitor", *args]) == 0
    assert "already stored" in capsys.readouterr().out
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM monitor_runs").fetchone()[0] == 1
    # Drift: exit 3 and the report names the feature.
    assert main(["monitor", str(bundle), str(root / "shifted.csv"), "--store", store,
                 "--report", str(tmp_path / "r2.md")]) == 3
    text = (tmp_path / "r2.md").read_text()
    assert "drift in WarehouseToHome" in text and "| WarehouseToHome |" in text
    # Performance under --min-auc is an alert on its own (the same data: no drift).
    assert main(["monitor", *args, "--min-auc", "0.9999"]) == 3
    assert main(["monitor", *args, "--min-auc", "0.5"]) == 0


def test_bad_inputs_exit_2(files, tmp_path, capsys):
    root, bundle = files
    store = str(tmp_path / "s.db")
    assert main(["monitor", str(bundle), str(root / "no_tenure.csv"), "--store", store]) == 2
    assert "MISSING_COLUMNS" in capsys.readouterr().err
    assert main(["monitor", str(bundle), str(tmp_path / "absent.csv"), "--store", store]) == 2
    assert main(["monitor", str(tmp_path), str(root / "week1.csv"), "--store", store]) == 2
    assert "BUNDLE_NOT_FOUND" in capsys.readouterr().err
    not_db = tmp_path / "not.db"
    not_db.write_bytes(b"not a database" * 200)
    assert main(["monitor", str(bundle), str(root / "week1.csv"), "--store", str(not_db)]) == 2


def test_webhook_failure_does_not_fail_the_run(files, tmp_path, capsys):
    root, bundle = files
    code = main(["monitor", str(bundle), str(root / "week1.csv"), "--store",
                 str(tmp_path / "s.db"), "--webhook", "http://127.0.0.1:9/none",
                 "--webhook-timeout", "0.2"])
    assert code == 0
    assert "webhook: NOT sent" in capsys.readouterr().out


def test_retrain_promotes_only_a_better_model(files, tmp_path, capsys):
    root, bundle = files
    store = str(tmp_path / "s.db")
    data = str(root / "shifted.csv")
    # An impossible gain: the champion is kept and nothing is written.
    assert main(["retrain", str(bundle), data, "--out", str(tmp_path / "kept"), "--store",
                 store, "--no-search", "--min-gain", "1.0"]) == 0
    assert "kept the champion" in capsys.readouterr().out
    assert not (tmp_path / "kept").exists()
    # Any challenger beats a gain of -1: promoted and written as a loadable bundle.
    assert main(["retrain", str(bundle), data, "--out", str(tmp_path / "new"), "--store",
                 store, "--no-search", "--min-gain", "-1"]) == 0
    assert "PROMOTED" in capsys.readouterr().out
    assert (tmp_path / "new" / "manifest.json").exists()
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT promoted, holdout_rows, champion_auc, challenger_auc "
                            "FROM monitor_retrain ORDER BY decision_id").fetchall()
    assert [r[0] for r in rows] == [0, 1]
    assert rows[0][1] > 200 and 0.5 < rows[0][2] <= 1 and 0.5 < rows[0][3] <= 1


def test_retrain_needs_labels(files, tmp_path, capsys):
    root, bundle = files
    unlabelled = fresh().drop(columns=["Churn"])
    unlabelled.to_csv(tmp_path / "u.csv", index=False)
    assert main(["retrain", str(bundle), str(tmp_path / "u.csv"), "--out",
                 str(tmp_path / "x"), "--store", str(tmp_path / "s.db")]) == 2
    assert capsys.readouterr().err.strip()


def test_outcomes_arriving_later_replace_the_estimate(files, tmp_path, capsys):
    root, bundle = files
    store = str(tmp_path / "s.db")
    week = fresh(seed=9)
    week.drop(columns=["Churn"]).to_csv(tmp_path / "unlabelled.csv", index=False)
    week[["CustomerID", "Churn"]].iloc[::-1].to_csv(tmp_path / "outcomes.csv", index=False)
    assert main(["monitor", str(bundle), str(tmp_path / "unlabelled.csv"), "--store", store,
                 "--report", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["realised"] is None and report["estimated_auc"] is not None
    assert main(["outcomes", report["run_id"], str(tmp_path / "outcomes.csv"),
                 "--store", store]) == 0
    assert f"{len(week):,} outcomes matched" in capsys.readouterr().out
    with sqlite3.connect(store) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM monitor_runs").fetchone()[0])
    realised = summary["realised"]
    assert realised["rows"] == len(week) and 0.5 < realised["roc_auc"] <= 1
    assert main(["outcomes", "feedbeef", str(tmp_path / "outcomes.csv"), "--store", store]) == 2
    assert "RUN_NOT_FOUND" in capsys.readouterr().err
    week[["Churn"]].to_csv(tmp_path / "no_ids.csv", index=False)
    assert main(["outcomes", report["run_id"], str(tmp_path / "no_ids.csv"),
                 "--store", store]) == 2
    assert "MISSING_COLUMNS" in capsys.readouterr().err
