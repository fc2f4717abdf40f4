"""The logistic model's design matrix: numbers scaled, missing flags, one-hot levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_core import linear


def _frame(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n),
        "b": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        "c": pd.Categorical(rng.choice(["x", "y", "z", None], n)),
        "d": pd.Categorical(rng.choice([1, 2, 3], n)),
    })


def test_every_design_column_is_what_its_name_says():
    X = _frame()
    spec = linear.fit_design(X)
    D = linear.design_matrix(spec, X)
    names = [col for _, col in spec.columns]
    assert D.shape == (len(X), len(names))
    a = X["a"].to_numpy()
    np.testing.assert_allclose(D[:, names.index("a")], (a - a.mean()) / a.std())
    np.testing.assert_array_equal(D[:, names.index("b (missing)")], X["b"].isna())
    for level in ("x", "y", "z"):
        np.testing.assert_array_equal(D[:, names.index(f"c = {level}")], X["c"] == level)
    assert D[X["c"].isna().to_numpy()][:, [names.index(f"c = {v}") for v in "xyz"]].sum() == 0
    # levels of a column whose categories are numbers are compared as text, as before
    assert D[:, [names.index(f"d = {v}") for v in ("1", "2", "3")]].sum() == 0


def test_categories_unseen_in_training_get_no_level():
    spec = linear.fit_design(_frame())
    new = _frame(50, seed=1)
    new["c"] = pd.Categorical(["w"] * 25 + ["x"] * 25)
    D = linear.design_matrix(spec, new)
    names = [col for _, col in spec.columns]
    assert D[:25, names.index("c = x")].sum() == 0 and D[25:, names.index("c = x")].all()


def _fitted(seed: int = 0) -> tuple[linear.LinearModel, pd.DataFrame]:
    X = _frame(seed=seed)
    rng = np.random.default_rng(seed + 1)
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-X["a"].to_numpy()))).astype(int)
    return linear.fit_linear(X, y, seed=seed), X


def test_logit_a_column_at_a_time_is_the_design_matrix_product():
    model, _ = _fitted()
    new = _frame(300, seed=5)
    new["c"] = pd.Categorical(np.where(np.arange(300) < 20, "w", new["c"].astype(object)))
    new["d"] = pd.Categorical(np.random.default_rng(9).choice(["1", "2", "4"], 300))
    D = linear.design_matrix(model.spec, new)
    np.testing.assert_allclose(model.logit(new), D @ model.coef + model.intercept,
                               rtol=0, atol=1e-12)


def test_contributions_are_the_linear_shap_values_of_each_feature():
    model, X = _fitted(3)
    D = linear.design_matrix(model.spec, X)
    phi = (D - model.background) * model.coef
    expected = np.zeros((len(X), X.shape[1]))
    for j, (feature, _) in enumerate(model.spec.columns):
        expected[:, list(X.columns).index(feature)] += phi[:, j]
    got, base = model.contributions(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)  # float32 output
    np.testing.assert_allclose(got.sum(axis=1) + base, model.logit(X), atol=1e-4)
