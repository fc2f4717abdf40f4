"""Customer segments: K-Means on the feature table, k chosen by silhouette.

Encoding (all parameters are stored in :class:`SegmentModel`, so new data is
encoded, assigned and projected exactly like the training data):

- numeric columns: missing -> training median, then standardised with the
  training mean and standard deviation and clipped to +-3, so one extreme
  customer cannot get a segment of its own. At most :data:`MAX_NUMERIC`
  numeric columns are used: constant columns are dropped, then columns that
  repeat another (|correlation| > 0.95 on the sample), then the columns with
  the most missing values.
- categorical columns: one-hot of the :data:`MAX_LEVELS` most frequent levels
  (other levels and missing -> all zeros), each indicator multiplied by
  :data:`CATEGORY_WEIGHT` so that two different levels are about as far apart
  as one standard deviation of a numeric column and categoricals do not
  dominate.

k is chosen on a random sample (``sample`` rows) by the silhouette score (on
2,000 rows) of ``KMeans(n_init=1)`` for each k in ``k_range``. The final
centres come from KMeans on up to :data:`KMEANS_FIT_ROWS` rows; every row is
then assigned to its nearest centre. Segment names come
from the two most distinctive features (largest |z| of the segment mean
against the overall mean), e.g. "High DaySinceLastOrder, low OrderCount".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from churn_core.problems import ChurnDataError, Problem
from churn_core.threads import one_thread

logger = logging.getLogger(__name__)

MAX_NUMERIC = 20
MAX_LEVELS = 10
CATEGORY_WEIGHT = 0.5
CLIP_Z = 3.0
KMEANS_FIT_ROWS = 20_000
PROFILE_ROWS = 200_000
Progress = Callable[[float, str], None] | None


@dataclass(frozen=True)
class SegmentModel:
    """A fitted segmentation: encoding, centres, names and the choice of k.

    Attributes
    ----------
    k : int
        Number of segments.
    features : tuple of str
        Columns used: numeric ones, then categorical ones.
    numeric, categorical : tuple of str
        The two kinds of ``features``.
    medians, means, scales : tuple of float
        Per numeric column: imputation value, mean and standard deviation.
    levels : Mapping[str, tuple of str]
        One-hot levels per categorical column.
    centers : list of list of float
        ``k`` centres in the encoded space.
    names : tuple of str
        Unique short description of each segment.
    silhouette : pandas.DataFrame
        ``k, silhouette`` for each k tried (empty when k was given).
    seed : int
        Random seed used for sampling and K-Means.
    pca_mean : tuple of float
        Mean of the encoded sample (PCA centring).
    pca_components : list of list of float
        Two PCA axes in the encoded space.
    """

    k: int
    features: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    medians: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    levels: Mapping[str, tuple[str, ...]]
    centers: list[list[float]]
    names: tuple[str, ...]
    silhouette: pd.DataFrame
    seed: int
    pca_mean: tuple[float, ...]
    pca_components: list[list[float]]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (see :meth:`from_dict`)."""
        return {
            "k": self.k, "features": list(self.features),
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "medians": list(self.medians),
            "means": list(self.means),
            "scales": list(self.scales),
            "levels": {c: list(v) for c, v in self.levels.items()},
            "centers": [list(map(float, c)) for c in self.centers],
            "names": list(self.names),
            "silhouette": {
                "k": [int(v) for v in self.silhouette.get("k", [])],
                "silhouette": [float(v) for v in self.silhouette.get("silhouette", [])],
            },
            "seed": self.seed,
            "pca_mean": list(self.pca_mean),
            "pca_components": [list(map(float, c)) for c in self.pca_components],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SegmentModel:
        """Rebuild a model from :meth:`to_dict` output."""
        return cls(
            k=int(d["k"]),
            features=tuple(d["features"]),
            numeric=tuple(d["numeric"]),
            categorical=tuple(d["categorical"]),
            medians=tuple(float(v) for v in d["medians"]),
            means=tuple(float(v) for v in d["means"]),
            scales=tuple(float(v) for v in d["scales"]),
            levels={c: tuple(v) for c, v in d["levels"].items()},
            centers=[[float(x) for x in c] for c in d["centers"]],
            names=tuple(d["names"]),
            silhouette=pd.DataFrame(d["silhouette"], columns=["k", "silhouette"]),
            seed=int(d["seed"]),
            pca_mean=tuple(float(v) for v in d["pca_mean"]),
            pca_components=[[float(x) for x in c] for c in d["pca_components"]],
        )

    @property
    def encoded_names(self) -> tuple[str, ...]:
        """Names of the encoded columns: numeric names, then ``"column = level"``."""
        levels = (f"{c} = {lv}" for c in self.categorical for lv in self.levels[c])
        return self.numeric + tuple(levels)


def _is_categorical(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    )


def _numeric(X: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(X[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _level_index(s: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """Return the position of each value in ``levels`` (-1 for other levels and missing)."""
    cat = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
    lookup = {lv: i for i, lv in enumerate(levels)}
    table = np.array([lookup.get(str(c), -1) for c in cat.cat.categories] + [-1], dtype=np.int64)
    return table[cat.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing -1


def _check_columns(model: SegmentModel, X: pd.DataFrame) -> None:
    missing = [c for c in model.features if c not in X.columns]
    if missing:
        raise ValueError(f"columns missing for segmentation: {', '.join(missing)}")


def encode(model: SegmentModel, X: pd.DataFrame, *, dtype: Any = np.float64) -> np.ndarray:
    """Return the encoded matrix (rows x ``model.encoded_names``) used for K-Means and PCA."""
    _check_columns(model, X)
    n_levels = sum(len(model.levels[c]) for c in model.categorical)
    out = np.zeros((len(X), len(model.numeric) + n_levels), dtype=dtype)
    for j, col in enumerate(model.numeric):
        x = _numeric(X, col)
        x = np.where(np.isnan(x), model.medians[j], x)
        out[:, j] = np.clip((x - model.means[j]) / model.scales[j], -CLIP_Z, CLIP_Z)
    start = len(model.numeric)
    rows = np.arange(len(X))
    for col in model.categorical:
        idx = _level_index(X[col], model.levels[col])
        hit = idx >= 0
        out[rows[hit], start + idx[hit]] = CATEGORY_WEIGHT
        start += len(model.levels[col])
    return out


def _choose_numeric(X: pd.DataFrame, cols: list[str]) -> list[str]:
    """Drop constant and repeated columns, then keep the MAX_NUMERIC most complete."""
    arrays = {c: _numeric(X, c) for c in cols}
    kept = [c for c in cols if np.isfinite(arrays[c]).sum() > 1 and np.nanstd(arrays[c]) > 0]
    if len(kept) > 1:
        filled = np.column_stack(
            [np.nan_to_num(arrays[c], nan=np.nanmedian(arrays[c])) for c in kept])
        corr = np.abs(np.corrcoef(filled, rowvar=False))
        drop: set[int] = set()
        for i in range(len(kept)):
            if i not in drop:
                drop.update(j for j in range(i + 1, len(kept)) if corr[i, j] > 0.95)
        kept = [c for i, c in enumerate(kept) if i not in drop]
    kept.sort(key=lambda c: (np.isnan(arrays[c]).mean(), cols.index(c)))
    return sorted(kept[:MAX_NUMERIC], key=cols.index)


def _segment_means(model: SegmentModel, E: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Return k x d means of the encoded columns per segment (NaN for empty segments)."""
    counts = np.bincount(labels, minlength=model.k).astype(float)
    sums = np.stack([E[labels == i].sum(axis=0, dtype=np.float64) for i in range(model.k)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def _z_scores(model: SegmentModel, E: np.ndarray, labels: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (segment means, overall means, z) in readable units of each encoded column."""
    n_num = len(model.numeric)
    seg = _segment_means(model, E, labels)
    overall = E.mean(axis=0)
    sd = E.std(axis=0)
    z = np.divide(seg - overall, sd, out=np.zeros_like(seg), where=sd > 0)
    # back to user units: numeric = z * scale + mean, categorical = share of the level
    scales = np.array(model.scales)[None, :]
    means = np.array(model.means)[None, :]
    seg_units, overall_units = seg.copy(), overall.copy()[None, :]
    seg_units[:, :n_num] = seg[:, :n_num] * scales + means
    overall_units[:, :n_num] = overall[None, :n_num] * scales + means
    seg_units[:, n_num:] /= CATEGORY_WEIGHT
    overall_units[:, n_num:] /= CATEGORY_WEIGHT
    return seg_units, overall_units[0], z


def _names(model: SegmentModel, z: np.ndarray) -> tuple[str, ...]:
    """Name each segment after its most distinctive features; names are unique."""
    encoded = model.encoded_names
    n_num = len(model.numeric)

    def phrase(j: int, first: bool) -> str:
        if j < n_num:
            word = "High" if z_row[j] > 0 else "Low"
            return f"{word if first else word.lower()} {encoded[j]}"
        word = "Mostly" if z_row[j] > 0 else "Few"
        return f"{word if first else word.lower()} {encoded[j]}"

    names: list[str] = []
    for i in range(model.k):
        z_row = np.nan_to_num(z[i])
        order = [int(j) for j in np.argsort(-np.abs(z_row))]
        name = ", ".join(phrase(j, t == 0) for t, j in enumerate(order[:2])) or f"Segment {i + 1}"
        if name in names and len(order) > 2:
            name = f"{name}, {phrase(order[2], False)}"
        base, suffix = name, 2
        while name in names:
            name, suffix = f"{base} ({suffix})", suffix + 1
        names.append(name)
    return tuple(names)


def _nearest(centers: np.ndarray, E: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    c2 = (centers**2).sum(axis=1)
    out = np.empty(len(E), dtype=np.int64)
    for start in range(0, len(E), chunk):
        block = E[start : start + chunk]
        out[start : start + chunk] = np.argmin(c2[None, :] - 2 * block @ centers.T, axis=1)
    return out


@one_thread
def fit_segments(
    X: pd.DataFrame,
    *,
    k: int | None = None,
    k_range: range = range(2, 11),
    sample: int = 5000,
    seed: int = 42,
    progress: Progress = None,
) -> SegmentModel:
    """Fit K-Means segments on a feature table.

    Parameters
    ----------
    X : pandas.DataFrame
        Features as returned by ``features.transform``: float columns (NaN
        allowed) and pandas Categorical columns.
    k : int, optional
        Number of segments; None = best silhouette over ``k_range``.
    k_range : range, default range(2, 11)
        Candidates for k.
    sample : int, default 5000
        Rows used to choose k (silhouette is quadratic in rows).
    seed : int, default 42
        Seed for sampling, K-Means and PCA.
    progress : callable(fraction, message), optional
        Progress callback.

    Returns
    -------
    SegmentModel

    Raises
    ------
    ChurnDataError
        ``SEGMENTS_NO_VARIATION`` (no usable column) or ``SEGMENTS_TOO_MANY`` (fewer
        rows than the smallest k).
    """
    report = progress or (lambda f, m: None)
    rng = np.random.default_rng(seed)
    num_cols = [c for c in X.columns if not _is_categorical(X[c])]
    cat_cols = [c for c in X.columns if _is_categorical(X[c])]
    smallest = k if k is not None else min(k_range)
    if len(X) < max(smallest, 2) + 1:
        raise ChurnDataError([Problem(
            "SEGMENTS_TOO_MANY", "error", f"{smallest} segments need more than {smallest} "
            f"training rows; there are {len(X):,}.", values=(str(smallest),),
            action="ask for fewer segments, or let the number be chosen")])
    fit_rows = rng.choice(len(X), size=min(len(X), PROFILE_ROWS), replace=False)
    Xs = X.iloc[np.sort(fit_rows)]
    numeric = _choose_numeric(Xs, num_cols)
    arrays = [_numeric(Xs, c) for c in numeric]
    medians = [float(np.nanmedian(a)) if np.isfinite(a).any() else 0.0 for a in arrays]
    filled = [np.where(np.isnan(a), m, a) for a, m in zip(arrays, medians, strict=True)]
    levels: dict[str, tuple[str, ...]] = {}
    for c in cat_cols:
        counts = Xs[c].astype("object").value_counts(dropna=True)
        counts = counts[counts > 0]
        if len(counts) >= 2:
            levels[c] = tuple(str(v) for v in counts.index[:MAX_LEVELS])
    if not numeric and not levels:
        raise ChurnDataError([Problem(
            "SEGMENTS_NO_VARIATION", "error", "No model column varies enough to form "
            "customer segments.", action="check the feature columns")])
    model = SegmentModel(
        k=0, features=tuple(numeric) + tuple(levels), numeric=tuple(numeric),
        categorical=tuple(levels), medians=tuple(medians),
        means=tuple(float(f.mean()) for f in filled),
        scales=tuple(float(f.std()) or 1.0 for f in filled), levels=levels,
        centers=[], names=(), silhouette=pd.DataFrame(columns=["k", "silhouette"]), seed=seed,
        pca_mean=(), pca_components=[],
    )
    report(0.05, "encoding features")
    choose = rng.choice(len(X), size=min(len(X), sample), replace=False)
    E_sample = encode(model, X.iloc[np.sort(choose)])
    scores: list[tuple[int, float]] = []
    if k is None:
        candidates = [kk for kk in k_range if 2 <= kk < len(E_sample)]
        if not candidates:
            raise ValueError("k_range has no k between 2 and the number of rows")
        for i, kk in enumerate(candidates):
            # One init and a 2,000-row silhouette rank k as well (same k, 5x faster).
            labels = KMeans(n_clusters=kk, n_init=1, random_state=seed).fit_predict(E_sample)
            score = silhouette_score(E_sample, labels, sample_size=min(len(E_sample), 2000),
                                     random_state=seed) if len(set(labels)) > 1 else -1.0
            scores.append((kk, float(score)))
            report(0.1 + 0.6 * (i + 1) / len(candidates), f"k={kk}: silhouette {score:.3f}")
        k = max(scores, key=lambda t: (t[1], -t[0]))[0]
        logger.info("chose k=%d by silhouette (%s)", k, scores)
    report(0.75, f"fitting {k} segments")
    # Centres from at most KMEANS_FIT_ROWS rows (ten centres need no more); every row is
    # assigned by assign_segments, so a million rows are encoded once, not here.
    fit = rng.choice(len(X), size=min(len(X), KMEANS_FIT_ROWS), replace=False)
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(encode(model, X.iloc[np.sort(fit)]))
    centers = np.asarray(km.cluster_centers_, dtype=np.float64)
    pca = PCA(n_components=2, random_state=seed).fit(E_sample) if E_sample.shape[1] >= 2 else None
    model = replace(
        model, k=int(k), centers=centers.tolist(),
        silhouette=pd.DataFrame(scores, columns=["k", "silhouette"]),
        pca_mean=tuple(pca.mean_.tolist()) if pca else (0.0,) * E_sample.shape[1],
        pca_components=pca.components_.tolist() if pca else [[1.0], [0.0]],
    )
    E_prof = encode(model, Xs)
    _, _, z = _z_scores(model, E_prof, _nearest(centers, E_prof))
    model = replace(model, names=_names(model, z))
    report(1.0, f"{k} segments")
    return model


@one_thread
def assign_segments(model: SegmentModel, X: pd.DataFrame) -> np.ndarray:
    """Return the segment number (0..k-1) of each row: the nearest centre.

    Raises
    ------
    ValueError
        If a column the model uses is missing from X.
    """
    centers = np.asarray(model.centers, dtype=np.float64)
    return _nearest(centers, encode(model, X, dtype=np.float64))


def segment_summary(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray,
                    y: pd.Series | np.ndarray | None) -> pd.DataFrame:
    """Return one row per segment: segment, name, size, share, churners, labelled, churn_rate.

    ``y`` holds 0/1 with NaN for unlabelled rows (or None); churn_rate is over
    the labelled rows of the segment (NaN when none). ``X`` is unused but kept
    for a uniform signature.
    """
    labels = np.asarray(labels, dtype=np.int64)
    size = np.bincount(labels, minlength=model.k)
    yv = np.full(len(labels), np.nan) if y is None else np.asarray(y, dtype=float)
    known = ~np.isnan(yv)
    labelled = np.bincount(labels[known], minlength=model.k)
    churners = np.bincount(labels[known], weights=yv[known], minlength=model.k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(labelled > 0, churners / labelled, np.nan)
    return pd.DataFrame({
        "segment": np.arange(model.k),
        "name": list(model.names),
        "size": size,
        "share": size / max(len(labels), 1),
        "churners": churners.astype(int),
        "labelled": labelled,
        "churn_rate": rate,
    })


def segment_profile(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Return the feature x segment profile in long form.

    Returns
    -------
    pandas.DataFrame
        feature (numeric column or ``"column = level"``), segment, name,
        mean (segment mean in the column's units; share for a level),
        overall, z (segment mean vs overall, in overall standard deviations;
        the numeric means are of the imputed, clipped values).
    """
    E = encode(model, X)
    seg, overall, z = _z_scores(model, E, np.asarray(labels, dtype=np.int64))
    names = model.encoded_names
    rows = [
        (names[j], i, model.names[i], seg[i, j], overall[j], z[i, j])
        for i in range(model.k) for j in range(len(names))
    ]
    return pd.DataFrame(rows, columns=["feature", "segment", "name", "mean", "overall", "z"])


def projection(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray, *,
               max_points: int = 50_000, seed: int = 42) -> pd.DataFrame:
    """Return a 2-D PCA map of up to ``max_points`` random rows.

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
