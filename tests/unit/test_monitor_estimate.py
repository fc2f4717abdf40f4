"""Performance without labels: expected ROC-AUC, precision and recall from probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from churn_core.monitor.estimate import (
    Performance,
    estimate_performance,
    expected_roc_auc,
    realised_performance,
)

BETA, INTERCEPT = np.array([1.2, -0.8, 0.5]), -1.5


def draw(rng, n, mean, sd):
    X = rng.normal(mean, sd, (n, 3))
    p = 1 / (1 + np.exp(-(X @ BETA + INTERCEPT)))
    return X, (rng.random(n) < p).astype(float)


def test_covariate_shift_median_gap_within_two_hundredths():
    # A calibrated model (well-specified logistic regression); the features' means and
    # spreads move, how churn depends on them does not: the setting CBPE is built for.
    rng = np.random.default_rng(0)
    X, y = draw(rng, 20_000, 0.0, 1.0)
    model = LogisticRegression().fit(X, y)
    gaps, inside = [], 0
    for _ in range(20):
        Xs, ys = draw(rng, 5_000, rng.normal(0, 0.7, 3), rng.uniform(0.6, 1.5, 3))
        p = model.predict_proba(Xs)[:, 1]
        est, real = estimate_performance(p, 0.5), realised_performance(ys, p, 0.5)
        gaps.append(abs(est.roc_auc - real.roc_auc))
        inside += est.roc_auc_low <= real.roc_auc <= est.roc_auc_high
    assert np.median(gaps) <= 0.02, gaps
    assert inside >= 15  # the 95 % interval covers the realised figure in most runs


def test_expected_auc_equals_the_mean_over_label_draws():
    rng = np.random.default_rng(1)
    p = np.round(rng.random(300), 2)  # ties included
    labels = rng.random((1_500, p.size)) < p
    mean = np.mean([roc_auc_score(y, p) for y in labels if 0 < y.sum() < p.size])
    assert expected_roc_auc(p) == pytest.approx(mean, abs=0.003)


def test_precision_and_recall_at_threshold():
    p = np.array([0.9, 0.8, 0.3, 0.1])
    est = estimate_performance(p, 0.5)
    assert est.precision == pytest.approx(0.85)
    assert est.recall == pytest.approx(1.7 / 2.1)
    assert est.churn_rate == pytest.approx(0.525)
    real = realised_performance(np.array([1, 0, 1, np.nan]), p, 0.5)
    assert real.rows == 3 and real.precision == 0.5 and real.recall == 0.5
    assert real.roc_auc == pytest.approx(0.5)


def test_round_trip_and_undefined_figures():
    est = estimate_performance(np.array([0.1, 0.2]), 0.5)
    assert np.isnan(est.precision)  # nobody flagged
    d = est.to_dict()
    assert d["precision"] is None
    assert Performance.from_dict(d).roc_auc == est.roc_auc
    one_class = realised_performance(np.array([0.0, 0.0]), np.array([0.3, 0.6]), 0.5)
    assert np.isnan(one_class.roc_auc)
