"""The facade that the command line and the dashboard call.

``load_and_check`` turns a file into a validated :class:`Dataset`;
``fit_all`` trains, segments, explains and picks a threshold;
``make_bundle`` and ``export_table`` turn an :class:`Analysis` into a model
bundle and the at-risk list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.bundle import ModelBundle
from churn_core.dataset import Dataset, prepare_dataset
from churn_core.explain import Explanation, explain
from churn_core.export import at_risk_table
from churn_core.io import ReadOptions, ReadResult, read_table
from churn_core.model import TrainConfig, TrainResult, train
from churn_core.problems import ChurnDataError, Problem, has_errors
from churn_core.schema import Schema, SchemaOverrides, infer_schema
from churn_core.segments import SegmentModel, assign_segments, fit_segments
from churn_core.splits import Splits
from churn_core.threshold import (
    Economics,
    ThresholdCurve,
    ThresholdPoint,
    capacity_floor,
    profit_at,
    risk_tiers,
)
from churn_core.validate import ValidationReport, validate

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
EXPLAIN_ALL_MAX_ROWS = 200_000


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


def check_frame(
    frame: pd.DataFrame,
    *,
    overrides: SchemaOverrides | None = None,
    confirmed: Iterable[str] = (),
    read: ReadResult | None = None,
) -> CheckResult:
    """Infer the schema, validate, and prepare the dataset of an in-memory table."""
    schema, schema_problems = infer_schema(frame, overrides=overrides)
    report = validate(frame, schema, confirmed=tuple(confirmed))
    seen = {(p.code, p.column) for p in report.problems}
    extra = [p for p in schema_problems if (p.code, p.column) not in seen]
    if extra:
        report = ValidationReport(schema=report.schema, problems=tuple(extra) + report.problems,
                                  leakage=report.leakage)
    dataset = prepare_dataset(frame, report.schema, problems=report.problems)
    return CheckResult(read=read, schema=report.schema, report=report, dataset=dataset)


def load_and_check(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    read_options: ReadOptions | None = None,
    overrides: SchemaOverrides | None = None,
    confirmed: Iterable[str] = (),
) -> CheckResult:
    """Read a file and check it in one call.

    Raises
    ------
    ChurnDataError
        When the file cannot be read at all (validation problems do not raise:
        they are in the result so the caller can show them all).
    """
    read_options = (read_options or ReadOptions()).with_id(overrides and overrides.id_column)
    read = read_table(source, name=name, options=read_options)
    return check_frame(read.frame, overrides=overrides, confirmed=confirmed, read=read)


@dataclass(frozen=True)
class Analysis:
    """A trained model with its scores, segments, explanations and threshold."""

    dataset: Dataset
    result: TrainResult
    X: pd.DataFrame
    scores: np.ndarray
    segments: SegmentModel | None
    segment_labels: np.ndarray
    explanation: Explanation
    valid_curve: ThresholdCurve
    test_curve: ThresholdCurve
    threshold: float
    threshold_method: str
    feature_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def segment_names(self) -> np.ndarray:
        """Segment name of every row ('' without segments)."""
        if self.segments is None:
            return np.full(len(self.scores), "", dtype=object)
        return np.asarray(self.segments.names, dtype=object)[self.segment_labels]

    def metrics(self) -> dict[str, Any]:
        """Scalar held-out scores for summaries and the manifest."""
        r = self.result

        def known(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {**r.test_eval.summary(), "cv_roc_auc": known(r.cv_auc),
                "cv_roc_auc_std": known(r.cv_auc_std), "baseline_roc_auc": r.baseline_auc,
                "baseline_cv_roc_auc": known(r.baseline_cv_auc),
                "rows_train": len(r.splits.train), "rows_valid": len(r.splits.valid),
                "rows_test": len(r.splits.test), "device": r.device}


def fit_all(
    dataset: Dataset,
    *,
    config: TrainConfig | None = None,
    k: int | None = None,
    feature_labels: Mapping[str, str] | None = None,
    explain_rows: str = "auto",
    splits: Splits | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Train, score every row, segment, explain and choose the F1-best threshold.

    Parameters
    ----------
    dataset : Dataset
    config : TrainConfig, optional
    k : int, optional
        Number of segments; chosen by silhouette when None.
    feature_labels : mapping, optional
        Plain-words templates per feature (from the event-log builder).
    explain_rows : {"auto", "all", "top"}
        ``auto`` explains every row up to 200k rows, else the riskiest 10 %.
    splits : Splits, optional
        Fixed train/validation/test rows (a backtest by time for event logs).
    progress : callable, optional
    """
    if dataset.schema.label_column is None:
        raise ChurnDataError([Problem(code="NO_LABEL", severity="error",
                                      message="no churn column: choose the label column first")])
    report = progress or (lambda f, m: None)
    config = config or TrainConfig()
    result = train(dataset, config=config, splits=splits, progress=lambda f, m: report(0.7 * f, m))
    X, scores = result.X, result.scores
    report(0.72, "Finding customer segments")
    segments = fit_segments(X.iloc[result.splits.train], k=k, seed=config.seed)
    labels = assign_segments(segments, X)
    report(0.8, "Explaining predictions")
    mode = explain_rows
    if mode == "auto":
        mode = "all" if len(X) <= EXPLAIN_ALL_MAX_ROWS else "top"
    rows = np.arange(len(X)) if mode == "all" else np.argsort(-scores)[: max(len(X) // 10, 1)]
    rows = np.sort(rows)
    expl = explain(result.booster, result.preprocessor, dataset.frame.iloc[rows],
                   device=result.device, labels=feature_labels, X=X.iloc[rows],
                   progress=lambda f, m: report(0.8 + 0.18 * f, m))
    y = dataset.y.to_numpy(dtype=float)
    valid_curve = ThresholdCurve(y[result.splits.valid], result.valid_scores)
    test_curve = ThresholdCurve(y[result.splits.test], result.test_scores)
    best = valid_curve.best_f1()
    report(1.0, "Analysis done")
    return Analysis(dataset=dataset, result=result, X=X, scores=scores, segments=segments,
                    segment_labels=labels, explanation=expl, valid_curve=valid_curve,
                    test_curve=test_curve, threshold=float(best.threshold),
                    threshold_method="best F1 on validation",
                    feature_labels=dict(feature_labels or {}))


def profit_threshold(analysis: Analysis, econ: Economics) -> ThresholdPoint:
    """The most profitable threshold on validation rows, scaled to every customer.

    With a capacity, the threshold is raised where needed so that no more than
    ``econ.capacity`` of the scored customers are flagged.
    """
    population = len(analysis.scores)
    best = analysis.valid_curve.best_profit(econ, population=population)
    floor = capacity_floor(analysis.scores, econ.capacity)
    if best.threshold < floor:
        profit = analysis.valid_curve.profit(econ, population=population, max_points=None)
        best = replace(analysis.valid_curve.at(floor), profit=profit_at(profit, floor))
    return best


def make_bundle(
    analysis: Analysis,
    *,
    threshold: float | None = None,
    method: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> ModelBundle:
    """Package an analysis as a :class:`ModelBundle` (threshold defaults to the analysis')."""
    r = analysis.result
    info = {"seed": r.params.get("seed"), "params": {k: v for k, v in r.params.items()},
            "device": r.device, "trees": r.best_iteration,
            "data_fingerprint": analysis.dataset.fingerprint,
            "rows": len(analysis.dataset.frame)}
    value = analysis.threshold if threshold is None else float(threshold)
    return ModelBundle(
        booster=r.booster, preprocessor=r.preprocessor, schema=analysis.dataset.schema,
        segments=analysis.segments,
        threshold={"value": value, "method": method or analysis.threshold_method,
                   "detail": dict(detail or {})},
        metrics=analysis.metrics(), feature_labels=dict(analysis.feature_labels), info=info)


def export_table(
    analysis: Analysis,
    threshold: float,
    *,
    at_risk_only: bool = True,
    medium_from: float | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The at-risk list for the analysed customers (reasons where explained).

    ``limit`` keeps only the riskiest ``limit`` rows: the same rows, in the same
    order, as the head of the whole list, without building the whole list.
    """
    scores = analysis.scores
    tiers = risk_tiers(scores, threshold, medium_from=medium_from)
    rows = np.flatnonzero(scores >= threshold) if at_risk_only else np.arange(len(scores))
    if limit is not None and rows.size > limit:
        rows = np.sort(rows[np.argsort(-scores[rows], kind="stable")[:limit]])
    # Reasons exist for explained rows; positions of the others stay empty.
    pos = analysis.X.index.get_indexer(analysis.explanation.reasons.index)
    reasons = np.full((len(scores), 3), "", dtype=object)
    reasons[pos] = analysis.explanation.reasons.to_numpy()
    picked = pd.DataFrame(reasons[rows], columns=["reason_1", "reason_2", "reason_3"])
    schema = analysis.dataset.schema
    return at_risk_table(analysis.dataset.ids.to_numpy()[rows], scores[rows], tiers[rows],
                         analysis.segment_names[rows], picked, None,
                         id_name=schema.id_column or "customer_id", at_risk_only=at_risk_only,
                         threshold=threshold)
