"""What each segment is: size, churn rate, value, feature profile, drivers, an action.

- :func:`segment_summary`: size, share, churners and churn rate per segment;
- :func:`segment_profile`: every segment's mean of every segment column against the
  overall mean (in the column's units, and as z in overall standard deviations);
- :func:`model_drivers`: the features that raise the churn risk of a segment's customers
  most (the mean model contribution per segment), once a model is trained;
  :func:`profile_drivers`: before, the features that set the segment apart most;
- :func:`suggest_action`: an action from the segment's churn rate against the overall
  rate and its value against the average value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from churn_core.eda import wilson_interval
from churn_core.segments.behaviour import feature_label
from churn_core.segments.model import encode, numeric_values
from churn_core.segments.types import SegmentModel

HIGH_LIFT = 1.25
LOW_LIFT = 0.8
TOP_DRIVERS = 3
NO_CUSTOMERS = "no customers to act on"
NO_DRIVER = "nothing raises their risk on average"
ACTIONS = {
    "win_back": "Win back now: personal contact and a strong offer",
    "reactivate": "Reactivate cheaply: an automated reminder or a small coupon",
    "nurture": "Nurture: keep in touch and watch for warning signs",
    "reward": "Reward loyalty: perks and early access, no discount needed",
    "grow": "Grow: cross-sell and upsell",
}


def segment_summary(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray,
                    y: pd.Series | np.ndarray | None) -> pd.DataFrame:
    """One row per segment: segment, name, size, share, churners, labelled, churn_rate,
    churn_lo, churn_hi.

    ``y`` holds 0/1 with NaN for unlabelled rows (or None); churn_rate is over the
    labelled rows of the segment (NaN when none), churn_lo..churn_hi its 95 % Wilson
    interval. ``X`` is unused but kept for a
    uniform signature.
    """
    labels = np.asarray(labels, dtype=np.int64)
    size = np.bincount(labels, minlength=model.k)
    yv = np.full(len(labels), np.nan) if y is None else np.asarray(y, dtype=float)
    known = ~np.isnan(yv)
    labelled = np.bincount(labels[known], minlength=model.k)
    churners = np.bincount(labels[known], weights=yv[known], minlength=model.k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(labelled > 0, churners / labelled, np.nan)
        lo, hi = wilson_interval(churners, labelled)
    return pd.DataFrame({
        "segment": np.arange(model.k), "name": list(model.names), "size": size,
        "share": size / max(len(labels), 1), "churners": churners.astype(int),
        "labelled": labelled, "churn_rate": rate,
        "churn_lo": np.where(labelled > 0, lo, np.nan),
        "churn_hi": np.where(labelled > 0, hi, np.nan),
    })


def segment_means(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k x d segment means in units, d overall means in units, k x d z) of the encoded
    columns: numeric means of the values as they are (missing -> training median),
    categorical ones as the share of the level; z of the encoded values."""
    labels = np.asarray(labels, dtype=np.int64)
    E = encode(model, X)
    counts = np.bincount(labels, minlength=model.k).astype(float)
    n_num = len(model.numeric)
    units = E.copy()
    for j, col in enumerate(model.numeric):
        x = numeric_values(X, col)
        units[:, j] = np.where(np.isfinite(x), x, model.medians[j])
    units[:, n_num:] = (E[:, n_num:] > 0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        seg_e = np.stack([E[labels == i].sum(axis=0) for i in range(model.k)]) / counts[:, None]
        seg_u = np.stack([units[labels == i].sum(axis=0) for i in range(model.k)]) / \
            counts[:, None]
    sd = E.std(axis=0)
    z = np.divide(seg_e - E.mean(axis=0), sd, out=np.zeros_like(seg_e), where=sd > 0)
    return seg_u, units.mean(axis=0), z


def segment_profile(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """The feature x segment profile in long form.

    Returns
    -------
    pandas.DataFrame
        feature (numeric column or ``"column = level"``), label (in words), segment,
        name, mean (segment mean in the column's units; share for a level), overall,
        z (segment against everybody, in overall standard deviations of the encoded,
        clipped values).
    """
    seg, overall, z = segment_means(model, X, labels)
    names = model.encoded_names
    words = [model.label(n) if n in model.labels else
             f"{model.label(n.partition(' = ')[0])}: {n.partition(' = ')[2]}" for n in names]
    rows = [(names[j], words[j], i, model.names[i], seg[i, j], overall[j], z[i, j])
            for i in range(model.k) for j in range(len(names))]
    return pd.DataFrame(rows, columns=["feature", "label", "segment", "name", "mean", "overall",
                                       "z"])


def profile_drivers(profile: pd.DataFrame, k: int, *, top: int = TOP_DRIVERS) -> list[str]:
    """Per segment, the ``top`` features that set it apart most, in words
    ("high Day since last order, low Tenure")."""
    out = []
    for i in range(k):
        part = profile[profile["segment"] == i]
        part = part.reindex(part["z"].abs().sort_values(ascending=False).index).head(top)
        out.append(", ".join(f"{'high' if z > 0 else 'low'} {_lower(label)}"
                             for label, z in zip(part["label"], part["z"], strict=True)
                             if abs(z) >= 0.1) or "close to average")
    return out


def _lower(label: str) -> str:
    """"Day since last order" -> "day since last order" (acronyms such as "VIP" kept)."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def model_drivers(contributions: pd.DataFrame, segment_of: np.ndarray, k: int, *,
                  labels: Mapping[str, str] | None = None, top: int = TOP_DRIVERS) -> list[str]:
    """Per segment, the ``top`` features with the largest mean positive contribution to
    the churn risk of its explained customers, in words (:data:`NO_CUSTOMERS` or
    :data:`NO_DRIVER` when there are none)."""
    segment_of = np.asarray(segment_of, dtype=np.int64)
    values = contributions.to_numpy(dtype=float)
    out = []
    for i in range(k):
        rows = segment_of == i
        if not rows.any():
            out.append(NO_CUSTOMERS)
            continue
        mean = np.nanmean(values[rows], axis=0)
        order = [j for j in np.argsort(-mean, kind="stable")[:top] if mean[j] > 0]
        out.append(", ".join(feature_label(str(contributions.columns[j]), labels)
                             for j in order) or NO_DRIVER)
    return out


def suggest_action(churn_rate: float, overall_rate: float, value: float = float("nan"),
                   overall_value: float = float("nan")) -> str:
    """An action for a segment from its churn rate and value against everybody's.

    Churn rate at least 1.25 x the overall rate: win back (valuable segments, or when
    value is unknown) or reactivate cheaply; at most 0.8 x: reward loyalty (valuable)
    or grow; in between: nurture.
    """
    valuable = not (np.isfinite(value) and np.isfinite(overall_value)) or value >= overall_value
    if not (np.isfinite(churn_rate) and np.isfinite(overall_rate)) or overall_rate <= 0:
        return ACTIONS["nurture"]
    lift = churn_rate / overall_rate
    if lift >= HIGH_LIFT:
        return ACTIONS["win_back" if valuable else "reactivate"]
    if lift <= LOW_LIFT:
        return ACTIONS["reward" if valuable else "grow"]
    return ACTIONS["nurture"]
