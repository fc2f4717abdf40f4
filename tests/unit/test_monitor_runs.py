"""Stored runs: idempotence, diffs between runs, drift references, the model hash."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn_core.bundle import load_bundle, save_bundle
from churn_core.monitor.diff import diff_runs
from churn_core.monitor.profile import feature_view, reference_profile, training_reference
from churn_core.monitor.runs import list_runs, load_scores
from churn_core.monitor.service import manifest_reference, model_hash, monitor
from churn_core.pipeline import make_bundle
from churn_core.score import align_columns
from churn_core.store import open_store
from tests.unit.monitor_helpers import fresh, train_analysis, train_bundle


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder, frame = train_bundle(tmp_path_factory.mktemp("bundle") / "model")
    return load_bundle(folder), folder, frame


def table(rows):
    return pd.DataFrame(rows, columns=["customer_id", "score", "tier", "at_risk", "reason_1",
                                       "reason_2", "reason_3"])


def test_diff_of_two_small_runs():
    prev = table([("a", 0.9, "high", True, "late orders", "", ""),
                  ("b", 0.2, "low", False, "", "", ""),
                  ("c", 0.7, "high", True, "", "", ""),
                  ("d", 0.6, "high", True, "", "", ""),
                  ("e", 0.4, "medium", False, "", "", "")])
    cur = table([("a", 0.3, "low", False, "complaint", "", ""),
                 ("b", 0.8, "high", True, "", "", ""),
                 ("c", 0.75, "high", True, "", "", ""),
                 ("e", 0.45, "medium", False, "", "", ""),
                 ("f", 0.95, "high", True, "", "", "")])
    d = diff_runs(prev, cur, top=2)
    assert set(d.entered["customer_id"]) == {"b", "f"}
    assert d.entered.set_index("customer_id")["new_customer"].to_dict() == {"f": True, "b": False}
    assert list(d.left["customer_id"]) == ["a"]
    assert d.gone_at_risk == 1  # d was at risk and is absent now
    assert d.tier_moves.loc["high", "low"] == 1 and d.tier_moves.loc["low", "high"] == 1
    assert list(d.movers["customer_id"]) == ["a", "b"]
    assert d.movers.iloc[0]["new_reasons"] == "complaint"
    assert d.movers.iloc[0]["dropped_reasons"] == "late orders"
    assert d.common == 4
    assert d.spearman == pytest.approx(-0.8)  # ranks 4,1,3,2 then 1,4,3,2
    assert d.to_dict()["entered_new_customers"] == 1
    assert json.dumps(d.to_dict())


def test_same_data_twice_is_one_run(trained, tmp_path):
    bundle, _, frame = trained
    conn = open_store(tmp_path / "s.db")
    first = monitor(bundle, frame, conn=conn)
    again = monitor(bundle, frame.copy(), conn=conn)
    assert not first.reused and again.reused
    assert again.run.run_id == first.run.run_id
    assert len(list_runs(conn)) == 1
    assert len(load_scores(conn, first.run.run_id)) == len(frame)
    assert first.report["drift"] is None  # the first run becomes the reference


def test_second_run_reports_what_changed(trained, tmp_path):
    bundle, _, frame = trained
    conn = open_store(tmp_path / "s.db")
    first = monitor(bundle, frame, conn=conn)
    week2 = frame.copy()
    calm = week2.index[:40]
    week2.loc[calm, ["Complain", "SatisfactionScore", "DaySinceLastOrder"]] = [1, 1, 30]
    second = monitor(bundle, week2, conn=conn)
    assert not second.reused and second.report["previous_run_id"] == first.run.run_id
    before = load_scores(conn, first.run.run_id).set_index("customer_id")
    after = load_scores(conn, second.run.run_id).set_index("customer_id")
    entered = sorted(after.index[after["at_risk"] & ~before["at_risk"]])
    left = sorted(after.index[~after["at_risk"] & before["at_risk"]])
    assert sorted(second.report["entered_at_risk"]) == entered and entered
    assert sorted(second.report["left_at_risk"]) == left
    assert set(entered) <= set(week2.loc[calm, "CustomerID"])
    movers = second.report["diff"]["top_movers"]
    assert movers and all(m["customer_id"] in set(week2.loc[calm, "CustomerID"]) for m in movers)
    assert 0.9 < second.report["diff"]["spearman"] < 1.0
    assert second.report["drifted_features"] == []  # 40 of 1,500 rows is no drift


def test_shifted_feature_is_drift_against_the_first_run(trained, tmp_path):
    bundle, _, frame = trained
    conn = open_store(tmp_path / "s.db")
    monitor(bundle, frame, conn=conn)
    shifted = fresh()
    shifted["WarehouseToHome"] = shifted["WarehouseToHome"] + 15
    result = monitor(bundle, shifted, conn=conn, min_auc=0.5)
    assert "WarehouseToHome" in result.report["drifted_features"]
    assert result.report["reference_source"] == "first run"
    assert result.alerts and result.alerts[0].startswith("drift in")
    assert result.report["realised"]["rows"] == len(shifted)  # labels present: realised too


def test_bundle_profile_is_preferred_and_scores_compared(trained, tmp_path):
    bundle, folder, frame = trained
    aligned, _ = align_columns(frame, bundle)
    view = feature_view(bundle.preprocessor, aligned)
    profile = reference_profile(view, scores=np.random.default_rng(0).random(len(frame)),
                                categorical=bundle.preprocessor.categorical)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reference_profile"] = profile
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert manifest_reference(folder) == profile
    result = monitor(bundle, fresh(), conn=open_store(tmp_path / "s.db"),
                     reference=manifest_reference(folder))
    assert result.report["reference_source"] == "bundle"
    assert result.report["score_drift"]  # uniform reference scores vs the model's real ones


def test_model_hash_is_the_manifest_hash(trained):
    bundle, folder, _ = trained
    manifest = json.loads((folder / "manifest.json").read_text())
    assert model_hash(bundle) == manifest["model_sha256"]


def test_training_reference_in_the_manifest_gives_no_false_alarm(tmp_path):
    # What the lead stores at training time: training-row features, held-out scores.
    analysis, _ = train_analysis(seed=4)
    folder = save_bundle(tmp_path / "model", make_bundle(analysis))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reference_profile"] = training_reference(analysis)
    (folder / "manifest.json").write_text(json.dumps(manifest, allow_nan=False))
    same = monitor(load_bundle(folder), fresh(seed=5), conn=open_store(tmp_path / "s.db"),
                   reference=manifest_reference(folder))
    assert same.report["reference_source"] == "bundle"
    assert same.report["drifted_features"] == [] and not same.report["score_drift"]
    moved = fresh(seed=6)
    moved["CashbackAmount"] = moved["CashbackAmount"] * 1.5
    result = monitor(load_bundle(folder), moved, conn=open_store(tmp_path / "s.db"),
                     reference=manifest_reference(folder))
    assert "CashbackAmount" in result.report["drifted_features"]


def test_unusable_manifest_profile_is_ignored(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"format": "churn-radar-bundle", "reference_profile": {"format": "other"}}))
    assert manifest_reference(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{not json")
    assert manifest_reference(tmp_path) is None
    assert manifest_reference(tmp_path / "absent.zip") is None


def test_training_reference_reuses_the_transformed_rows_and_equals_a_fresh_transform():
    analysis, _ = train_analysis(seed=4)
    result = analysis.result
    rows = analysis.dataset.frame.iloc[result.rows]
    fresh_view = feature_view(result.preprocessor, rows)
    reused = feature_view(result.preprocessor, rows, result.X.iloc[result.rows])
    pd.testing.assert_frame_equal(fresh_view, reused)
    expected = reference_profile(fresh_view, scores=result.oof,
                                 categorical=tuple(result.preprocessor.categorical))
    assert training_reference(analysis) == expected


def test_fit_all_profiles_the_reference_while_it_explains_and_the_bundle_keeps_it():
    import dataclasses

    analysis, _ = train_analysis(seed=4)
    assert analysis.reference_profile is not None  # computed in fit_all's background thread
    again = dataclasses.replace(analysis, reference_profile=None)
    assert training_reference(again) == analysis.reference_profile
    assert make_bundle(analysis).reference_profile == analysis.reference_profile
    assert make_bundle(again).reference_profile == analysis.reference_profile  # computed then
