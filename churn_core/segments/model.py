"""Encoding and K-Means: scaling fitted on the training rows, centres, assignment, a 2-D map.

Encoding (every parameter is stored in :class:`SegmentModel`, so new data is encoded,
assigned and projected exactly like the training data):

- numeric columns: missing -> training median; skewed non-negative columns (counts,
  money: skewness above :data:`SKEW_LOG`) compressed with ``log1p``; then standardised
  with the training mean and standard deviation and clipped to +-:data:`CLIP_Z`, so one
  extreme customer cannot get a segment of its own;
- categorical columns (only when the user picks them): one-hot of the :data:`MAX_LEVELS`
  most frequent levels, each indicator multiplied by :data:`CATEGORY_WEIGHT` so two
  levels are about as far apart as one standard deviation of a numeric column.

Centres come from ``KMeans(n_init=4, random_state=seed)`` on up to
:data:`KMEANS_FIT_ROWS` training rows; every row is then assigned to its nearest centre.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from churn_core.segments.types import CHOICE_COLUMNS, SegmentModel

MAX_LEVELS = 10
CATEGORY_WEIGHT = 0.5
CLIP_Z = 3.0
SKEW_LOG = 1.0
KMEANS_FIT_ROWS = 20_000
SCALE_ROWS = 200_000


def is_categorical(s: pd.Series) -> bool:
    """True for text and category columns (one-hot encoded)."""
    return isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def numeric_values(X: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64 (text and missing -> NaN)."""
    return pd.to_numeric(X[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _level_index(s: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """Position of each value in ``levels`` (-1 for other levels and missing)."""
    cat = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
    lookup = {lv: i for i, lv in enumerate(levels)}
    table = np.array([lookup.get(str(c), -1) for c in cat.cat.categories] + [-1], dtype=np.int64)
    return table[cat.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing -1


def _skewed(x: np.ndarray) -> bool:
    x = x[np.isfinite(x)]
    if x.size < 3 or x.min() < 0 or x.std() == 0:
        return False
    z = (x - x.mean()) / x.std()
    return float((z**3).mean()) > SKEW_LOG


def fit_scaling(X: pd.DataFrame, features: tuple[str, ...], *, seed: int,
                labels: dict[str, str], roles: dict[str, str]) -> SegmentModel:
    """The encoding of ``features`` fitted on the rows of ``X`` (the training rows);
    centres, names and the choice of k are filled in later."""
    if len(X) > SCALE_ROWS:
        rows = np.random.default_rng(seed).choice(len(X), size=SCALE_ROWS, replace=False)
        X = X.iloc[np.sort(rows)]
    numeric = tuple(c for c in features if not is_categorical(X[c]))
    categorical: list[str] = []
    levels: dict[str, tuple[str, ...]] = {}
    for c in features:
        if c in numeric:
            continue
        counts = X[c].astype("object").value_counts(dropna=True)
        counts = counts[counts > 0]
        if len(counts) >= 2:
            levels[c] = tuple(str(v) for v in counts.index[:MAX_LEVELS])
            categorical.append(c)
    medians, means, scales, logged = [], [], [], []
    for c in numeric:
        x = numeric_values(X, c)
        med = float(np.nanmedian(x)) if np.isfinite(x).any() else 0.0
        x = np.where(np.isfinite(x), x, med)
        if _skewed(x):
            logged.append(c)
            x = np.log1p(x)
        medians.append(med)
        means.append(float(x.mean()))
        scales.append(float(x.std()) or 1.0)
    return SegmentModel(
        k=0, features=numeric + tuple(categorical), numeric=numeric,
        categorical=tuple(categorical), medians=tuple(medians), means=tuple(means),
        scales=tuple(scales), levels=levels, centers=[], names=(),
        choice=pd.DataFrame(columns=list(CHOICE_COLUMNS)), seed=seed, pca_mean=(),
        pca_components=[], logged=tuple(logged),
        labels={c: labels.get(c, c) for c in numeric + tuple(categorical)},
        roles={c: roles.get(c, "other") for c in numeric + tuple(categorical)})


def check_columns(model: SegmentModel, X: pd.DataFrame) -> None:
    """Raise ValueError naming the columns the model needs that ``X`` lacks."""
    missing = [c for c in model.features if c not in X.columns]
    if missing:
        raise ValueError(f"columns missing for segmentation: {', '.join(missing)}")


def encode(model: SegmentModel, X: pd.DataFrame, *, dtype: Any = np.float64) -> np.ndarray:
    """The encoded matrix (rows x ``model.encoded_names``) used for K-Means and the map."""
    check_columns(model, X)
    n_levels = sum(len(model.levels[c]) for c in model.categorical)
    out = np.zeros((len(X), len(model.numeric) + n_levels), dtype=dtype)
    logged = set(model.logged)
    for j, col in enumerate(model.numeric):
        x = numeric_values(X, col)
        x = np.where(np.isfinite(x), x, model.medians[j])
        if col in logged:
            x = np.log1p(np.maximum(x, 0.0))
        out[:, j] = np.clip((x - model.means[j]) / model.scales[j], -CLIP_Z, CLIP_Z)
    start = len(model.numeric)
    rows = np.arange(len(X))
    for col in model.categorical:
        idx = _level_index(X[col], model.levels[col])
        hit = idx >= 0
        out[rows[hit], start + idx[hit]] = CATEGORY_WEIGHT
        start += len(model.levels[col])
    return out


def nearest(centers: np.ndarray, E: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Index of the nearest centre of each encoded row."""
    c2 = (centers**2).sum(axis=1)
    out = np.empty(len(E), dtype=np.int64)
    for start in range(0, len(E), chunk):
        block = E[start: start + chunk]
        out[start: start + chunk] = np.argmin(c2[None, :] - 2 * block @ centers.T, axis=1)
    return out


def fit_centres(model: SegmentModel, X: pd.DataFrame, k: int, *, sample: np.ndarray
                ) -> SegmentModel:
    """K-Means centres on up to :data:`KMEANS_FIT_ROWS` rows of ``X``, and the 2-D map
    axes (PCA of the encoded ``sample``); centres ordered by size, largest first."""
    rng = np.random.default_rng(model.seed)
    fit = rng.choice(len(X), size=min(len(X), KMEANS_FIT_ROWS), replace=False)
    E = encode(model, X.iloc[np.sort(fit)])
    km = KMeans(n_clusters=k, n_init=4, random_state=model.seed).fit(E)
    centers = np.asarray(km.cluster_centers_, dtype=np.float64)
    sizes = np.bincount(nearest(centers, E), minlength=k)
    centers = centers[np.argsort(-sizes, kind="stable")]
    if sample.shape[1] >= 2:
        pca = PCA(n_components=2, random_state=model.seed).fit(sample)
        mean, axes = pca.mean_.tolist(), pca.components_.tolist()
    else:
        mean, axes = [0.0] * sample.shape[1], [[1.0], [0.0]]
    return replace(model, k=int(k), centers=centers.tolist(), pca_mean=tuple(mean),
                   pca_components=axes)


def projection(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray, *,
               max_points: int = 50_000, seed: int = 42) -> pd.DataFrame:
    """A 2-D PCA map of up to ``max_points`` random rows.

    Returns
    -------
    pandas.DataFrame
        row (position in X), x, y, segment, name.
    """
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.arange(len(X))
    if len(X) > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), size=max_points, replace=False))
    E = encode(model, X.iloc[rows])
    xy = (E - np.asarray(model.pca_mean)) @ np.asarray(model.pca_components).T
    return pd.DataFrame({
        "row": rows, "x": xy[:, 0], "y": xy[:, 1], "segment": labels[rows],
        "name": np.asarray(model.names, dtype=object)[labels[rows]],
    })
