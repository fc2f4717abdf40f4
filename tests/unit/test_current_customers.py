"""Whom to call tomorrow: customers to act on, honest scores, a leaderboard, the shipped model."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churn_core.alerts import SortedScores, alert_view, best_profit_threshold, expected_profit
from churn_core.bundle import load_bundle, save_bundle
from churn_core.calibration import fit_calibration
from churn_core.linear import LinearModel, fit_linear
from churn_core.model import TrainConfig, predict_X
from churn_core.pipeline import check_frame, export_table, fit_all, make_bundle
from churn_core.score import score_frame
from churn_core.threshold import Economics, ThresholdChoice
from tests.conftest import ROOT

FAST = TrainConfig(cv_folds=3, search=False, n_estimators=150, side_models=False)


def _table(n: int = 1500, *, seed: int = 0, signal: float = 2.0, blank: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    plan = rng.choice(["basic", "plus", "pro"], size=n)
    logit = -1.0 + signal * x1 - 0.5 * signal * x2 + 0.4 * (plan == "basic")
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No").astype(object)
    churn[:blank] = None
    return pd.DataFrame({"customer": [f"K{i:05d}" for i in range(n)], "x1": x1, "x2": x2,
                         "plan": plan, "churn": churn})


@pytest.fixture(scope="module")
def trained():
    frame = _table(blank=100)
    checked = check_frame(frame)
    assert checked.usable
    return frame, checked, fit_all(checked.dataset, config=FAST, k=2)


def test_the_list_never_holds_a_customer_who_already_left(trained):
    frame, checked, analysis = trained
    table = export_table(analysis, 0.0)  # everybody at or above 0: the whole population
    gone = set(frame.loc[frame["churn"] == "Yes", "customer"])
    assert gone and not gone & set(table["customer"])
    # The population is exactly the rows labelled "No" plus the blank ones, once each.
    assert len(table) == int((frame["churn"] != "Yes").sum()) == table["customer"].nunique()
    assert "blank" in analysis.population.description


def test_every_labelled_row_has_an_out_of_fold_score_and_the_model_learns_from_all(trained):
    _, checked, analysis = trained
    r = analysis.result
    labelled = int(checked.dataset.y.notna().sum())
    assert r.rows.size == labelled == 1400
    assert np.isfinite(r.oof).all() and r.oof.size == labelled
    # A listed customer who is a training row carries its out-of-fold score.
    pos = analysis.population.rows
    np.testing.assert_allclose(analysis.population.scores, analysis.scores[pos])
    train_rows = np.isin(pos, r.rows)
    oof = pd.Series(r.oof, index=r.rows)
    np.testing.assert_allclose(analysis.population.scores[train_rows], oof.loc[pos[train_rows]])
    # The shipped model learnt from every labelled row: its in-sample fit differs from OOF.
    assert make_bundle(analysis).info["rows_labelled"] == labelled


def test_leaderboard_compares_four_families_on_the_same_folds():
    checked = check_frame(_table(seed=3))
    analysis = fit_all(checked.dataset, config=TrainConfig(cv_folds=3, search=False,
                                                           n_estimators=150), k=2)
    board = analysis.result.leaderboard
    assert set(board["model"]) == {"xgboost", "logistic", "random_forest", "mlp"}
    assert board["champion"].sum() == 1
    champion = board.loc[board["champion"], "model"].item()
    assert champion in {"xgboost", "logistic"}
    assert not board.loc[board["model"].isin(["random_forest", "mlp"]), "explainable"].any()
    # A linear truth: the logistic regression ties or wins, and ties go to the simpler model.
    assert champion == "logistic"
    bundle = make_bundle(analysis)
    assert bundle.champion == "logistic" and len(bundle.leaderboard) == 4


def test_noise_gives_chance_scores_and_a_list_no_better_than_random():
    rng = np.random.default_rng(11)
    n = 1200
    frame = pd.DataFrame({"id": np.arange(n), **{f"v{j}": rng.normal(size=n) for j in range(8)},
                          "segment_code": rng.choice(list("abcd"), size=n),
                          "churn": rng.choice(["Yes", "No"], size=n, p=[0.3, 0.7])})
    checked = check_frame(frame)
    analysis = fit_all(checked.dataset, config=FAST, k=2)
    auc = analysis.result.evaluation.roc_auc
    assert 0.42 < auc < 0.58, auc
    # In-sample scores of 1,200 noisy rows would rank their own labels far better than chance.
    y = checked.dataset.y.to_numpy()
    insample = predict_X(analysis.result.booster, analysis.X)
    assert roc_auc_score(y, insample) > auc + 0.05
    # The riskiest 20 % of the list churned no more often than everybody (out-of-fold).
    top = np.argsort(-analysis.result.oof)[: n // 5]
    assert abs(y[analysis.result.rows][top].mean() - y.mean()) < 0.08


def test_capacity_caps_the_list_and_the_manifest_records_the_method(trained, tmp_path):
    _, _, analysis = trained
    t = 0.05
    full = export_table(analysis, t)
    capped = export_table(analysis, t, capacity=40)
    assert len(full) > 40 and len(capped) == 40
    pd.testing.assert_frame_equal(capped, full.head(40))
    view = alert_view(SortedScores(analysis.population.scores), t, capacity=40)
    assert view.listed == 40 and view.flagged == len(full) and view.capped
    choice = ThresholdChoice(0.3, "Most profitable", {"expected_profit": 12.0})
    save_bundle(tmp_path / "b", make_bundle(analysis, threshold=choice, capacity=40))
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["threshold"]["method"] == "Most profitable"
    assert manifest["threshold"]["value"] == 0.3
    assert manifest["threshold"]["detail"]["capacity"] == 40
    assert {r["model"] for r in manifest["leaderboard"]} == {"xgboost", "logistic"}
    assert manifest["model"]["champion"] in {"xgboost", "logistic"}
    assert "used" in manifest["calibration"]


def test_expected_profit_uses_probabilities_and_respects_capacity():
    scores = SortedScores(np.array([0.9, 0.8, 0.5, 0.1]))
    econ = Economics(value_retained=100, offer_cost=10, success_rate=0.5, contact_cost=0)
    table = expected_profit(scores, econ)
    # contacting the two riskiest: (0.9 + 0.8) * 0.5 * 100 - 2 * 10 = 65
    row = table[table["threshold"] == 0.8].iloc[0]
    assert row["contacted"] == 2 and row["profit"] == pytest.approx(65.0)
    t, profit = best_profit_threshold(table)
    assert t == pytest.approx(0.5) and profit == pytest.approx(80.0)  # 2.2 * 50 - 30
    t, profit = best_profit_threshold(expected_profit(scores, Economics(
        value_retained=100, offer_cost=10, success_rate=0.5, contact_cost=0, capacity=1)))
    assert profit == pytest.approx(35.0)


def test_calibration_is_kept_only_when_it_lowers_out_of_fold_log_loss():
    rng = np.random.default_rng(0)
    n = 4000
    truth = rng.uniform(0.02, 0.6, n)
    y = (rng.random(n) < truth).astype(int)
    folds = rng.integers(0, 5, n)
    squashed = truth ** 3  # badly under-confident: calibration must help
    cal = fit_calibration(squashed, y, folds)
    assert cal.used and cal.log_loss_calibrated < cal.log_loss_raw
    assert np.corrcoef(cal.apply(squashed), truth)[0, 1] > 0.95
    assert not fit_calibration(truth, y, folds).used  # already calibrated: left alone


def test_linear_shap_matches_shap_linear_explainer():
    shap = pytest.importorskip("shap")
    frame = _table(600, seed=5)
    checked = check_frame(frame)
    from churn_core.features import fit_preprocessor, transform
    pre = fit_preprocessor(frame, checked.dataset.schema)
    X, _ = transform(pre, frame)
    model = fit_linear(X, checked.dataset.y.to_numpy())
    ours, base = model.contributions(X)
    from churn_core.linear import design_matrix
    D = design_matrix(model.spec, X)
    masker = shap.maskers.Independent(D, max_samples=len(D))
    explainer = shap.LinearExplainer((model.coef, model.intercept), masker)
    theirs = explainer.shap_values(D)
    owners = [f for f, _ in model.spec.columns]
    summed = np.stack([theirs[:, [j for j, o in enumerate(owners) if o == f]].sum(axis=1)
                       for f in X.columns], axis=1)
    np.testing.assert_allclose(ours, summed, atol=1e-4)
    assert base == pytest.approx(float(explainer.expected_value), abs=1e-6)
    np.testing.assert_allclose(ours.sum(axis=1) + base, model.logit(X), atol=1e-4)
    again = LinearModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_allclose(again.predict(X), model.predict(X))


def test_logistic_champion_bundle_scores_like_the_analysis(tmp_path):
    frame = _table(seed=3)
    checked = check_frame(frame)
    analysis = fit_all(checked.dataset, config=FAST, k=2)
    assert analysis.result.champion == "logistic"
    save_bundle(tmp_path / "m", make_bundle(analysis))
    loaded = load_bundle(tmp_path / "m")
    fresh = frame.drop(columns=["churn"])
    scored = score_frame(loaded, fresh).table
    np.testing.assert_allclose(scored["churn_probability"].to_numpy(),
                               np.round(analysis.result.predict(analysis.X), 4), atol=1e-9)
    assert scored["reason_1"].str.len().gt(0).any()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churn_core", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def test_cli_train_writes_the_list_of_current_customers(tmp_path):
    frame = _table(blank=50)
    frame.to_csv(tmp_path / "t.csv", index=False)
    r = _cli("train", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"), "--cv", "3",
             "--no-search")
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(tmp_path / "m" / "at_risk.csv", encoding="utf-8-sig")
    assert list(out.columns) == ["customer", "churn_probability", "risk_tier",
                                 "segment", "reason_1", "reason_2", "reason_3",
                                 "suggested_action", "customer_value", "value_at_risk"]
    assert ((out["value_at_risk"] - out["churn_probability"] * 200).abs() <= 0.011).all()
    assert len(out) and out["customer"].is_unique
    assert not set(out["customer"]) & set(frame.loc[frame["churn"] == "Yes", "customer"])
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert out["churn_probability"].min() >= manifest["threshold"]["value"] - 1e-4
    assert "leaderboard" in r.stdout and "<- ships" in r.stdout
    scored = _cli("score", str(tmp_path / "m"), str(tmp_path / "t.csv"), "--out",
                  str(tmp_path / "s.csv"), "--at-risk-only")
    assert scored.returncode == 0, scored.stderr
    only = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig")
    assert "at_risk" not in only.columns and len(only)  # no always-true column
    assert f"{len(only):,} at risk" in scored.stdout
    bad = _cli("train", str(tmp_path / "t.csv"), "--out", str(tmp_path / "n"), "--cv", "1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_scores_carry_customer_value_and_value_at_risk(trained):
    from churn_core.problems import ChurnDataError

    frame, _, analysis = trained
    bundle = make_bundle(analysis)
    fresh = frame.drop(columns=["churn"]).assign(spend=np.arange(len(frame)) % 7 * 10.0)
    table = score_frame(bundle, fresh, value="spend").table
    np.testing.assert_allclose(table["customer_value"], fresh["spend"])
    assert (table["value_at_risk"] - table["churn_probability"] * fresh["spend"]).abs().max() \
        < 0.01
    constant = score_frame(bundle, fresh, value=50.0).table
    assert (constant["customer_value"] == 50.0).all()
    with pytest.raises(ChurnDataError) as exc:
        score_frame(bundle, fresh, value="x1")  # negative values are no customer value
    assert exc.value.problems[0].code == "VALUE_BAD_COLUMN"


def test_a_build_scoring_table_values_each_customer_by_its_customer_value(trained):
    # an event-log build's scoring table carries customer_value (not a feature): score
    # uses it when no value is given, and a value given by the user still wins
    frame, _, analysis = trained
    bundle = make_bundle(analysis)
    worth = np.arange(len(frame)) % 5 * 25.0
    fresh = frame.drop(columns=["churn"]).assign(customer_value=worth)
    table = score_frame(bundle, fresh).table
    np.testing.assert_allclose(table["customer_value"], worth)
    assert (table["value_at_risk"] - table["churn_probability"] * worth).abs().max() < 0.01
    assert (score_frame(bundle, fresh, value=50.0).table["customer_value"] == 50.0).all()
    plain = score_frame(bundle, frame.drop(columns=["churn"])).table
    assert plain["customer_value"].nunique() == 1  # no column: one value for everyone


def test_a_budget_caps_the_contacts_like_a_capacity():
    econ = Economics(value_retained=100, offer_cost=8, success_rate=0.5, contact_cost=2,
                     budget=25)
    assert econ.contact_limit == 2  # 25 // (8 + 2)
    assert Economics(capacity=1, budget=25, offer_cost=8, contact_cost=2).contact_limit == 1
    assert Economics().contact_limit is None
    scores = SortedScores(np.array([0.9, 0.8, 0.5, 0.1]))
    table = expected_profit(scores, econ)
    assert table["contacted"].max() == 2
    t, profit = best_profit_threshold(table)
    assert profit == pytest.approx((0.9 + 0.8) * 50 - 2 * 10)


def test_cli_score_explains_the_at_risk_rows_unless_asked_for_all(tmp_path):
    frame = _table(blank=50)
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert _cli("train", str(tmp_path / "t.csv"), "--out", str(tmp_path / "m"), "--cv", "2",
                "--no-search").returncode == 0
    fresh = tmp_path / "fresh.csv"
    frame.drop(columns=["churn"]).to_csv(fresh, index=False)
    assert _cli("score", str(tmp_path / "m"), str(fresh), "--out",
                str(tmp_path / "a.csv")).returncode == 0
    quick = pd.read_csv(tmp_path / "a.csv", encoding="utf-8-sig", keep_default_na=False)
    assert (quick.loc[quick["at_risk"], "reason_1"] != "").any()
    assert (quick.loc[~quick["at_risk"], "reason_1"] == "").all()
    assert _cli("score", str(tmp_path / "m"), str(fresh), "--out", str(tmp_path / "b.csv"),
                "--explain", "all").returncode == 0
    full = pd.read_csv(tmp_path / "b.csv", encoding="utf-8-sig", keep_default_na=False)
    assert (full.loc[~full["at_risk"], "reason_1"] != "").any()
    pd.testing.assert_series_equal(quick["churn_probability"], full["churn_probability"])


def test_every_listed_customer_has_the_reasons_a_full_explanation_gives(monkeypatch):
    """Above EXPLAIN_ALL_MAX_ROWS training explains the riskiest tenth and the at-risk rows
    at the default threshold; a list that reaches further computes the rest on demand."""
    import churn_core.fitting as fitting
    from churn_core.explain import explain

    monkeypatch.setattr(fitting, "EXPLAIN_ALL_MAX_ROWS", 50)
    frame = _table(900, seed=3)
    analysis = fit_all(check_frame(frame).dataset, config=FAST, k=2)
    pop, result = analysis.population, analysis.result
    explained = analysis.explanation.reasons.index.to_numpy()
    at_default = np.flatnonzero(pop.scores >= analysis.threshold.value)
    assert len(explained) < len(pop)  # "top" mode
    assert set(at_default) <= set(explained)
    everyone = explain(result.booster, result.preprocessor, pop.X, device="cpu",
                       labels=analysis.feature_labels, X=pop.X, linear=result.linear)
    table = export_table(analysis, 0.0, at_risk_only=True)  # every customer to act on
    assert len(table) == len(pop)
    ids = pd.Series(np.arange(len(pop)), index=pop.ids.astype(str))
    order = ids.loc[table[table.columns[0]].astype(str)].to_numpy()
    expected = everyone.reasons.iloc[order].reset_index(drop=True)
    pd.testing.assert_frame_equal(table[["reason_1", "reason_2", "reason_3"]].astype(str),
                                  expected.astype(str), check_names=False)
    assert (table["reason_1"] != "").mean() > 0.5


def test_side_models_are_judged_on_the_first_folds_only():
    from churn_core.crossfit import SIDE_FOLDS, cross_fit

    dataset = check_frame(_table(600, seed=5)).dataset
    rows = np.flatnonzero(dataset.y.notna().to_numpy())

    def fit_xgb(X_fit, y_fit, X_watch, y_watch, X_test, X_full, y_full):
        return np.full(len(X_test), float(np.mean(y_fit))) + X_test.iloc[:, 0].to_numpy(), 5

    cf = cross_fit(dataset, rows, n_folds=4, seed=1, fit_xgb=fit_xgb, side_models=True)
    folds_of = {c.name: len(c.fold_auc) for c in cf.contenders}
    assert folds_of == {"xgboost": 4, "logistic": 4, "random_forest": SIDE_FOLDS,
                        "mlp": SIDE_FOLDS}
    forest = cf.scores_of("random_forest")
    assert np.isfinite(forest[cf.folds < SIDE_FOLDS]).all()
    assert np.isnan(forest[cf.folds >= SIDE_FOLDS]).all()
