"""Logistic regression as plain data: design matrix, fit, predict and SHAP values.

The logistic model is a contender on the leaderboard and ships when it ties or
beats the boosted trees. It works on the same feature frame as XGBoost (from
:func:`churn_core.features.transform`) and turns it into a numeric design matrix:

- numeric and date columns: missing values filled with the training median (plus a
  0/1 "was missing" column where training had gaps), then standardised;
- categorical columns: one 0/1 column per level among the 30 most frequent in
  training (other and missing levels are all zeros).

Everything fitted is kept as JSON-ready numbers (:meth:`LinearModel.to_dict`), so a
bundle never needs a pickle. Per-customer explanations are the exact SHAP values of a
linear model with independent features (what ``shap.LinearExplainer`` computes, a test
checks it): ``coef * (x - background mean)``, summed over each feature's columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from churn_core.threads import one_thread

MAX_LEVELS = 30


@dataclass(frozen=True)
class DesignSpec:
    """How a feature frame becomes the design matrix (fitted on training rows).

    Attributes
    ----------
    numeric : tuple of (name, median, mean, scale, indicator)
        Per numeric/date feature: fill value, standardisation and whether a
        missing-value column follows it.
    categorical : tuple of (name, levels)
        Per categorical feature, the levels that get a column.
    """

    numeric: tuple[tuple[str, float, float, float, bool], ...]
    categorical: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(feature, design column name) in design order."""
        out: list[tuple[str, str]] = []
        for name, _, _, _, indicator in self.numeric:
            out.append((name, name))
            if indicator:
                out.append((name, f"{name} (missing)"))
        for name, levels in self.categorical:
            out.extend((name, f"{name} = {level}") for level in levels)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"numeric": [{"name": n, "median": m, "mean": mu, "scale": s, "indicator": i}
                            for n, m, mu, s, i in self.numeric],
                "categorical": [{"name": n, "levels": list(lv)} for n, lv in self.categorical]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DesignSpec:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            numeric=tuple((str(e["name"]), float(e["median"]), float(e["mean"]),
                           float(e["scale"]), bool(e["indicator"])) for e in d["numeric"]),
            categorical=tuple((str(e["name"]), tuple(str(v) for v in e["levels"]))
                              for e in d["categorical"]))


