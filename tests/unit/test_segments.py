"""Segments: planted clusters are recovered, models round-trip through JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from churn_core.segments import (
    SegmentModel,
    assign_segments,
    fit_segments,
    projection,
    segment_profile,
    segment_summary,
)


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    truth = np.repeat([0, 1, 2], 400)
    centres = np.array([[0, 0, 0], [6, 0, 3], [0, 6, -3]], dtype=float)
    values = centres[truth] + rng.normal(0, 1, (truth.size, 3))
    X = pd.DataFrame(values, columns=["recency", "orders", "cashback"])
    X.loc[rng.random(truth.size) < 0.03, "orders"] = np.nan
    X["noise"] = rng.normal(0, 1, truth.size)
    X["device"] = pd.Categorical(rng.choice(["Mobile", "Computer"], truth.size))
    return X, truth


@pytest.fixture(scope="module")
def model(planted) -> SegmentModel:
    X, _ = planted
    return fit_segments(X, k_range=range(2, 6), sample=1000, seed=1)


def test_recovers_planted_clusters(planted, model):
    X, truth = planted
    assert model.k == 3
    assert set(model.silhouette["k"]) == {2, 3, 4, 5}
    labels = assign_segments(model, X)
    assert adjusted_rand_score(truth, labels) > 0.9


def test_names_are_unique_and_descriptive(model):
    assert len(set(model.names)) == model.k
    assert any("recency" in n for n in model.names)
    assert all(n[0].isupper() for n in model.names)


def test_json_round_trip(planted, model):
    X, _ = planted
    again = SegmentModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.names == model.names and again.levels == model.levels
    assert np.array_equal(assign_segments(again, X), assign_segments(model, X))
    a = projection(model, X, assign_segments(model, X))
    b = projection(again, X, assign_segments(again, X))
    assert np.allclose(a[["x", "y"]], b[["x", "y"]])


def test_summary_profile_and_projection(planted, model):
    X, truth = planted
    labels = assign_segments(model, X)
    y = pd.Series(np.where(truth == 1, 1.0, 0.0))
    y.iloc[:10] = np.nan
    summary = segment_summary(model, X, labels, y)
    assert summary["size"].sum() == len(X)
    assert summary["share"].sum() == pytest.approx(1)
    assert sorted(summary["churn_rate"].round(1)) == [0.0, 0.0, 1.0]
    profile = segment_profile(model, X, labels)
    assert {"feature", "segment", "name", "mean", "overall", "z"} <= set(profile.columns)
    recency = profile[profile["feature"] == "recency"]
    assert recency["mean"].max() == pytest.approx(6, abs=0.4)
    assert "device = Mobile" in set(profile["feature"])
    proj = projection(model, X, labels, max_points=500)
    assert len(proj) == 500 and proj["row"].is_monotonic_increasing
    assert (proj["segment"].to_numpy() == labels[proj["row"]]).all()


def test_fixed_k_and_new_data(planted):
    X, _ = planted
    model = fit_segments(X, k=4, seed=0)
    assert model.k == 4 and model.silhouette.empty
    new = X.head(5).copy()
    new["device"] = pd.Categorical(["Tablet", None, "Mobile", "Mobile", "Computer"])
    assert assign_segments(model, new).shape == (5,)
    with pytest.raises(ValueError, match="recency"):
        assign_segments(model, X.drop(columns="recency"))


def test_centres_from_a_sample_still_assign_every_row(monkeypatch):
    import churn_core.segments as seg

    monkeypatch.setattr(seg, "KMEANS_FIT_ROWS", 500)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(0, 1, (3000, 4)), columns=list("abcd"))
    X.loc[:1499, "a"] += 8
    model = fit_segments(X, k_range=range(2, 4), sample=800)
    assert model.k == 2
    assert np.bincount(assign_segments(model, X)).tolist() in ([1500, 1500],)


def test_one_thread_limits_blas_and_openmp_inside_only():
    from threadpoolctl import threadpool_info

    from churn_core.threads import one_thread

    @one_thread
    def pools():
        return [p["num_threads"] for p in threadpool_info()]

    inside = pools()
    assert inside and set(inside) == {1}
    assert fit_segments.__name__ == "fit_segments"  # decorated, name kept
