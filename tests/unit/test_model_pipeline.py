"""Training, explanation, bundles, scoring and the command line, end to end on small data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from churn_core.bundle import load_bundle, save_bundle
from churn_core.evaluate import evaluate, quality_verdict
from churn_core.explain import (
    global_importance,
    humanize,
    reason_text,
    row_waterfall,
    top_reasons,
)
from churn_core.features import Preprocessor
from churn_core.model import TrainConfig
from churn_core.pipeline import check_frame, export_table, fit_all, load_and_check, make_bundle
from churn_core.problems import ChurnDataError
from churn_core.score import score_frame
from churn_core.splits import make_splits
from tests.conftest import ROOT

FAST = TrainConfig(cv_folds=2, search=False, n_estimators=200, side_models=False)


@pytest.fixture(scope="module")
def sample_analysis(sample_csv):
    checked = load_and_check(sample_csv)
    assert checked.usable
    return checked, fit_all(checked.dataset, config=FAST, k=3)


def test_splits_keep_groups_on_one_side():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 300, 2000)
    y = (rng.random(2000) < 0.2).astype(float)
    y[:50] = np.nan
    s = make_splits(y, groups, seed=1)
    parts = [set(groups[s.train]), set(groups[s.valid]), set(groups[s.test])]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    used = np.concatenate([s.train, s.valid, s.test])
    assert len(used) == len(set(used)) == 1950
    assert 0.1 < len(s.test) / 1950 < 0.3


def test_training_reports_model_baseline_and_cv(sample_analysis):
    _, analysis = sample_analysis
    r = analysis.result
    assert r.device == "cpu"
    assert 0.75 < r.evaluation.roc_auc <= 1.0
    assert 0.6 < r.baseline_auc < 1.0
    assert np.isfinite(r.cv_auc)
    assert len(r.evaluation.roc) <= 2000 and len(r.evaluation.lift) == 10
    assert 0 < analysis.threshold.value < 1
    grade, sentence = quality_verdict(r.evaluation.roc_auc, r.evaluation.top_decile_lift)
    assert grade in {"Excellent", "Good", "Fair", "Poor"} and "%" in sentence


def test_training_is_reproducible_and_order_free(sample_csv):
    frame = load_and_check(sample_csv).dataset.frame
    a = check_frame(frame)
    b = check_frame(frame.sample(frac=1.0, random_state=3).reset_index(drop=True))
    cfg = TrainConfig(cv_folds=2, search=False, n_estimators=60, side_models=False)
    ra = fit_all(a.dataset, config=cfg, k=2)
    rb = fit_all(b.dataset, config=cfg, k=2)
    pa = pd.Series(ra.scores, index=a.dataset.ids.to_numpy()).sort_index()
    pb = pd.Series(rb.scores, index=b.dataset.ids.to_numpy()).sort_index()
    np.testing.assert_allclose(pa.to_numpy(), pb.to_numpy(), atol=1e-6)


def test_reasons_are_plain_words_for_every_row(sample_analysis):
    _, analysis = sample_analysis
    reasons = analysis.explanation.reasons
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    assert reasons.notna().all().all()
    top = reasons.loc[np.argsort(-analysis.population.scores)[:20], "reason_1"]
    assert top.str.endswith("(raises risk)").all()
    imp = global_importance(analysis.explanation)
    assert imp["share"].sum() == pytest.approx(1.0)
    wf = row_waterfall(analysis.explanation, analysis.explanation.contributions.index[0],
                       analysis.result.preprocessor)
    assert {"feature", "contribution", "text"} <= set(wf.columns)


def test_humanize():
    assert humanize("DaySinceLastOrder") == "Day since last order"
    assert humanize("order_count_30d") == "Order count 30d"


def test_reasons_for_many_numeric_values_match_reason_text():
    # top_reasons words each distinct value once per feature; it must say what reason_text says.
    pre = Preprocessor(numeric=("spend_30d", "visits"), categorical=(), datetime=(),
                       quantiles={"spend_30d": (0.0, 1.5, 3.0), "visits": (np.nan,) * 3},
                       feature_names=("spend_30d", "visits"),
                       # missing spend is a reason (said in words); test_explain_points
                       # covers the features where it is not
                       informative_missing=("spend_30d",))
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 100, 300), rng.integers(-5, 5, 50), [1.5, 1e13, -0.0]])
    X = pd.DataFrame({"spend_30d": values, "visits": values[::-1].copy()})
    X.iloc[::7, 0] = np.nan
    contributions = rng.normal(size=(len(X), 2))
    reasons = top_reasons(contributions, X, pre, top=2)
    for i in range(len(X)):
        order = np.argsort(-contributions[i])
        for slot, j in enumerate(order):
            col = X.columns[j]
            expected = (reason_text(col, X.iloc[i, j], 1.0, pre)
                        if contributions[i, j] > 0 else "")
            assert reasons.iloc[i, slot] == expected


def test_shap_matches_tree_explainer(sample_analysis):
    shap = pytest.importorskip("shap")
    _, analysis = sample_analysis
    X = analysis.explanation.values.iloc[:200]
    from churn_core.model import _safe

    ours = analysis.explanation.contributions.iloc[:200].to_numpy()
    theirs = shap.TreeExplainer(analysis.result.booster).shap_values(_safe(X))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_bundle_round_trip_and_reordered_columns_are_bit_identical(sample_analysis, tmp_path):
    checked, analysis = sample_analysis
    bundle = make_bundle(analysis)
    save_bundle(tmp_path / "m", bundle)
    loaded = load_bundle(tmp_path / "m")
    frame = checked.dataset.frame
    a = score_frame(bundle, frame).table["churn_probability"].to_numpy()
    b = score_frame(loaded, frame).table["churn_probability"].to_numpy()
    shuffled = frame[list(reversed(frame.columns))]
    c = score_frame(loaded, shuffled).table["churn_probability"].to_numpy()
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert loaded.threshold["value"] == pytest.approx(analysis.threshold.value)


def test_scoring_reports_missing_renamed_and_extra_columns(sample_analysis):
    checked, analysis = sample_analysis
    bundle = make_bundle(analysis)
    frame = checked.dataset.frame.rename(columns={"Tenure": "tenure "}).assign(extra=1)
    result = score_frame(bundle, frame)
    codes = {p.code for p in result.problems}
    assert {"RENAMED_COLUMN", "EXTRA_COLUMNS"} <= codes
    with pytest.raises(ChurnDataError) as exc:
        score_frame(bundle, frame.drop(columns=["tenure ", "Complain"]))
    missing = {p.column for p in exc.value.problems if p.code == "MISSING_COLUMNS"}
    assert missing == {"Tenure", "Complain"}


def test_top_n_flags_exactly_n(sample_analysis):
    checked, analysis = sample_analysis
    table = score_frame(make_bundle(analysis), checked.dataset.frame, top_n=37).table
    assert int(table["at_risk"].sum()) == 37


def test_export_table_lists_flagged_customers(sample_analysis):
    _, analysis = sample_analysis
    t = analysis.threshold.value
    table = export_table(analysis, t)
    assert len(table) == int((analysis.population.scores >= t).sum())
    assert list(table.columns)[:4] == ["CustomerID", "churn_probability", "risk_tier", "segment"]
    assert "at_risk" not in table.columns  # always true in an at-risk-only list
    assert "at_risk" in export_table(analysis, t, at_risk_only=False).columns
    assert (table["suggested_action"] != "").all()
    # The first rows alone (what the Alerts page shows) are the head of the whole list.
    top = export_table(analysis, 0.0, limit=25)
    pd.testing.assert_frame_equal(top, export_table(analysis, 0.0).head(25))


def test_evaluate_reports_roc_auc_and_size():
    y = np.array([0, 0, 1, 1, 1, 0])
    s = np.array([0.1, 0.6, 0.7, 0.4, 0.9, 0.2])
    e = evaluate(y, s)
    assert 0 < e.roc_auc < 1 and e.n == 6


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churn_core", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def test_cli_check_train_score(sample_csv, tmp_path):
    ok = _cli("check", str(sample_csv))
    assert ok.returncode == 0, ok.stderr
    assert "usable: yes" in ok.stdout
    tr = _cli("train", str(sample_csv), "--out", str(tmp_path / "b"), "--cv", "2", "--no-search")
    assert tr.returncode == 0, tr.stderr
    for word in ("labelled rows", "device", "leaderboard", "Logistic regression",
                 "out-of-fold ROC-AUC", "PR-AUC", "calibration", "threshold", "at-risk list"):
        assert word in tr.stdout
    sc = _cli("score", str(tmp_path / "b"), str(sample_csv), "--out", str(tmp_path / "s.csv"))
    assert sc.returncode == 0, sc.stderr
    out = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig", dtype={"CustomerID": str})
    raw = pd.read_csv(sample_csv, dtype={"CustomerID": str})
    # Customers whose label says churned are left out, and the CLI says so.
    assert len(out) == int((raw["Churn"] != "Yes").sum())
    assert "ALREADY_CHURNED" in sc.stderr
    assert not set(out["CustomerID"]) & set(raw.loc[raw["Churn"] == "Yes", "CustomerID"])
    assert list(out.columns) == ["CustomerID", "churn_probability", "risk_tier", "at_risk",
                                 "segment", "reason_1", "reason_2", "reason_3",
                                 "suggested_action", "customer_value", "value_at_risk"]


def test_cli_user_errors_exit_2_without_traceback(tmp_path):
    one_class = tmp_path / "one.csv"
    one_class.write_text("id,x,churn\n" + "".join(f"{i},{i},No\n" for i in range(60)))
    for args in (("check", str(one_class)), ("check", str(tmp_path / "absent.csv")),
                 ("score", str(tmp_path), str(one_class), "--out", str(tmp_path / "o.csv"))):
        r = _cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr


def test_real_ecommerce_quality_bar(ecom_xlsx):
    """Default settings: grouped CV ROC-AUC of at least 0.98 and well above the baseline."""
    checked = load_and_check(ecom_xlsx)
    assert checked.usable
    assert not checked.report.leakage["action"].isin(["review", "excluded"]).any()
    analysis = fit_all(checked.dataset, config=TrainConfig(), k=3)
    m = analysis.metrics()
    assert m["cv_roc_auc"] >= 0.98
    assert m["cv_roc_auc"] > m["baseline_roc_auc"] + 0.05
