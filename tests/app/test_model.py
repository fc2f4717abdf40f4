"""Model page: training with progress, metrics and verdict."""

from __future__ import annotations

from tests.app.conftest import assert_clean
from ui.state import StateKeys


def test_model_needs_data(page):
    at = page("model.py")
    assert_clean(at)
    assert at.info


def test_model_shows_results_of_a_trained_analysis(page, sample_check, sample_analysis):
    at = page("model.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    labels = {m.label for m in at.metric}
    assert {"ROC-AUC (out of fold)", "Logistic regression", "Ships"} <= labels
    # The leaderboard: every contender on the same folds, one of them shipping.
    board = at.dataframe[0].value
    assert set(board["name"]) >= {"XGBoost (boosted trees)", "Logistic regression"}
    assert board["champion"].sum() == 1
    assert any("Model quality" in s.value for s in [*at.success, *at.warning, *at.error])


def test_train_on_small_data(page, sample_check, monkeypatch):
    from churn_core import pipeline

    real = pipeline.fit_all

    def quick(dataset, *, config=None, **kw):  # the page's config, made tiny for the test
        from dataclasses import replace

        kw["k"] = 2  # no choice was made on the Segments page: the flow passes k=None
        return real(dataset, config=replace(config, n_estimators=50, cv_folds=2), **kw)

    monkeypatch.setattr(pipeline, "fit_all", quick)
    at = page("model.py", check=sample_check)
    at.checkbox(key=StateKeys.W_QUICK).check()
    next(b for b in at.button if b.label == "Train the model").click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.ANALYSIS] is not None
    assert at.session_state[StateKeys.TRAIN_LOG]
    assert any(m.label == "ROC-AUC (out of fold)" for m in at.metric)