def fit_design(X: pd.DataFrame) -> DesignSpec:
    """Fit the design on training rows of a feature frame (float or Categorical columns)."""
    numeric, categorical = [], []
    for col in X.columns:
        s = X[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            counts = s.value_counts(sort=True)
            levels = tuple(str(v) for v, c in counts.items() if c > 0)[:MAX_LEVELS]
            categorical.append((str(col), levels))
            continue
        v = s.to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        median = float(np.median(finite)) if finite.size else 0.0
        filled = np.where(np.isfinite(v), v, median)
        scale = float(filled.std()) or 1.0
        indicator = bool(finite.size < v.size)
        numeric.append((str(col), median, float(filled.mean()), scale, indicator))
    return DesignSpec(tuple(numeric), tuple(categorical))


def design_matrix(spec: DesignSpec, X: pd.DataFrame) -> np.ndarray:
    """The design matrix of ``X`` (float64, rows x ``len(spec.columns)``).

    Filled column by column into one array (no stacking of blocks: at a million rows the
    copies cost more than the arithmetic).
    """
    width = sum(1 + bool(e[4]) for e in spec.numeric) + sum(len(lv) for _, lv in spec.categorical)
    out = np.zeros((len(X), width))
    j = 0
    for name, median, mean, scale, indicator in spec.numeric:
        v = X[name].to_numpy(dtype=float)
        missing = ~np.isfinite(v)
        out[:, j] = (np.where(missing, median, v) - mean) / scale
        j += 1
        if indicator:
            out[:, j] = missing
            j += 1
    for name, levels in spec.categorical:
        _one_hot(X[name], levels, out[:, j:j + len(levels)])
        j += len(levels)
    return out


def _one_hot(column: pd.Series, levels: tuple[str, ...], out: np.ndarray) -> None:
    """Write the 0/1 columns of ``levels`` (a value equal to the level's text) into ``out``."""
    if not levels:
        return
    level_of_row = _level_of_row(column, levels)
    hit = np.flatnonzero(level_of_row >= 0)
    out[hit, level_of_row[hit]] = 1.0


def _level_of_row(column: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """Position in ``levels`` of each row's value (its text), -1 where it is none of them."""
    if isinstance(column.dtype, pd.CategoricalDtype) and \
            all(isinstance(c, str) for c in column.cat.categories):
        # by category code: each category looked up once, instead of a text compare of
        # every row with every level
        where = pd.Index(levels).get_indexer(column.cat.categories)
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, where[np.maximum(codes, 0)], -1)
    text = column.astype(object).where(column.notna(), None).to_numpy()
    out = np.full(len(text), -1, dtype=np.int64)
    for k, level in enumerate(levels):
        out[(text == level) & (out < 0)] = k
    return out


def _design_terms(spec: DesignSpec, X: pd.DataFrame, weights: np.ndarray,
                  shift: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """``(feature, sum over its design columns of weights * (column - shift))`` per design
    block, computed a column at a time: the same numbers as ``(D - shift) @ weights`` per
    feature without the rows x columns design matrix ``D`` (a million rows with five
    30-level categories: a 1.4 GB matrix of mostly zeros)."""
    j = 0
    for name, median, mean, scale, indicator in spec.numeric:
        v = X[name].to_numpy(dtype=float)
        missing = ~np.isfinite(v)
        term = weights[j] * ((np.where(missing, median, v) - mean) / scale - shift[j])
        j += 1
        if indicator:
            term += weights[j] * (missing - shift[j])
            j += 1
        yield name, term
    for name, levels in spec.categorical:
        width = len(levels)
        w, sh = weights[j:j + width], shift[j:j + width]
        # a row at level k: w[k] * (1 - sh[k]) + sum of w * (0 - sh) over the other levels
        base = -float(w @ sh)
        per_level = np.append(base + w, base)  # index -1: no level, every column 0
        yield name, per_level[_level_of_row(X[name], levels)]
        j += width


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression over a :class:`DesignSpec`."""

    spec: DesignSpec
    coef: np.ndarray
    intercept: float
    background: np.ndarray  # mean design row of the training data (SHAP reference)

    def logit(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of churn for a feature frame (a column at a time, no design matrix)."""
        out = np.full(len(X), float(self.intercept))
        for _, term in _design_terms(self.spec, X, self.coef, np.zeros_like(self.coef)):
            out += term
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Churn probability for a feature frame."""
        return 1.0 / (1.0 + np.exp(-self.logit(X)))

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, float]:
        """SHAP values per feature (log-odds, summed over its design columns) and base value."""
        names = list(X.columns)
        out = np.zeros((len(X), len(names)), dtype=np.float32)
        for feature, term in _design_terms(self.spec, X, self.coef, self.background):
            out[:, names.index(feature)] += term
        base = float(self.background @ self.coef + self.intercept)
        return out, base

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (kept in the bundle's manifest)."""
        return {"kind": "logistic", "design": self.spec.to_dict(),
                "coef": [float(c) for c in self.coef], "intercept": float(self.intercept),
                "background": [float(b) for b in self.background]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinearModel:
        """Rebuild from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            When the numbers do not fit the design.
        """
        spec = DesignSpec.from_dict(d["design"])
        coef = np.asarray(d["coef"], dtype=float)
        background = np.asarray(d["background"], dtype=float)
        width = len(spec.columns)
        if coef.shape != (width,) or background.shape != (width,):
            raise ValueError(f"linear model has {coef.size} coefficients for {width} columns")
        if not (np.isfinite(coef).all() and np.isfinite(background).all()):
            raise ValueError("linear model holds non-finite numbers")
        return cls(spec, coef, float(d["intercept"]), background)


@one_thread  # small dense problems: a second BLAS thread only waits
def fit_linear(X: pd.DataFrame, y: np.ndarray, *, seed: int = 42) -> LinearModel:
    """Fit the design and an L2 logistic regression on training rows.

    Parameters
    ----------
    X : DataFrame
        Transformed training features.
    y : array of {0, 1}
        Labels.
    seed : int
        Random state (only used on ties by the solver).

    Returns
    -------
    LinearModel
    """
    spec = fit_design(X)
    D = design_matrix(spec, X)
    model = LogisticRegression(max_iter=2000, C=1.0, random_state=seed)
    model.fit(D, np.asarray(y, dtype=int))
    return LinearModel(spec, model.coef_[0].astype(float), float(model.intercept_[0]),
                       D.mean(axis=0) if len(D) else np.zeros(D.shape[1]))
