"""Tests for churn_core.dataset: label, ids, split groups and fingerprints."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_core import dataset as dataset_module
from churn_core.dataset import fingerprint_frame, prepare_dataset
from churn_core.problems import Problem
from churn_core.schema import Schema


def schema_for(id_column: str | None = "cid", label: str | None = "churn") -> Schema:
    return Schema(id_column=id_column, label_column=label,
                  label_mapping={"yes": 1, "no": 0} if label else {},
                  positive_label="yes" if label else "",
                  numeric=("spend",), categorical=("plan",), datetime=(), excluded={},
                  snapshot_date=None, columns=("cid", "churn", "spend", "plan"))


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "cid": ["a", "b", "a", "c", "d", "e", None],
        "churn": ["yes", "no", "no", None, "no", "yes", "no"],
        "spend": [1.0, 2.0, 3.0, 4.0, 2.0, 6.0, 7.0],
        "plan": ["x", "y", "x", "y", "y", "x", "x"],
    })


def test_label_ids_and_problems():
    frame = table()
    problems = (Problem("X", "info", "carried"),)
    ds = prepare_dataset(frame, schema_for(), problems=problems)
    assert ds.y.dtype == "float64" and ds.y.index.equals(frame.index)
    assert ds.y.tolist()[:3] == [1.0, 0.0, 0.0] and np.isnan(ds.y.iloc[3])
    assert ds.labelled.tolist() == [True, True, True, False, True, True, True]
    assert ds.ids.tolist() == ["a", "b", "a", "c", "d", "e", "row 7"]
    assert ds.problems == problems
    assert ds.frame is frame


def test_ids_without_id_column_and_from_numbers():
    ds = prepare_dataset(table(), schema_for(id_column=None))
    assert ds.ids.tolist()[:2] == ["row 1", "row 2"]
    frame = table().assign(cid=[50001.0, 50002.0, 50003.0, np.nan, 5.0, 6.0, 7.0])
    assert prepare_dataset(frame, schema_for()).ids.tolist()[:4] == [
        "50001", "50002", "50003", "row 4"]


def test_no_label_gives_all_missing_y():
    ds = prepare_dataset(table(), schema_for(label=None))
    assert ds.y.isna().all() and len(ds.y) == 7


def test_groups_join_same_id_and_same_profile_transitively():
    frame = table()
    # rows 2 and 5 ("b", "d") share spend/plan/label: same profile, different ids
    frame.loc[4, ["spend", "plan", "churn"]] = [2.0, "y", "no"]
    # row 6 ("e") copies row 1's profile -> joins group of "a" (rows 1, 3)
    frame.loc[5, ["spend", "plan", "churn"]] = [1.0, "x", "yes"]
    g = prepare_dataset(frame, schema_for()).groups
    assert g.dtype == np.int64 and g.shape == (7,)
    assert g[0] == g[2] == g[5]          # same id a, and e copies a's profile
    assert g[1] == g[4]                  # b and d: identical apart from the id
    assert len({g[0], g[1], g[3], g[6]}) == 4   # everyone else apart
    assert g.min() == 0 and set(g) == set(range(g.max() + 1))


def test_missing_ids_do_not_link_rows():
    frame = table().assign(cid=[None] * 7, spend=np.arange(7.0))
    g = prepare_dataset(frame, schema_for()).groups
    assert len(set(g)) == 7


def test_common_profiles_are_not_grouped(monkeypatch):
    monkeypatch.setattr(dataset_module, "MAX_PROFILE_COPIES", 2)
    frame = pd.DataFrame({"cid": list("abcdef"), "churn": ["no"] * 6,
                          "spend": [1.0, 1.0, 1.0, 2.0, 2.0, 3.0], "plan": ["x"] * 6})
    g = prepare_dataset(frame, schema_for()).groups
    assert len({g[0], g[1], g[2]}) == 3   # three copies: a common profile, not linked
    assert g[3] == g[4] and g[5] != g[3]


def test_fingerprint_is_stable_and_sensitive():
    frame = table()
    fp = fingerprint_frame(frame)
    assert len(fp) == 64 and fp == fingerprint_frame(frame.copy())
    assert fp == fingerprint_frame(frame.set_axis(range(10, 17)))   # index ignored
    changed = frame.copy()
    changed.loc[2, "spend"] = 3.5
    assert fingerprint_frame(changed) != fp
    assert fingerprint_frame(frame.rename(columns={"plan": "tier"})) != fp
    assert fingerprint_frame(frame.iloc[:0]) != fingerprint_frame(frame.iloc[:0, :2])
    assert prepare_dataset(frame, schema_for()).fingerprint == fp
