"""Training as a user asks for it: the model, the customers to act on, their segments,
reasons and threshold (:func:`fit_all`), and the bundle that ships it (:func:`make_bundle`).

:func:`fit_all` trains (:func:`churn_core.training.train`: cross-fitted scores, the
leaderboard, the champion refitted on every labelled row), then finds the customers to
act on (:mod:`churn_core.population`), fits the segments on the training rows, explains
the customers to act on and chooses the balanced threshold on out-of-fold scores; the
drift reference of the training rows is profiled meanwhile, in a thread.
:mod:`churn_core.pipeline` re-exports both functions as the front door.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from churn_core.analysis import Analysis
from churn_core.atrisk import BUILD_VALUE_COLUMN
from churn_core.bundle import ModelBundle
from churn_core.dataset import Dataset
from churn_core.explain import explain
from churn_core.features import transform
from churn_core.leaderboard import leaderboard_records
from churn_core.model import TrainConfig
from churn_core.monitor.profile import reference_of_training, training_reference
from churn_core.population import Population, from_scoring_table, from_table
from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress
from churn_core.segments import SegmentModel, assign_segments, check_k, fit_segments
from churn_core.segments.behaviour import check_chosen
from churn_core.splits import Splits
from churn_core.threshold import ThresholdChoice, ThresholdCurve, medium_floor
from churn_core.training import TrainResult, train

__all__ = ["BALANCED", "EXPLAIN_ALL_MAX_ROWS", "fit_all", "make_bundle"]

log = logging.getLogger(__name__)

#: Customers to act on up to which training explains every one (above: see ``fit_all``).
EXPLAIN_ALL_MAX_ROWS = 200_000

# what a manager reads on Alerts and Score ("best F1" is the rule behind it)
BALANCED = "Balanced (catches churners without too many false alarms)"


def _population(dataset: Dataset, result: TrainResult, scoring: pd.DataFrame | None,
                as_of: str | None) -> Population:
    if scoring is None:
        return from_table(dataset, result.X, result.scores)
    X, _ = transform(result.preprocessor, scoring)
    id_col = dataset.schema.id_column
    ids = scoring[id_col] if id_col in scoring.columns else pd.Series(
        [f"row {i + 1}" for i in range(len(scoring))])
    value = scoring[BUILD_VALUE_COLUMN].to_numpy(dtype=float) \
        if BUILD_VALUE_COLUMN in scoring.columns else None
    return from_scoring_table(ids, X, result.predict(X), as_of=as_of, value=value)


def _segments(X: pd.DataFrame, dataset: Dataset, result: TrainResult, population: Population,
              *, k: int | None, features: Sequence[str] | None, seed: int,
              feature_labels: Mapping[str, str] | None
              ) -> tuple[SegmentModel | None, np.ndarray, np.ndarray]:
    """Segments fitted on the training rows; every row and customer to act on assigned.
    A table where no column varies trains without segments (a user's own pick of
    columns or k that cannot work is refused)."""
    try:
        model = fit_segments(X.iloc[result.rows], features=features, k=k,
                             y=dataset.y.to_numpy(dtype=float)[result.rows], seed=seed,
                             labels=feature_labels)
    except ChurnDataError as exc:
        if features or k or any(p.code != "SEGMENTS_NO_VARIATION" for p in exc.problems):
            raise
        log.warning("no segments: %s", exc.problems[0].message)
        return None, np.zeros(len(X), dtype=np.int64), np.zeros(len(population), dtype=np.int64)
    labels = assign_segments(model, X)
    pop_labels = labels[population.rows] if population.rows is not None else \
        assign_segments(model, population.X)
    return model, labels, pop_labels


def fit_all(
    dataset: Dataset,
    *,
    config: TrainConfig | None = None,
    k: int | None = None,
    segment_features: Sequence[str] | None = None,
    feature_labels: Mapping[str, str] | None = None,
    explain_rows: str = "auto",
    splits: Splits | None = None,
    scoring: pd.DataFrame | None = None,
    as_of: str | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Train, score the customers to act on, segment, explain and choose a threshold.

    Parameters
    ----------
    dataset : Dataset
    config : TrainConfig, optional
    k : int, optional
        Number of segments; None = chosen (3..8, see ``segments.choice``).
    segment_features : sequence of str, optional
        Columns to segment on; default: the behaviour columns (recency, frequency,
        money, tenure) of ``segments.behaviour``.
    feature_labels : mapping, optional
        Plain-words templates per feature (from the event-log builder).
    explain_rows : {"auto", "all", "top"}
        Customers to act on that get reasons: ``auto`` explains all of them up to
        200k, else (``top``) the riskiest 10 % and those at risk at the default threshold;
        the at-risk list computes any other listed customer's reasons when it needs them.
    splits : Splits, optional
        A backtest by time (event-log tables), reported beside the cross-validation.
    scoring : DataFrame, optional
        The customers to act on when they are not rows of ``dataset`` (an event-log
        build's scoring table, one row per customer); default: the rows of
        ``dataset`` whose label says not churned or is blank.
    as_of : str, optional
        The date ``scoring`` describes.
    progress : callable, optional

    Raises
    ------
    ChurnDataError
        ``NO_LABEL`` without a churn column; ``NO_CURRENT_CUSTOMERS`` when every row
        churned and no scoring table is given.
    """
    if dataset.schema.label_column is None:
        raise ChurnDataError([Problem(code="NO_LABEL", severity="error",
                                      message="no churn column: choose the label column first")])
    if segment_features:  # a segmentation request that cannot work fails before training
        check_chosen(segment_features, dataset.schema.features)
    check_k(k)
    report = progress or (lambda f, m: None)
    config = config or TrainConfig()
    result = train(dataset, config=config, splits=splits, progress=lambda f, m: report(0.8 * f, m))
    # The drift reference is profiled in a thread while the customers are segmented and
    # explained (its sorts release the GIL; 1M rows: 4.1 s for both instead of 5.4 s).
    with ThreadPoolExecutor(1, thread_name_prefix="churn-reference") as pool:
        reference = pool.submit(reference_of_training, result, dataset.frame)
        analysis = _analyse(dataset, result, config, k=k, segment_features=segment_features,
                            feature_labels=feature_labels, explain_rows=explain_rows,
                            scoring=scoring, as_of=as_of, report=report)
        return dataclasses.replace(analysis, reference_profile=reference.result())


