"""Champion and challenger: retrain on fresh labelled data, promote only a better model.

The fresh data is split by groups (a customer, or copies of one profile, stay on
one side): the held-out part is never seen by the challenger, and both models
are scored on exactly those rows. The challenger is promoted only when its
held-out ROC-AUC beats the champion's by more than ``min_gain``; a paired
bootstrap over the held-out rows gives the gain's 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn_core.bundle import ModelBundle
from churn_core.model import TrainConfig
from churn_core.pipeline import check_frame, fit_all, make_bundle
from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress
from churn_core.schema import SchemaOverrides
from churn_core.score import predict_frame
from churn_core.splits import group_folds

BOOTSTRAP = 500
MIN_HOLDOUT_CLASS = 5


@dataclass(frozen=True)
class RetrainDecision:
    """The comparison on the held-out rows and the decision.

    Attributes
    ----------
    promoted : bool
    champion_auc, challenger_auc : float
        ROC-AUC of each model on the same held-out rows.
    gain, gain_low, gain_high : float
        Challenger minus champion, with a paired-bootstrap 95 % interval.
    holdout_rows, train_rows : int
    min_gain : float
    challenger : ModelBundle
        Trained without the held-out rows.
    reason : str
    """

    promoted: bool
    champion_auc: float
    challenger_auc: float
    gain: float
    gain_low: float
    gain_high: float
    holdout_rows: int
    train_rows: int
    min_gain: float
    challenger: ModelBundle
    reason: str


def _error(code: str, message: str, **kw) -> ChurnDataError:
    return ChurnDataError([Problem(code, "error", message, **kw)])


def _paired_bootstrap(y: np.ndarray, a: np.ndarray, b: np.ndarray, seed: int
                      ) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, y.size, y.size)
        if np.unique(y[idx]).size < 2:
            continue
        gains.append(roc_auc_score(y[idx], b[idx]) - roc_auc_score(y[idx], a[idx]))
    if not gains:
        return float("nan"), float("nan")
    lo, hi = np.quantile(gains, [0.025, 0.975])
    return float(lo), float(hi)


def retrain(
    champion: ModelBundle,
    frame: pd.DataFrame,
    *,
    config: TrainConfig | None = None,
    holdout: float = 0.2,
    min_gain: float = 0.0,
    progress: Progress | None = None,
) -> RetrainDecision:
    """Train a challenger on fresh labelled rows and compare it with the champion.

    Parameters
    ----------
    champion : ModelBundle
        The model in use; its id and label columns and positive value are reused.
    frame : DataFrame
        Fresh rows with outcomes.
    config : TrainConfig, optional
        Challenger training options (default: no cross-validation, which the
        decision does not use).
    holdout : float
        Share of labelled rows held out for the comparison (whole groups).
    min_gain : float
        ROC-AUC the challenger must gain to be promoted.
    progress : callable, optional

    Returns
    -------
    RetrainDecision

    Raises
    ------
    ChurnDataError
        The data cannot train a model (``RETRAIN_*`` codes or the validation's own).
    """
    report = progress or (lambda f, m: None)
    config = config or TrainConfig()
    schema = champion.schema
    overrides = SchemaOverrides(id_column=schema.id_column, label_column=schema.label_column,
                                positive_value=schema.positive_label)
    checked = check_frame(frame, overrides=overrides)
    if not checked.usable:
        raise ChurnDataError([p for p in checked.problems if p.severity == "error"])
    ds = checked.dataset
    y = ds.y.to_numpy(dtype=float)
    labelled = np.flatnonzero(~np.isnan(y))
    parts = max(int(round(1 / holdout)), 2)
    fold = group_folds(y[labelled], ds.groups[labelled], parts, seed=config.seed + 11)
    hold = labelled[fold == 0]
    counts = np.bincount(y[hold].astype(int), minlength=2)
    if counts.min() < MIN_HOLDOUT_CLASS:
        raise _error("RETRAIN_TOO_FEW", f"the held-out rows hold {counts[1]} churner(s) and "
                     f"{counts[0]} other(s); at least {MIN_HOLDOUT_CLASS} of each are needed "
                     "to compare models", column=schema.label_column, count=int(hold.size),
                     action="add more labelled rows")
    keep = np.setdiff1d(np.arange(len(frame)), hold)
    report(0.05, f"Training the challenger on {keep.size:,} rows ({hold.size:,} held out)")
    train_frame = frame.iloc[keep].reset_index(drop=True)
    sub = check_frame(train_frame, overrides=overrides)
    if not sub.usable:
        raise ChurnDataError([p for p in sub.problems if p.severity == "error"])
    seg = champion.segments
    analysis = fit_all(sub.dataset, config=config, k=seg.k if seg is not None else None,
                       segment_features=seg.features if seg is not None else None,
                       feature_labels=champion.feature_labels,
                       progress=lambda f, m: report(0.05 + 0.85 * f, m))
    challenger = make_bundle(analysis)
    report(0.92, "Comparing on the held-out rows")
    held = frame.iloc[hold]
    y_hold = y[hold]
    old, new = predict_frame(champion, held), predict_frame(challenger, held)
    champion_auc, challenger_auc = roc_auc_score(y_hold, old), roc_auc_score(y_hold, new)
    gain = float(challenger_auc - champion_auc)
    lo, hi = _paired_bootstrap(y_hold, old, new, config.seed)
    promoted = gain > min_gain
    reason = (f"challenger ROC-AUC {challenger_auc:.4f} vs champion {champion_auc:.4f} on "
              f"{hold.size:,} held-out rows: gain {gain:+.4f} (95 % interval {lo:+.4f} to "
              f"{hi:+.4f}) {'>' if promoted else '<='} required {min_gain:+.4f}")
    report(1.0, "Decision made")
    return RetrainDecision(promoted, float(champion_auc), float(challenger_auc), gain, lo, hi,
                           int(hold.size), int(keep.size), float(min_gain), challenger, reason)
