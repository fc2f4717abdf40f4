"""Segments page: works before training (the table on its own), and after (risk tiers)."""

from __future__ import annotations

import re

from tests.app.conftest import assert_clean
from ui.flows.segments import SegmentChoice
from ui.state import StateKeys

K = StateKeys
WORDS = re.compile(r"^[A-Z][a-z\- ,()]+$")


def _table(at, column="action"):
    """The page's table holding ``column`` (the segments table by default)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_segments_before_any_model(page, sample_check):
    at = page("segments.py", check=sample_check)
    assert_clean(at)
    view = at.session_state[K.SEGMENTS]
    assert not view.trained and 3 <= view.report.model.k <= 8
    table = _table(at)
    assert {"name", "size", "churn_rate", "drivers", "action"} <= set(table.columns)
    assert "high" not in table.columns  # risk tiers come with a model
    assert all(WORDS.match(n) for n in table["name"]), list(table["name"])
    assert table["name"].is_unique and table["size"].sum() == len(sample_check.dataset.frame)
    assert any("Train a model" in i.value for i in at.info)
    assert not any("customers" in d.value.columns for d in at.dataframe)  # no tier view
    # the feature picker defaults to the behaviour columns
    assert set(at.multiselect(key=K.W_SEGMENT_FEATURES).value) == set(view.default)


def test_user_sets_k_and_columns_before_training(page, sample_check):
    at = page("segments.py", check=sample_check)
    at.selectbox(key=K.W_SEGMENT_K).set_value(4)
    at.multiselect(key=K.W_SEGMENT_FEATURES).set_value(["Tenure", "CashbackAmount"])
    at.button[0].click().run()
    assert_clean(at)
    assert at.session_state[K.SEGMENT_CHOICE] == SegmentChoice(("Tenure", "CashbackAmount"), 4)
    model = at.session_state[K.SEGMENTS].report.model
    assert model.k == 4 and model.features == ("Tenure", "CashbackAmount")
    assert len(_table(at)) == 4


def test_segments_after_training_show_risk_tiers(page, sample_check, sample_analysis):
    at = page("segments.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    view = at.session_state[K.SEGMENTS]
    assert view.trained and view.report.drivers_source == "model"
    table = _table(at)
    assert {"high", "medium", "low"} <= set(table.columns)
    tiers = _table(at, "customers")
    assert tiers["customers"].sum() == len(sample_analysis.population)
    assert (tiers[["high", "medium", "low"]].sum(axis=1) == tiers["customers"]).all()
    assert len(table) == sample_analysis.segments.k


def test_resegment_a_trained_model(page, sample_check, sample_analysis):
    at = page("segments.py", check=sample_check, analysis=sample_analysis)
    at.selectbox(key=K.W_SEGMENT_K).set_value(5)
    at.button[0].click().run()
    assert_clean(at)
    assert at.session_state[K.ANALYSIS].segments.k == 5
    assert len(_table(at)) == 5


def test_impossible_request_is_a_message(page, sample_check):
    at = page("segments.py", check=sample_check)
    at.multiselect(key=K.W_SEGMENT_FEATURES).set_value(["Complain"])
    at.selectbox(key=K.W_SEGMENT_K).set_value(8)
    at.button[0].click().run()
    assert_clean(at)
    problems = at.session_state[K.SEGMENT_PROBLEMS]
    assert problems and problems[0].code.startswith("SEGMENTS_")
    assert at.session_state[K.SEGMENTS] is not None  # the segments that worked stay


def test_training_uses_the_columns_chosen_on_the_segments_page(page, sample_check, monkeypatch):
    from dataclasses import replace

    from churn_core import pipeline

    real, seen = pipeline.fit_all, {}

    def quick(dataset, *, config=None, **kw):
        seen.update(kw)
        return real(dataset, config=replace(config, n_estimators=50, cv_folds=2), **kw)

    monkeypatch.setattr(pipeline, "fit_all", quick)
    at = page("model.py", check=sample_check, run=False)
    at.session_state[K.SEGMENT_CHOICE] = SegmentChoice(("Tenure", "OrderCount"), 3)
    at.run()
    at.checkbox(key=K.W_QUICK).check()
    next(b for b in at.button if b.label == "Train the model").click().run()
    assert_clean(at)
    assert seen["segment_features"] == ("Tenure", "OrderCount") and seen["k"] == 3
    assert at.session_state[K.ANALYSIS].segments.features == ("Tenure", "OrderCount")


def test_a_new_table_drops_the_segments_and_the_choice(page, sample_check):
    at = page("segments.py", check=sample_check)
    at.selectbox(key=K.W_SEGMENT_K).set_value(4)
    at.button[0].click().run()
    assert at.session_state[K.SEGMENTS] is not None
    assert at.session_state[K.SEGMENT_CHOICE].k == 4
    at.switch_page("pages/data.py").run()
    next(b for b in at.button if b.label == "Use the sample").click().run()
    assert_clean(at)
    assert at.session_state[K.SEGMENTS] is None and at.session_state[K.SEGMENT_CHOICE] is None
    assert K.W_SEGMENT_K not in at.session_state