def _analyse(dataset: Dataset, result: TrainResult, config: TrainConfig, *, k: int | None,
             segment_features: Sequence[str] | None, feature_labels: Mapping[str, str] | None,
             explain_rows: str, scoring: pd.DataFrame | None, as_of: str | None,
             report: Progress) -> Analysis:
    """What :func:`fit_all` does after training: the customers to act on, their segments
    and reasons, and the balanced threshold."""
    X = result.X
    population = _population(dataset, result, scoring, as_of)
    report(0.82, "Finding customer segments")
    segments, labels, pop_labels = _segments(X, dataset, result, population, k=k,
                                             features=segment_features, seed=config.seed,
                                             feature_labels=feature_labels)
    y = dataset.y.to_numpy(dtype=float)
    curve = ThresholdCurve(y[result.rows], result.oof)
    best = curve.best_f1()
    mode = explain_rows
    if mode == "auto":
        mode = "all" if len(population) <= EXPLAIN_ALL_MAX_ROWS else "top"
    n = len(population)
    # "top": the riskiest tenth and every customer at risk at the default threshold (the
    # list the command line writes); atrisk.listed_reasons explains any other listed row
    rows = np.arange(n) if mode == "all" else np.union1d(
        np.argsort(-population.scores, kind="stable")[: max(n // 10, 1)],
        np.flatnonzero(population.scores >= best.threshold))
    report(0.86, f"Explaining {rows.size:,} of the {n:,} customers to act on")
    expl = explain(result.booster, result.preprocessor, population.X.iloc[rows],
                   device=result.device, labels=feature_labels, X=population.X.iloc[rows],
                   linear=result.linear, progress=lambda f, m: report(0.86 + 0.12 * f, m))
    report(1.0, "Analysis done")
    return Analysis(dataset=dataset, result=result, X=X, scores=result.scores, curve=curve,
                    population=population, segments=segments, segment_labels=labels,
                    population_segments=pop_labels, explanation=expl,
                    threshold=ThresholdChoice(float(best.threshold), BALANCED,
                                              {"f1": best.f1}),
                    feature_labels=dict(feature_labels or {}))


def make_bundle(analysis: Analysis, *, threshold: ThresholdChoice | None = None,
                capacity: int | None = None,
                value_features: Mapping[str, Any] | None = None) -> ModelBundle:
    """Package an analysis as a :class:`ModelBundle` with the threshold actually in use.

    ``value_features``: an event-log build's decision on the BG/NBD features
    (``summary["value_features"]``), kept in the manifest's metrics.
    """
    r = analysis.result
    choice = threshold or analysis.threshold
    detail = {**choice.detail, "medium_from": medium_floor(choice.value)}
    if capacity:
        detail["capacity"] = int(capacity)
    info = {"seed": r.params.get("seed"), "params": dict(r.params), "device": r.device,
            "trees": r.trees, "fold_trees": list(r.fold_trees),
            "data_fingerprint": analysis.dataset.fingerprint,
            "rows": len(analysis.dataset.frame), "rows_labelled": int(r.rows.size)}
    return ModelBundle(
        booster=r.booster, preprocessor=r.preprocessor, schema=analysis.dataset.schema,
        segments=analysis.segments,
        threshold={"value": float(choice.value), "method": choice.method, "detail": detail},
        metrics={**analysis.metrics(),
                 **({"value_features": dict(value_features)} if value_features else {})},
        feature_labels=dict(analysis.feature_labels), info=info,
        champion=r.champion, linear=r.linear, calibration=r.calibration,
        leaderboard=leaderboard_records(r.leaderboard),
        reference_profile=analysis.reference_profile if analysis.reference_profile is not None
        else training_reference(analysis))
