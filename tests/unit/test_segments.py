"""Segments: planted clusters are recovered, models round-trip through JSON, new rows assign."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from churn_core.problems import ChurnDataError
from churn_core.segments import (
    SegmentModel,
    assign_segments,
    fit_segments,
    projection,
    segment_profile,
    segment_summary,
)


def planted_table(k: int = 4, n: int = 400, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """``k`` well separated behaviour clusters (recency, orders, spend), churn by cluster."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n)
    centres = np.array([[5, 12, 900], [60, 2, 80], [20, 6, 300], [120, 1, 40],
                        [40, 9, 600]], dtype=float)[:k]
    spread = np.array([2, 1, 40], dtype=float)
    values = centres[truth] + rng.normal(0, 1, (truth.size, 3)) * spread
    X = pd.DataFrame(values, columns=["DaySinceLastOrder", "OrderCount", "SpendAmount"])
    X["device"] = pd.Categorical(rng.choice(["Mobile", "Computer"], truth.size))
    churn = np.array([0.05, 0.5, 0.2, 0.8, 0.1])[truth]
    y = (rng.random(truth.size) < churn).astype(float)
    return X, truth, y


@pytest.fixture(scope="module")
def planted():
    return planted_table()


@pytest.fixture(scope="module")
def model(planted) -> SegmentModel:
    X, _, y = planted
    return fit_segments(X, y=y, sample=1200, seed=1)


def test_planted_four_clusters_give_four_segments(planted, model):
    X, truth, _ = planted
    assert model.k == 4
    assert set(model.choice["k"]) == set(range(3, 9))
    assert model.features == ("DaySinceLastOrder", "OrderCount", "SpendAmount")  # behaviour
    assert adjusted_rand_score(truth, assign_segments(model, X)) > 0.95


def test_json_round_trip(planted, model):
    X, _, _ = planted
    again = SegmentModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.names == model.names and again.logged == model.logged
    assert again.choice["k"].tolist() == model.choice["k"].tolist()
    assert np.array_equal(assign_segments(again, X), assign_segments(model, X))
    a = projection(model, X, assign_segments(model, X))
    b = projection(again, X, assign_segments(again, X))
    assert np.allclose(a[["x", "y"]], b[["x", "y"]])


def test_a_bundle_saved_before_the_choice_table_still_loads(planted, model):
    X, _, _ = planted
    old = model.to_dict()
    del old["choice"], old["logged"], old["labels"], old["roles"]
    old["silhouette"] = {"k": [2, 3], "silhouette": [0.5, 0.4]}
    again = SegmentModel.from_dict(old)
    assert again.silhouette["k"].tolist() == [2, 3] and again.logged == ()
    assert assign_segments(again, X).shape == (len(X),)


def test_summary_profile_and_projection(planted, model):
    X, _, y = planted
    labels = assign_segments(model, X)
    yv = pd.Series(y)
    yv.iloc[:10] = np.nan
    summary = segment_summary(model, X, labels, yv)
    assert summary["size"].sum() == len(X)
    assert summary["share"].sum() == pytest.approx(1)
    assert summary["churn_rate"].max() > 0.6 and summary["churn_rate"].min() < 0.15
    profile = segment_profile(model, X, labels)
    assert {"feature", "label", "segment", "name", "mean", "overall", "z"} <= set(profile.columns)
    recency = profile[profile["feature"] == "DaySinceLastOrder"]
    assert recency["mean"].max() == pytest.approx(120, abs=5)  # in the column's own units
    assert set(recency["label"]) == {"Day since last order"}
    proj = projection(model, X, labels, max_points=500)
    assert len(proj) == 500 and proj["row"].is_monotonic_increasing
    assert (proj["segment"].to_numpy() == labels[proj["row"]]).all()


def test_fixed_k_picked_features_and_new_data(planted):
    X, _, _ = planted
    model = fit_segments(X, k=5, features=["OrderCount", "device"], seed=0)
    assert model.k == 5 and model.choice.empty and not model.chosen_automatically
    assert model.features == ("OrderCount", "device") and model.categorical == ("device",)
    new = X.head(5).copy()
    new["device"] = pd.Categorical(["Tablet", None, "Mobile", "Mobile", "Computer"])
    assert assign_segments(model, new).shape == (5,)
    with pytest.raises(ValueError, match="OrderCount"):
        assign_segments(model, X.drop(columns="OrderCount"))


def test_bad_requests_are_clear_problems(planted):
    X, _, _ = planted
    with pytest.raises(ChurnDataError) as exc:
        fit_segments(X, features=["nope"])
    assert exc.value.problems[0].code == "SEGMENTS_UNKNOWN_FEATURE"
    with pytest.raises(ChurnDataError) as exc:
        fit_segments(X.head(20), k=4)
    assert exc.value.problems[0].code == "SEGMENTS_TOO_MANY"
    with pytest.raises(ChurnDataError) as exc:
        fit_segments(X.assign(flag=np.arange(len(X)) % 2), features=["flag"], k=3)
    assert exc.value.problems[0].code == "SEGMENTS_TOO_FEW_PROFILES"
    flat = pd.DataFrame({"a": np.ones(100), "b": np.zeros(100)})
    with pytest.raises(ChurnDataError) as exc:
        fit_segments(flat)
    assert exc.value.problems[0].code == "SEGMENTS_NO_VARIATION"


def test_centres_from_a_sample_still_assign_every_row(monkeypatch):
    import churn_core.segments.model as seg_model

    monkeypatch.setattr(seg_model, "KMEANS_FIT_ROWS", 500)
    X, truth, _ = planted_table(k=3, n=1000, seed=5)
    model = fit_segments(X, k=3, sample=800)
    assert sorted(np.bincount(assign_segments(model, X)).tolist()) == [1000, 1000, 1000]


def test_one_thread_limits_blas_and_openmp_inside_only():
    from threadpoolctl import threadpool_info

    from churn_core.threads import one_thread

    @one_thread
    def pools():
        return [p["num_threads"] for p in threadpool_info()]

    inside = pools()
    assert inside and set(inside) == {1}
    assert fit_segments.__name__ == "fit_segments"  # decorated, name kept
