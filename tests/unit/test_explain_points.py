"""Explanations in percentage points: they add up to the calibrated probability."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from churn_core.calibration import Calibration
from churn_core.explain import missing_text, top_reasons
from churn_core.explain_points import (
    informative_missing,
    margin_to_probability,
    point_importance,
    row_points,
    to_points,
)
from churn_core.features import Preprocessor
from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check

CAL = Calibration(a=0.8, b=-0.3, used=True)


def test_points_sum_to_calibrated_probability_minus_base():
    rng = np.random.default_rng(0)
    c = pd.DataFrame(rng.normal(0, 0.7, size=(500, 6)), columns=list("abcdef"))
    c.iloc[0] = 0.0  # contributions that cancel exactly
    c.iloc[1] = [1.0, -1.0, 0.5, -0.5, 0.0, 0.0]
    for cal in (CAL, Calibration()):
        pts = to_points(c, -1.2, cal)
        p = margin_to_probability(-1.2 + c.sum(axis=1).to_numpy(), cal)
        assert np.allclose(pts.probability, p)
        assert pts.base_probability == pytest.approx(float(margin_to_probability(-1.2, cal)))
        assert np.allclose(pts.points.sum(axis=1) / 100, p - pts.base_probability, atol=1e-9)
        # the map is increasing: a contribution keeps its sign
        nz = c.to_numpy() != 0
        assert (np.sign(pts.points.to_numpy()[nz]) == np.sign(c.to_numpy()[nz])).all()
        assert np.isfinite(pts.points.to_numpy()).all()


def test_calibration_changes_the_points():
    c = pd.DataFrame({"a": [2.0], "b": [0.5]})
    assert not np.allclose(to_points(c, 0.0, CAL).points, to_points(c, 0.0).points)


@pytest.fixture(scope="module")
def analysis(sample_csv):
    checked = load_and_check(sample_csv)
    config = TrainConfig(cv_folds=2, search=False, n_estimators=60, side_models=False)
    return fit_all(checked.dataset, config=config, k=3)


def test_points_of_a_trained_model_add_up_to_its_scores(analysis):
    expl = analysis.explanation
    pts = to_points(expl.contributions, expl.base_value, analysis.result.calibration)
    rows = expl.contributions.index.to_numpy()
    # the shipped model's probability (the list shows out-of-fold scores for labelled rows)
    shipped = analysis.result.predict(analysis.population.X.iloc[rows])
    assert np.allclose(pts.probability.to_numpy(), shipped, atol=1e-4)
    assert np.allclose(pts.points.sum(axis=1).to_numpy() / 100,
                       shipped - pts.base_probability, atol=1e-4)
    imp = point_importance(pts, expl)
    assert list(imp.columns)[:3] == ["feature", "label", "mean_abs_points"]
    assert imp["mean_abs_points"].is_monotonic_decreasing
    assert "Day since last order" in set(imp["label"])  # human labels, not column names
    row = rows[0]
    wf = row_points(pts, expl, row, analysis.result.preprocessor, max_features=5)
    assert wf["points"].sum() / 100 == pytest.approx(shipped[0] - pts.base_probability,
                                                     abs=1e-4)
    assert wf["label"].iloc[-1] == f"{expl.contributions.shape[1] - 5} other features"


def test_missing_in_words_from_the_feature_name():
    assert missing_text("orders_90d") == "No orders in the last 90 days"
    assert missing_text("DaySinceLastOrder") == "No order on record"
    assert missing_text("days_since_last_purchase") == "No purchase on record"
    assert missing_text("spend_last_30_days") == "No spend in the last 30 days"
    assert missing_text("avg_basket_value") == "No basket value on record"


def _frame(informative: bool, n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    y = (rng.random(n) < 0.3).astype(int)
    x = rng.normal(size=n)
    gone = rng.random(n) < (np.where(y == 1, 0.4, 0.05) if informative else 0.15)
    return pd.DataFrame({"orders_90d": np.where(gone, np.nan, x), "z": rng.normal(size=n)}), y


def test_missingness_is_a_reason_only_when_it_goes_with_churn():
    frame, y = _frame(True)
    assert informative_missing(frame, y, ["orders_90d", "z"]) == ("orders_90d",)
    frame, y = _frame(False)
    assert informative_missing(frame, y, ["orders_90d", "z"]) == ()


def test_reasons_say_missing_in_words_or_not_at_all():
    X = pd.DataFrame({"orders_90d": [np.nan, 3.0], "z": [1.0, 1.0]})
    contribs = np.array([[0.9, 0.1], [0.9, 0.1]], dtype=np.float32)
    pre = Preprocessor(numeric=("orders_90d", "z"), categorical=(), datetime=(),
                       feature_names=("orders_90d", "z"))
    silent = top_reasons(contribs, X, pre)
    assert "missing" not in silent.iloc[0]["reason_1"]
    assert silent.iloc[0]["reason_1"].startswith("Z is 1")  # the missing value is skipped
    assert silent.iloc[0]["reason_2"] == ""
    told = top_reasons(contribs, X, dataclasses.replace(pre, informative_missing=("orders_90d",)))
    assert told.iloc[0]["reason_1"] == "No orders in the last 90 days (raises risk)"
    assert told.iloc[1]["reason_1"].startswith("Orders 90d is 3")


def test_informative_missing_is_kept_in_the_preprocessor_round_trip():
    pre = Preprocessor(numeric=("orders_90d", "z"), categorical=(), datetime=(),
                       feature_names=("orders_90d", "z"), informative_missing=("orders_90d",))
    assert Preprocessor.from_dict(pre.to_dict()).informative_missing == ("orders_90d",)
    old = {k: v for k, v in pre.to_dict().items() if k != "informative_missing"}
    assert Preprocessor.from_dict(old).informative_missing == ()  # bundles saved before


def test_training_records_which_missing_values_are_informative(analysis):
    pre = analysis.result.preprocessor
    ds = analysis.dataset
    rows = analysis.result.rows
    y = ds.y.to_numpy(dtype=float)[rows]
    cols = [*pre.numeric, *pre.categorical, *pre.datetime]
    assert pre.informative_missing == informative_missing(ds.frame.iloc[rows], y, cols)


def test_missing_in_words_still_drives_a_missing_rule():
    from churn_core.actions import ActionRule, ActionRules, default_rules, suggest_action
    from churn_core.actions.rules import parse_reason

    reason = "No orders in the last 90 days (raises risk)"
    assert parse_reason(reason) == ("orders", "missing")
    assert parse_reason("No order on record (raises risk)") == ("order", "missing")
    rules = ActionRules((ActionRule(("order",), "Send a first-order offer", "missing"),),
                        default_rules().defaults)
    assert suggest_action([reason], "high", rules) == "Send a first-order offer"
