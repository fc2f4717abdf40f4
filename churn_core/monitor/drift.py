"""Drift of every feature and of the score, with thresholds calibrated to the sample size.

Fixed thresholds on an effect size (PSI 0.1, Wasserstein 0.1) fire by chance on
small samples and on trivial shifts in large ones. Here a column is flagged only
when **both**

1. a two-sample test against the reference rejects after Holm's correction
   across every test of the run (family-wise error ``alpha``, default 1 %), and
2. the effect size exceeds a small minimum, so that 100,000 rows do not flag a
   shift nobody would act on.

Tests and effect sizes by kind of column (see :mod:`churn_core.monitor.profile`):

================  ===============================  =================================
kind              test                             effect size
================  ===============================  =================================
continuous        Kolmogorov-Smirnov two-sample    Wasserstein distance / reference SD
discrete number   chi-squared homogeneity          Wasserstein distance / reference SD
categorical       chi-squared homogeneity          Jensen-Shannon distance (base 2)
every column      missing share: Fisher's exact    absolute change of the missing share
                  two-proportion test
categorical and   levels never seen: conditional   share of rows in new levels
discrete          permutation test given each
                  level's total count
================  ===============================  =================================

The reference is a sample too, so every test is two-sample (a goodness-of-fit
test that took the reference as exact would fire too often on small ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from churn_core.monitor.profile import (
    SCORE_KEY,
    check_profile,
    numeric_values,
    text_values,
)
from churn_core.monitor.stattests import (
    chi2_homogeneity,
    holm,
    ks_against_sketch,
    missing_share_test,
    unseen_level_p,
    vanished_levels,
)

NEW_LEVELS = "(new levels)"
OTHER_LEVELS = "(other)"


@dataclass(frozen=True)
class DriftConfig:
    """Significance and minimum effect sizes.

    Attributes
    ----------
    alpha : float
        Family-wise error rate across every test of one comparison (Holm).
    min_wasserstein_sd : float
        Smallest Wasserstein distance, in reference standard deviations, that counts.
    min_js : float
        Smallest Jensen-Shannon distance (0..1) that counts for categories.
    min_missing_change : float
        Smallest absolute change of the missing share that counts.
    min_new_share : float
        Smallest share of rows in levels never seen that counts.
    """

    alpha: float = 0.01
    min_wasserstein_sd: float = 0.1
    min_js: float = 0.05
    min_missing_change: float = 0.02
    min_new_share: float = 0.01


@dataclass(frozen=True)
class FeatureDrift:
    """One column's comparison with its reference (p-values already Holm-adjusted)."""

    feature: str
    kind: str
    test: str
    statistic: float
    p_value: float
    p_adjusted: float
    effect_name: str
    effect: float
    min_effect: float
    missing_reference: float
    missing_current: float
    missing_p_adjusted: float
    new_levels: tuple[str, ...]
    new_share: float
    new_p_adjusted: float
    vanished_levels: tuple[str, ...]
    drifted: bool
    why: str


