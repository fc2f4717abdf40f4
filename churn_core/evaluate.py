"""Model evaluation: ROC/PR curves, scores, calibration, lift and a plain verdict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

MAX_CURVE_POINTS = 2000


@dataclass(frozen=True)
class Evaluation:
    """Held-out performance of a scorer.

    Attributes
    ----------
    roc_auc, pr_auc, log_loss, brier : float
        Standard scores (PR-AUC is average precision).
    base_rate : float
        Share of positives.
    n : int
        Rows evaluated.
    roc : DataFrame
        ``fpr, tpr, threshold`` reduced to at most 2,000 points.
    pr : DataFrame
        ``recall, precision, threshold`` reduced to at most 2,000 points.
    calibration : DataFrame
        ``bin, mean_predicted, observed_rate, count`` over ten quantile bins.
    lift : DataFrame
        ``decile, customers, churners, churn_rate, lift, cumulative_gain`` (decile 1 = riskiest).
    """

    roc_auc: float
    pr_auc: float
    log_loss: float
    brier: float
    base_rate: float
    n: int
    roc: pd.DataFrame
    pr: pd.DataFrame
    calibration: pd.DataFrame
    lift: pd.DataFrame

    @property
    def top_decile_lift(self) -> float:
        """Churn rate in the riskiest 10 % divided by the overall rate."""
        return float(self.lift["lift"].iloc[0]) if len(self.lift) else float("nan")

    def summary(self) -> dict[str, float]:
        """Return the scalar scores as a flat dict (for manifests and tables)."""
        return {
            "roc_auc": self.roc_auc,
            "pr_auc": self.pr_auc,
            "log_loss": self.log_loss,
            "brier": self.brier,
            "base_rate": self.base_rate,
            "top_decile_lift": self.top_decile_lift,
            "n": self.n,
        }


def _thin(frame: pd.DataFrame, max_points: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    if len(frame) <= max_points:
        return frame.reset_index(drop=True)
    idx = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[idx].reset_index(drop=True)


def _check(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.shape} entries but scores has {s.shape}")
    if np.isnan(y).any():
        raise ValueError("y_true contains missing labels; evaluate labelled rows only")
    return y.astype(int), s


def calibration_table(y_true: np.ndarray, scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability against the observed rate in quantile bins."""
    y, s = _check(y_true, scores)
    order = np.argsort(s, kind="stable")
    chunks = np.array_split(order, min(bins, max(len(s), 1)))
    rows = [
        {
            "bin": i + 1,
            "mean_predicted": float(s[c].mean()),
            "observed_rate": float(y[c].mean()),
            "count": int(c.size),
        }
        for i, c in enumerate(chunks)
        if c.size
    ]
    return pd.DataFrame(rows, columns=["bin", "mean_predicted", "observed_rate", "count"])


def lift_table(y_true: np.ndarray, scores: np.ndarray, groups: int = 10) -> pd.DataFrame:
    """Lift and cumulative gain by decile, riskiest first."""
    y, s = _check(y_true, scores)
    order = np.argsort(-s, kind="stable")
    total = max(int(y.sum()), 1)
    base = y.mean() if y.size else 0.0
    rows, cum = [], 0
    for i, chunk in enumerate(np.array_split(order, min(groups, max(len(s), 1)))):
        if not chunk.size:
            continue
        churners = int(y[chunk].sum())
        cum += churners
        rate = churners / chunk.size
        rows.append(
            {
                "decile": i + 1,
                "customers": int(chunk.size),
                "churners": churners,
                "churn_rate": rate,
                "lift": rate / base if base > 0 else float("nan"),
                "cumulative_gain": cum / total,
            }
        )
    cols = ["decile", "customers", "churners", "churn_rate", "lift", "cumulative_gain"]
    return pd.DataFrame(rows, columns=cols)


def evaluate(y_true: np.ndarray, scores: np.ndarray) -> Evaluation:
    """Evaluate probabilities against known labels.

    Parameters
    ----------
    y_true : array-like of {0, 1}
        Labels (no missing values).
    scores : array-like of float
        Predicted churn probabilities.

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        When shapes differ, labels are missing, or only one class is present.
    """
    y, s = _check(y_true, scores)
    if np.unique(y).size < 2:
        raise ValueError("evaluation needs both churned and retained rows")
    fpr, tpr, thr = roc_curve(y, s)
    roc = _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(thr, 1.0)}))
    precision, recall, pthr = precision_recall_curve(y, s)
    pr = _thin(
        pd.DataFrame(
            {"recall": recall[:-1], "precision": precision[:-1], "threshold": pthr}
        ).iloc[::-1]
    )
    clipped = np.clip(s, 1e-7, 1 - 1e-7)
    return Evaluation(
        roc_auc=float(roc_auc_score(y, s)),
        pr_auc=float(average_precision_score(y, s)),
        log_loss=float(log_loss(y, clipped, labels=[0, 1])),
        brier=float(brier_score_loss(y, s)),
        base_rate=float(y.mean()),
        n=int(y.size),
        roc=roc,
        pr=pr,
        calibration=calibration_table(y, s),
        lift=lift_table(y, s),
    )


def quality_verdict(roc_auc: float, top_decile_lift: float) -> tuple[str, str]:
    """Return a grade and one sentence a manager can read.

    The grade follows ROC-AUC bands (0.9 / 0.8 / 0.7); the sentence gives the
    lift in the riskiest tenth of customers.
    """
    if not np.isfinite(roc_auc):
        return "Unknown", "The model could not be evaluated on held-out customers."
    if roc_auc >= 0.9:
        grade = "Excellent"
    elif roc_auc >= 0.8:
        grade = "Good"
    elif roc_auc >= 0.7:
        grade = "Fair"
    else:
        grade = "Poor"
    sentence = (
        f"{grade}: the model ranks a random churner above a random loyal customer "
        f"{roc_auc:.0%} of the time"
    )
    if np.isfinite(top_decile_lift):
        sentence += (
            f"; the riskiest 10 % of customers churn {top_decile_lift:.1f}x as often as average."
        )
    else:
        sentence += "."
    return grade, sentence
