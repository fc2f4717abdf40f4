"""The quality benchmark's splits keep groups whole and its references see the same data."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from bench import bench_quality as bq


def test_splits_are_group_aware_and_cover_every_labelled_row(sample_csv):
    frame, dataset = bq.load(sample_csv, None, None)
    labelled, fold = bq.split_folds(dataset, seed=0, n_splits=5)
    assert labelled.size == int(dataset.labelled.sum())
    assert set(np.unique(fold)) == set(range(5))
    groups = dataset.groups[labelled]
    per_group = pd.Series(fold).groupby(groups).nunique()
    assert per_group.max() == 1                          # no group on both sides of any split
    shares = np.bincount(fold) / fold.size
    assert np.all(np.abs(shares - 0.2) < 0.03)
    spec = bq.reference_spec(dataset)
    features = set(dataset.schema.features)
    assert set(spec["numeric"]) | set(spec["categorical"]) | set(spec["datetime"]) == features
    assert dataset.schema.id_column not in features


def test_reference_child_learns_from_the_files(sample_csv, tmp_path):
    frame, dataset = bq.load(sample_csv, None, None)
    labelled, fold = bq.split_folds(dataset, seed=0, n_splits=5)
    train_rows, test_rows = labelled[fold != 0], labelled[fold == 0]
    y = dataset.y.to_numpy()
    frame.iloc[train_rows].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[test_rows].to_csv(tmp_path / "test.csv", index=False)
    np.save(tmp_path / "y_train.npy", y[train_rows].astype(int))
    np.save(tmp_path / "y_test.npy", y[test_rows].astype(int))
    (tmp_path / "spec.json").write_text(json.dumps(bq.reference_spec(dataset)))
    args = argparse.Namespace(child="logreg", train=tmp_path / "train.csv",
                              test=tmp_path / "test.csv", spec=tmp_path / "spec.json",
                              y_train=tmp_path / "y_train.npy", y_test=tmp_path / "y_test.npy",
                              seed=0)
    result = bq.run_reference(args)
    assert 0.75 < result["roc_auc"] < 1.0          # the sample is learnable, not trivial
    assert result["seconds"] > 0 and result["peak_rss_gb"] > 0
    means = bq.summarise([{"model": "logreg", "roc_auc": 0.8, "seconds": 1.0},
                          {"model": "logreg", "roc_auc": 0.9, "seconds": 3.0}],
                         ["logreg", "xgb"])
    assert means[0]["roc_auc"] == pytest.approx(0.85) and means[0]["seconds"] == 2.0
    assert means[1]["splits"] == 0