@dataclass(frozen=True)
class DriftReport:
    """Every column's drift plus the score's.

    Attributes
    ----------
    features : tuple of FeatureDrift
    score : FeatureDrift or None
        None when the reference holds no scores or none were given.
    config : DriftConfig
    rows_reference, rows_current : int
    """

    features: tuple[FeatureDrift, ...]
    score: FeatureDrift | None
    config: DriftConfig = field(default_factory=DriftConfig)
    rows_reference: int = 0
    rows_current: int = 0

    @property
    def drifted_features(self) -> list[str]:
        """Names of the flagged features, largest effect first."""
        flagged = [f for f in self.features if f.drifted]
        return [f.feature for f in sorted(flagged, key=lambda f: -_finite(f.effect))]

    @property
    def score_drifted(self) -> bool:
        """True when the score's distribution moved (test and effect size)."""
        return bool(self.score is not None and self.score.drifted)

    @property
    def table(self) -> pd.DataFrame:
        """One row per column (the score last), flagged ones first."""
        rows = [*self.features, *([self.score] if self.score is not None else [])]
        frame = pd.DataFrame([asdict(r) for r in rows],
                             columns=list(FeatureDrift.__dataclass_fields__))
        for col in ("new_levels", "vanished_levels"):
            frame[col] = frame[col].map(lambda v: ", ".join(v))
        return frame.sort_values(["drifted", "effect"], ascending=[False, False],
                                 kind="stable").reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (NaN becomes None)."""
        return _json_safe({"config": asdict(self.config), "rows_reference": self.rows_reference,
                           "rows_current": self.rows_current,
                           "drifted_features": self.drifted_features,
                           "score_drift": self.score_drifted,
                           "features": [asdict(f) for f in self.features],
                           "score": asdict(self.score) if self.score is not None else None})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DriftReport:
        """Rebuild from :meth:`to_dict` output (as stored with a run)."""
        def row(r: Mapping[str, Any]) -> FeatureDrift:
            # Fields a store written by an older version lacks get neutral values.
            values: dict[str, Any] = {}
            for name in FeatureDrift.__dataclass_fields__:
                v = r.get(name)
                if name in _TEXT_FIELDS:
                    values[name] = "" if v is None else str(v)
                elif name in ("new_levels", "vanished_levels"):
                    values[name] = tuple(v or ())
                elif name == "drifted":
                    values[name] = bool(v)
                else:
                    values[name] = float("nan") if v is None else float(v)
            return FeatureDrift(**values)

        return cls(features=tuple(row(r) for r in d.get("features", [])),
                   score=row(d["score"]) if d.get("score") else None,
                   config=DriftConfig(**{k: v for k, v in d.get("config", {}).items()
                                         if k in DriftConfig.__dataclass_fields__}),
                   rows_reference=int(d.get("rows_reference", 0)),
                   rows_current=int(d.get("rows_current", 0)))


_TEXT_FIELDS = ("feature", "kind", "test", "effect_name", "why")


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else -1.0


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    return obj


# -- one column ------------------------------------------------------------------------------
@dataclass
class _Raw:
    """A column's comparison before the Holm correction (mutable scratch)."""

    feature: str
    kind: str
    test: str = ""
    statistic: float = float("nan")
    p_value: float = float("nan")
    effect_name: str = ""
    effect: float = float("nan")
    min_effect: float = float("nan")
    missing_reference: float = float("nan")
    missing_current: float = float("nan")
    missing_p: float = float("nan")
    new_levels: tuple[str, ...] = ()
    new_share: float = 0.0
    new_p: float = float("nan")
    vanished_levels: tuple[str, ...] = ()
    note: str = ""


def _scale(ref: Mapping[str, Any]) -> float:
    sd = ref.get("sd") or 0.0
    return float(sd) if sd > 0 else max(abs(float(ref.get("mean") or 0.0)), 1.0)


def _continuous(raw: _Raw, ref: Mapping[str, Any], cur: np.ndarray, cfg: DriftConfig) -> None:
    raw.test, raw.effect_name, raw.min_effect = "KS", "Wasserstein / SD", cfg.min_wasserstein_sd
    n_ref = int(ref["rows"]) - int(ref["missing"])
    if n_ref < 2 or cur.size < 2:
        raw.note = "too few values to compare"
        return
    if "sorted" in ref:
        values = np.asarray(ref["sorted"], dtype=float)
        res = stats.ks_2samp(values, cur)
        raw.statistic, raw.p_value = float(res.statistic), float(res.pvalue)
        distance = stats.wasserstein_distance(values, cur)
    else:
        q = np.asarray(ref["quantiles"], dtype=float)
        raw.statistic, raw.p_value = ks_against_sketch(q, n_ref, cur)
        weights = np.ones(q.size)
        weights[[0, -1]] = 0.5  # trapezoid: the sketch's end points stand for half a step
        distance = stats.wasserstein_distance(q, cur, u_weights=weights)
    raw.effect = float(distance / _scale(ref))


