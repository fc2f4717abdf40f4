"""What the facade hands out: a checked table and a trained analysis.

Plain frozen dataclasses, below every step that reads them (the at-risk list, the
bundle, the pages), so that no step needs to import :mod:`churn_core.pipeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churn_core.dataset import Dataset
from churn_core.explain import Explanation
from churn_core.population import Population
from churn_core.problems import Problem, has_errors
from churn_core.reading.table import ReadResult
from churn_core.schema import Schema
from churn_core.segments import SegmentModel
from churn_core.threshold import ThresholdChoice, ThresholdCurve
from churn_core.training import TrainResult
from churn_core.validate import ValidationReport

__all__ = ["Analysis", "CheckResult"]


@dataclass(frozen=True)
class CheckResult:
    """A file read, typed and validated."""

    read: ReadResult | None
    schema: Schema
    report: ValidationReport
    dataset: Dataset

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem: reading, schema and validation, in that order."""
        first = self.read.problems if self.read else ()
        return tuple(first) + tuple(self.report.problems)

    @property
    def usable(self) -> bool:
        """True when nothing blocks training."""
        return not has_errors(self.problems)


@dataclass(frozen=True)
class Analysis:
    """A trained model, the customers to act on, their reasons, and the chosen threshold.

    Attributes
    ----------
    dataset : Dataset
        The labelled history (and, in a customer table, the current customers too).
    result : TrainResult
        Shipped model, out-of-fold scores, leaderboard.
    X, scores : every dataset row through the shipped preprocessor, and its honest score
        (out of fold where labelled).
    curve : ThresholdCurve
        Out-of-fold scores against the labels: what each threshold caught in the past.
    population : Population
        The customers to act on.
    segments, segment_labels, population_segments : the segment model, the segment of
        every dataset row and of every customer to act on.
    explanation : Explanation
        SHAP values and reasons of the customers to act on (index = population position).
    threshold : ThresholdChoice
    reference_profile : dict or None
        The drift reference of the training rows
        (:func:`churn_core.monitor.profile.training_reference`), computed while training
        explained; None: computed when a bundle is made.
    """

    dataset: Dataset
    result: TrainResult
    X: pd.DataFrame
    scores: np.ndarray
    curve: ThresholdCurve
    population: Population
    segments: SegmentModel | None
    segment_labels: np.ndarray
    population_segments: np.ndarray
    explanation: Explanation
    threshold: ThresholdChoice
    feature_labels: Mapping[str, str] = field(default_factory=dict)
    reference_profile: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def segment_names(self) -> np.ndarray:
        """Segment name of every dataset row ('' without segments)."""
        return self._names(self.segment_labels)

    @property
    def population_segment_names(self) -> np.ndarray:
        """Segment name of every customer to act on."""
        return self._names(self.population_segments)

    def _names(self, labels: np.ndarray) -> np.ndarray:
        if self.segments is None:
            return np.full(len(labels), "", dtype=object)
        return np.asarray(self.segments.names, dtype=object)[labels]

    def metrics(self) -> dict[str, Any]:
        """Scalar out-of-fold (and backtest) figures for summaries and the manifest."""
        r = self.result

        def known(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        out = {**r.evaluation.summary(), "cv_roc_auc": known(r.cv_auc),
               "cv_roc_auc_std": known(r.cv_auc_std), "baseline_roc_auc": known(r.baseline_auc),
               "champion": r.champion, "rows_labelled": int(r.rows.size),
               "folds": int(r.folds.max()) + 1 if r.folds.size else 0,
               "customers_to_act_on": len(self.population), "device": r.device,
               "evaluated_on": "out-of-fold scores of every labelled row"}
        if r.backtest is not None:
            out["backtest_roc_auc"] = known(r.backtest.roc_auc)
            out["backtest_pr_auc"] = known(r.backtest.pr_auc)
        return out
