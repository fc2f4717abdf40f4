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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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
from churn_core.bundle import bundle_to_zip, load_bundle_bytes
from churn_core.campaigns.uplift import learn_from_campaign, rank_by_uplift
from churn_core.dataset import prepare_dataset
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
from churn_core.explain import feature_label, global_importance, row_waterfall
from churn_core.explain_points import (
    PointContributions,
    point_importance,
    row_points,
    to_points,
)
from churn_core.export import id_secret_from_env, pseudonymise, to_csv_bytes
from churn_core.fitting import fit_all, make_bundle
from churn_core.leaderboard import SHORT_NAMES
from churn_core.model import TrainConfig, detect_device
from churn_core.monitor.drift import DriftReport
from churn_core.monitor.runs import (
    ensure_schema,
    find_run,
    history_frame,
    list_retrain,
    list_runs,
)
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
from churn_core.splits import Splits
from churn_core.store import default_store_path, open_store
from churn_core.threshold import (
    Economics,
    ThresholdChoice,
    break_even_probability,
)
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