def _levels_compare(raw: _Raw, levels: list[str], ref_counts: np.ndarray, ref: Mapping[str, Any],
                    cur_counts: pd.Series, cfg: DriftConfig) -> np.ndarray:
    """Chi-squared and new/vanished levels; returns the current counts of ``levels``.

    The chi-squared compares the reference's levels only: levels are defined by the
    reference, so rows in levels it never saw would look like drift even when both
    samples come from one distribution; they have their own test (:func:`unseen_level_p`).
    """
    other = int(ref.get("other", 0))
    known = cur_counts.reindex(levels, fill_value=0).to_numpy(dtype=float)
    outside = cur_counts[~cur_counts.index.isin(levels)]
    n_ref, n_cur = ref_counts.sum() + other, cur_counts.sum()
    ref_vec, cur_vec = ref_counts, known
    if other > 0:
        # Rare reference levels were pooled: a level outside the list may be one of them.
        ref_vec, cur_vec = np.append(ref_counts, other), np.append(known, outside.sum())
    else:
        raw.new_levels = tuple(str(v) for v in outside.sort_values(ascending=False).index[:10])
        k_new = int(outside.sum())
        raw.new_share = k_new / n_cur if n_cur else 0.0
        raw.new_p = unseen_level_p(ref_counts, known, outside.to_numpy(dtype=float))
    if n_ref < 1 or cur_vec.sum() < 1:
        raw.note = "too few values to compare"
        return known
    raw.statistic, raw.p_value = chi2_homogeneity(ref_vec, cur_vec)
    raw.vanished_levels = vanished_levels(levels, ref_counts, known, int(n_cur), cfg.alpha)
    return known


def _discrete(raw: _Raw, ref: Mapping[str, Any], cur: np.ndarray, cfg: DriftConfig) -> None:
    raw.test, raw.effect_name, raw.min_effect = ("chi-squared", "Wasserstein / SD",
                                                 cfg.min_wasserstein_sd)
    values = np.asarray(ref["values"], dtype=float)
    ref_counts = np.asarray(ref["counts"], dtype=float)
    uniq, counts = np.unique(cur, return_counts=True)
    keys = [repr(float(v)) for v in values]
    cur_counts = pd.Series(counts, index=[repr(float(v)) for v in uniq], dtype=float)
    _levels_compare(raw, keys, ref_counts, {}, cur_counts, cfg)
    raw.new_levels = tuple(f"{float(k):g}" for k in raw.new_levels)
    raw.vanished_levels = tuple(f"{float(k):g}" for k in raw.vanished_levels)
    if cur.size and ref_counts.sum():
        raw.effect = float(stats.wasserstein_distance(values, uniq, ref_counts, counts)
                           / _scale(ref))


def _categorical(raw: _Raw, ref: Mapping[str, Any], cur: pd.Series, cfg: DriftConfig) -> None:
    raw.test, raw.effect_name, raw.min_effect = "chi-squared", "Jensen-Shannon", cfg.min_js
    levels = list(ref["levels"])
    ref_counts = np.asarray(ref["counts"], dtype=float)
    cur_counts = cur.dropna().value_counts().astype(float)
    known = _levels_compare(raw, levels, ref_counts, ref, cur_counts, cfg)
    outside = float(cur_counts.sum() - known.sum())
    ref_vec = np.append(ref_counts, float(ref.get("other", 0)))
    cur_vec = np.append(known, outside)
    if ref_vec.sum() > 0 and cur_vec.sum() > 0:
        raw.effect = float(jensenshannon(ref_vec / ref_vec.sum(), cur_vec / cur_vec.sum(),
                                         base=2))


