"""Group-aware, stratified splits: a customer (or a duplicate profile) is never on both sides.

scikit-learn's ``StratifiedGroupKFold`` loops over groups in Python and gets
slow at a million customers; here folds are assigned to whole groups with a
seeded permutation inside each label stratum, which is vectorised and gives
folds of near-equal size and churn rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Splits:
    """Positional row indices of the three parts (labelled rows only)."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        """Rows per part."""
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def canonical_groups(groups: np.ndarray) -> np.ndarray:
    """Renumber groups 0..G-1 in order of first appearance."""
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse]


def group_folds(y: np.ndarray, groups: np.ndarray, n_folds: int, *, seed: int) -> np.ndarray:
    """Assign each row a fold in ``0..n_folds-1``; all rows of a group share a fold.

    Parameters
    ----------
    y : array of {0, 1}
        Labels of the rows to split.
    groups : array of int
        Group of each row (same customer or same feature profile).
    n_folds : int
        Number of folds (>= 2).
    seed : int
        Seed of the permutation.

    Returns
    -------
    ndarray of int
        Fold of each row.
    """
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    g = canonical_groups(np.asarray(groups))
    n_groups = int(g.max()) + 1 if g.size else 0
    # A group is "positive" when any of its rows churned; stratify on that.
    group_pos = np.zeros(n_groups, dtype=bool)
    np.logical_or.at(group_pos, g, np.asarray(y) == 1)
    rng = np.random.default_rng(seed)
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    offset = 0
    for stratum in (True, False):
        members = np.flatnonzero(group_pos == stratum)
        members = members[rng.permutation(members.size)]
        fold_of_group[members] = (np.arange(members.size) + offset) % n_folds
        offset += members.size
    return fold_of_group[g]


def make_splits(
    y: np.ndarray,
    groups: np.ndarray,
    *,
    test_size: float = 0.2,
    valid_size: float = 0.2,
    seed: int = 42,
) -> Splits:
    """Split labelled rows into train, validation and test, groups kept whole.

    Parameters
    ----------
    y : array of float
        Labels with NaN for unlabelled rows (those are left out of every part).
    groups : array of int
        Group of each row.
    test_size, valid_size : float
        Shares of the labelled rows (approximate: whole groups move together).
    seed : int
        Seed.

    Returns
    -------
    Splits
        Positional indices into ``y``.
    """
    y = np.asarray(y, dtype=float)
    labelled = np.flatnonzero(~np.isnan(y))
    n_parts = max(int(round(1 / test_size)), 2)
    fold = group_folds(y[labelled], np.asarray(groups)[labelled], n_parts, seed=seed)
    test = labelled[fold == 0]
    rest = labelled[fold != 0]
    n_valid = max(int(round((1 - test_size) / valid_size)), 2)
    vfold = group_folds(y[rest], np.asarray(groups)[rest], n_valid, seed=seed + 1)
    return Splits(train=rest[vfold != 0], valid=rest[vfold == 0], test=test)
