"""The facade: the one front door the command line and the dashboard call.

Pages and ``ui/`` import from ``churn_core`` only this module and the chart builders
(a test enforces it), so every step a user takes has one function here, whether it is
defined here or re-exported from the module that owns it (see ``__all__``, by step).

``load_and_check`` turns a file into a validated :class:`Dataset`;
``fit_all`` trains (cross-fitted scores, leaderboard, champion refitted on every
labelled row), segments, scores the customers to act on, explains them and picks a
threshold on out-of-fold scores; ``alert_view``, ``profit_table`` and
``export_table`` say what a threshold means for those customers; ``make_bundle``
packages the shipped model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core import campaigns
from churn_core.actions import (
    DIRECTIONS,
    ActionRules,
    action_mix,
    default_rules,
    defaults_to_frame,
    load_action_rules,
    rules_from_frame,
    rules_to_frame,
    rules_to_json,
)
from churn_core.alerts import SortedScores
from churn_core.analysis import Analysis, CheckResult
from churn_core.atrisk import (
    BUILD_VALUE_COLUMN,
    CustomerValue,
    alert_view,
    customer_values,
    default_value_column,
    economics_dict,
    emp,
    export_table,
    profit_at,
    profit_band,
    profit_sensitivity,
    profit_table,
    profit_threshold,
    sorted_scores,
    top_n_threshold,
    value_share,
)
from churn_core.bundle import ModelBundle, bundle_to_zip, load_bundle_bytes
from churn_core.campaigns.uplift import learn_from_campaign, rank_by_uplift
from churn_core.dataset import Dataset, prepare_dataset
from churn_core.eda import (
    churn_rate_by,
    column_summary,
    distribution_by_label,
    label_correlation,
    missingness,
)
from churn_core.evaluate import quality_verdict
from churn_core.events import (
    FREQUENCIES,
    ROLES,
    ChurnDefinition,
    EventMapping,
    build_tables,
    confirm_roles,
    cutoff_summary,
    plan_cutoffs,
    prepare_log,
)
from churn_core.events.guarded import propose_mapping_guarded
from churn_core.events.modeling import (
    backtest_splits,
    definition_from_summary,
    event_overrides,
    is_event_table,
)
from churn_core.events.spill import is_upload_file, upload_file
from churn_core.events.value_choice import MODES as VALUE_FEATURE_MODES
from churn_core.events.value_choice import describe as value_features_note
from churn_core.explain import explain, feature_label, global_importance, row_waterfall
from churn_core.explain_points import (
    PointContributions,
    point_importance,
    row_points,
    to_points,
)
from churn_core.export import id_secret_from_env, pseudonymise, to_csv_bytes
from churn_core.features import transform
from churn_core.leaderboard import SHORT_NAMES, leaderboard_records
from churn_core.model import TrainConfig, detect_device
from churn_core.monitor.drift import DriftReport
from churn_core.monitor.profile import training_reference
from churn_core.monitor.runs import (
    ensure_schema,
    find_run,
    history_frame,
    list_retrain,
    list_runs,
)
from churn_core.population import Population, from_scoring_table, from_table
from churn_core.problems import (
    ChurnDataError,
    InvalidSetting,
    Problem,
    has_errors,
    problems_frame,
    setting_problem,
)
from churn_core.progress import Progress
from churn_core.reading.guarded import read_table_guarded
from churn_core.reading.table import ReadOptions, ReadResult, read_table
from churn_core.schema import COLUMN_TYPES, SchemaOverrides, infer_schema
from churn_core.score import score_frame
from churn_core.segments import (
    K_RANGE,
    SegmentModel,
    SegmentReport,
    assign_segments,
    check_k,
    fit_segments,
    projection,
    segment_profile,
    segment_summary,
    segment_table,
)
from churn_core.segments.apply import (
    resegment,
    segment_columns,
    segment_customers,
    segment_report,
)
from churn_core.segments.behaviour import check_chosen
from churn_core.splits import Splits
from churn_core.store import default_store_path, open_store
from churn_core.threshold import (
    Economics,
    ThresholdChoice,
    ThresholdCurve,
    break_even_probability,
    medium_floor,
)
from churn_core.training import TrainResult, train
from churn_core.validate import ValidationReport, validate

#: The front door, by step. Everything a page, ``ui/`` or the command line needs.
__all__ = [
    # problems, settings, progress
    "ChurnDataError", "Progress", "InvalidSetting", "Problem", "has_errors", "problems_frame",
    "setting_problem",
    # read and check a customer table
    "COLUMN_TYPES", "CheckResult", "ReadOptions", "ReadResult", "SchemaOverrides",
    "check_frame", "load_and_check", "read_table_guarded",
    # explore
    "churn_rate_by", "column_summary", "distribution_by_label", "label_correlation",
    "missingness",
    # event logs
    "FREQUENCIES", "ROLES", "ChurnDefinition", "EventMapping", "build_splits", "build_tables",
    "confirm_roles", "cutoff_summary", "event_overrides", "is_built_table", "is_upload_file",
    "plan_cutoffs", "prepare_log", "propose_mapping_guarded", "upload_file",
    "VALUE_FEATURE_MODES", "value_features_note",
    # train, judge, explain
    "Analysis", "SHORT_NAMES", "TrainConfig", "detect_device", "fit_all", "global_importance",
    "quality_verdict", "row_waterfall",
    # explanations in percentage points of churn probability
    "PointContributions", "feature_label", "point_importance", "row_points", "to_points",
    # segments
    "K_RANGE", "SegmentModel", "SegmentReport", "projection", "resegment", "segment_columns",
    "segment_customers", "segment_profile", "segment_report", "segment_summary",
    "segment_table",
    # threshold, money and the at-risk list
    "BUILD_VALUE_COLUMN", "CustomerValue", "Economics", "SortedScores", "ThresholdChoice",
    "alert_view", "break_even_probability",
    "customer_values", "default_value_column", "economics_dict", "emp", "export_table",
    "profit_at", "profit_band",
    "profit_sensitivity", "profit_table", "profit_threshold", "sorted_scores",
    "top_n_threshold", "value_share",
    # actions
    "DIRECTIONS", "ActionRules", "action_mix", "default_rules", "defaults_to_frame",
    "load_action_rules", "rules_from_frame", "rules_to_frame", "rules_to_json",
    # export, bundle, scoring
    "bundle_to_zip", "id_secret_from_env", "load_bundle_bytes", "make_bundle", "pseudonymise",
    "score_frame", "to_csv_bytes",
    # campaigns and monitoring
    "DriftReport", "campaigns", "default_store_path", "ensure_schema", "find_run",
    "history_frame", "learn_from_campaign", "list_retrain", "list_runs", "open_store",
    "rank_by_uplift",
]

log = logging.getLogger(__name__)

EXPLAIN_ALL_MAX_ROWS = 200_000
REASONS = ("reason_1", "reason_2", "reason_3")


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
        reference_profile=training_reference(analysis))


def is_built_table(frame: pd.DataFrame) -> bool:
    """True when ``frame`` is a training table written by the event-log builder."""
    return is_event_table(frame)


def build_splits(check: CheckResult, summary: Mapping[str, Any] | None, *,
                 seed: int = 42) -> Splits | None:
    """The backtest by time of a table built from an event log (None for other tables).

    Test = the latest cutoff whose outcome is known; training cutoffs whose churn window
    reaches past it are dropped (the definition comes from the build's ``summary``).
    """
    frame = check.dataset.frame
    if not (is_event_table(frame) and check.usable and check.schema.label_column):
        return None
    return backtest_splits(frame, definition=definition_from_summary(summary), seed=seed,
                           labelled=check.dataset.y.notna().to_numpy())