def _compare_column(name: str, ref: Mapping[str, Any], series: pd.Series | None,
                    cfg: DriftConfig) -> _Raw:
    raw = _Raw(feature=name, kind=str(ref["kind"]))
    ref_rows = int(ref["rows"])
    raw.missing_reference = ref["missing"] / ref_rows if ref_rows else float("nan")
    if series is None:
        raw.note = "column missing from the data"
        raw.missing_current = 1.0
        return raw
    if raw.kind == "categorical":
        values = text_values(series)
        missing = int(values.isna().sum())
    else:
        values = numeric_values(series)
        missing = int(np.isnan(values).sum())
        values = values[~np.isnan(values)]
    n = len(series)
    raw.missing_current = missing / n if n else float("nan")
    raw.missing_p = missing_share_test(int(ref["missing"]), ref_rows, missing, n)
    if raw.kind == "continuous":
        _continuous(raw, ref, values, cfg)
    elif raw.kind == "discrete":
        _discrete(raw, ref, values, cfg)
    else:
        _categorical(raw, ref, values, cfg)
    return raw


def _finish(raw: _Raw, p_adj: float, miss_adj: float, new_adj: float,
            cfg: DriftConfig) -> FeatureDrift:
    reasons = []
    if raw.note == "column missing from the data":
        reasons.append(raw.note)
    if p_adj <= cfg.alpha and raw.effect >= raw.min_effect:
        reasons.append(f"distribution moved ({raw.effect_name} {raw.effect:.3f})")
    change = abs(raw.missing_current - raw.missing_reference)
    if miss_adj <= cfg.alpha and change >= cfg.min_missing_change:
        reasons.append(f"missing share {raw.missing_reference:.1%} -> {raw.missing_current:.1%}")
    if new_adj <= cfg.alpha and raw.new_share >= cfg.min_new_share:
        reasons.append(f"{raw.new_share:.1%} of rows in levels never seen")
    why = "; ".join(reasons) or raw.note
    return FeatureDrift(
        feature=raw.feature, kind=raw.kind, test=raw.test, statistic=raw.statistic,
        p_value=raw.p_value, p_adjusted=p_adj, effect_name=raw.effect_name, effect=raw.effect,
        min_effect=raw.min_effect, missing_reference=raw.missing_reference,
        missing_current=raw.missing_current,
        missing_p_adjusted=miss_adj, new_levels=raw.new_levels, new_share=raw.new_share,
        new_p_adjusted=new_adj, vanished_levels=raw.vanished_levels, drifted=bool(reasons),
        why=why)


def compare(
    profile: Mapping[str, Any],
    frame: pd.DataFrame,
    *,
    scores: np.ndarray | None = None,
    config: DriftConfig | None = None,
) -> DriftReport:
    """Compare ``frame`` (and ``scores``) with a reference profile.

    Parameters
    ----------
    profile : dict
        From :func:`churn_core.monitor.profile.reference_profile`.
    frame : DataFrame
        Current rows in the same form as the reference (see ``feature_view``);
        columns absent from ``frame`` are reported as drifted.
    scores : array of float, optional
        The model's current scores, compared when the profile holds scores.
    config : DriftConfig, optional

    Returns
    -------
    DriftReport

    Raises
    ------
    ValueError
        When ``profile`` is not a reference profile.
    """
    check_profile(profile)
    cfg = config or DriftConfig()
    raws = [_compare_column(name, ref, frame[name] if name in frame.columns else None, cfg)
            for name, ref in profile["columns"].items()]
    if scores is not None and profile.get("score"):
        raws.append(_compare_column(SCORE_KEY, profile["score"],
                                    pd.Series(np.asarray(scores, dtype=float)), cfg))
    # One family: every distribution, missingness and new-level test of this comparison.
    p_all = np.array([[r.p_value, r.missing_p, r.new_p] for r in raws], dtype=float)
    adjusted = holm(p_all.ravel()).reshape(p_all.shape) if raws else p_all
    adjusted = np.where(np.isnan(adjusted), 1.0, adjusted)
    done = [_finish(r, *adjusted[i], cfg) for i, r in enumerate(raws)]
    score = done.pop() if scores is not None and profile.get("score") else None
    return DriftReport(features=tuple(done), score=score, config=cfg,
                       rows_reference=int(profile.get("rows", 0)), rows_current=len(frame))
