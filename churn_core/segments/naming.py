"""Segment names in words, from what sets each segment apart.

Each segment's mean of every encoded column is compared with the overall mean, in
overall standard deviations (z). The (at most :data:`MAX_WORDS`) columns with the largest
\\|z\\| above :data:`MIN_Z` are described by their behaviour role:

========== ================ ===========================
role        above average    below average
========== ================ ===========================
recency     Lapsed           Recent
frequency   frequent         one-time (mean <= 1.5) / infrequent
money       high spend       low spend
tenure      long-standing    new
gap         slow to reorder  quick to reorder
other       high <label>     low <label>
========== ================ ===========================

and written in the order recency, frequency, money, tenure, others: "Recent, frequent,
high spend", "Lapsed, one-time customers". A segment close to average everywhere is
"Typical customers". Names are unique: a clash adds the next distinctive column, then an
ordinal word ("second group").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from churn_core.segments.types import SegmentModel

MAX_WORDS = 3
MIN_Z = 0.3
ONE_TIME = 1.5
_ORDER = {"recency": 0, "frequency": 1, "money": 2, "tenure": 3, "gap": 4, "other": 5}
_ADJECTIVES = {"recency", "frequency", "tenure", "gap"}
_ORDINALS = ("second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
TYPICAL = "Typical customers"


def _phrase(model: SegmentModel, j: int, z: float, mean: float) -> tuple[str, str] | None:
    """(role, words) describing encoded column ``j`` at ``z`` (None: not worth naming)."""
    n_num = len(model.numeric)
    if j >= n_num:  # a level of a categorical column: only "mostly <level>" says something
        if z <= 0:
            return None
        name = model.encoded_names[j]
        column, _, level = name.partition(" = ")
        return "other", f"mostly {model.label(column).lower()} {level}"
    col = model.numeric[j]
    role = model.roles.get(col, "other")
    up = z > 0
    if role == "recency":
        return role, "lapsed" if up else "recent"
    if role == "frequency":
        return role, "frequent" if up else ("one-time" if mean <= ONE_TIME else "infrequent")
    if role == "money":
        return role, "high spend" if up else "low spend"
    if role == "tenure":
        return role, "long-standing" if up else "new"
    if role == "gap":
        return role, "slow to reorder" if up else "quick to reorder"
    return "other", f"{'high' if up else 'low'} {model.label(col).lower()}"


def _compose(parts: Sequence[tuple[str, str]]) -> str:
    if not parts:
        return TYPICAL
    ordered = sorted(parts, key=lambda p: _ORDER.get(p[0], 9))
    text = ", ".join(words for _, words in ordered)
    if ordered[-1][0] in _ADJECTIVES:
        text += " customers"
    return text[0].upper() + text[1:]


def segment_names(model: SegmentModel, z: np.ndarray, means: np.ndarray) -> tuple[str, ...]:
    """Unique names of the ``model.k`` segments.

    Parameters
    ----------
    model : SegmentModel
    z : numpy.ndarray
        k x encoded columns: segment mean against the overall mean, in standard deviations.
    means : numpy.ndarray
        k x encoded columns: segment means in the columns' own units (for "one-time").

    Returns
    -------
    tuple of str
    """
    names: list[str] = []
    for i in range(model.k):
        row = np.nan_to_num(np.asarray(z[i], dtype=float))
        order = [int(j) for j in np.argsort(-np.abs(row), kind="stable") if abs(row[j]) >= MIN_Z]
        candidates = [p for j in order if (p := _phrase(model, j, row[j], means[i, j]))]
        roles_seen: set[str] = set()
        parts: list[tuple[str, str]] = []
        rest: list[tuple[str, str]] = []
        for role, words in candidates:  # one phrase per role (not "frequent, frequent")
            if role != "other" and role in roles_seen:
                continue
            roles_seen.add(role)
            (parts if len(parts) < MAX_WORDS else rest).append((role, words))
        name = _compose(parts)
        while name in names and rest:
            parts.append(rest.pop(0))
            name = _compose(parts)
        base, n = name, 0
        while name in names:
            name, n = f"{base} ({_ORDINALS[min(n, len(_ORDINALS) - 1)]} group)", n + 1
        names.append(name)
    return tuple(names)
