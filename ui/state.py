"""Session-state keys, their defaults, and starting over with a new table.

Every value shared between pages lives in ``st.session_state`` under a key
named in :class:`StateKeys`; widget keys (prefix ``w_``) are listed there too
so that no page invents its own string. Derived results are dropped whenever
the dataset (or its schema) changes, so no page ever shows a model trained on
other data. What the buttons write lives in :mod:`ui.flows`; page guards in
:mod:`ui.guards`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "sample_data" / "customers.csv"


class StateKeys:
    """Names of every session-state entry used by the app."""

    # the current customer table
    SOURCE_BYTES = "source_bytes"          # bytes of the uploaded file (re-read on overrides)
    SOURCE_NAME = "source_name"            # file name as uploaded (shown as text only)
    SOURCE_ID = "source_id"                # uploader file id / "sample" / "events:<n>"
    UPLOAD_SEEN = "upload_seen"            # file id of the last upload already loaded
    SOURCE_FRAME = "source_frame"          # in-memory table (event-log builds), else None
    READ_OPTIONS = "read_options"          # pipeline.ReadOptions or None
    OVERRIDES = "overrides"                # pipeline.SchemaOverrides or None
    CONFIRMED = "confirmed"                # tuple of columns confirmed as not leaking
    CHECK = "check"                        # pipeline.CheckResult of the current table
    LOAD_PROBLEMS = "load_problems"        # problems of a failed load (list of Problem)
    FEATURE_LABELS = "feature_labels"      # plain-words templates (event-log builds)
    DATASET_KEY = "dataset_key"            # fingerprint + schema hash of CHECK
    SAMPLE_AUTOLOADED = "sample_autoloaded"
    # the model
    ANALYSIS = "analysis"                  # pipeline.Analysis
    MODEL_KEY = "model_key"                # cache key of ANALYSIS (dataset key + counter)
    MODEL_COUNTER = "model_counter"
    TRAIN_LOG = "train_log"                # progress messages of the last training
    TRAIN_PROBLEMS = "train_problems"
    SORTED_SCORES = "sorted_scores"        # alerts.SortedScores of the customers to act on
    # segments (before and after training)
    SEGMENT_CHOICE = "segment_choice"      # flows.segments.SegmentChoice (columns, k) or None
    SEGMENTS = "segments"                  # flows.segments.SegmentsView shown on the page
    SEGMENT_PROBLEMS = "segment_problems"  # problems of the last failed segmentation
    # threshold and money
    THRESHOLD = "threshold"                # threshold.ThresholdChoice in use (value, method)
    ECONOMICS = "economics"                # threshold.Economics
    PROFIT = "profit"                      # flows.alerts.ProfitView (economics, table, best)
    VALUE_CHOICE = "value_choice"          # flows.alerts.ValueChoice (what customers are worth)
    PROFIT_BAND = "profit_band"            # flows.alerts.BandView (bootstrap band, tornado)
    AT_RISK = "at_risk"                    # flows.alerts.ListPreview (model key, riskiest rows)
    ACTION_RULES = "action_rules"          # pipeline.ActionRules in force (None = built-in)
    ACTION_RULES_BASE = "action_rules_base"  # the rules the rules editors started from
    ACTION_RULES_PROBLEMS = "action_rules_problems"  # problems of a bad rules upload (or None)
    # scoring
    BUNDLE = "bundle"                      # bundle.ModelBundle loaded on the Score page
    BUNDLE_ID = "bundle_id"
    SCORE_RESULT = "score_result"          # flows.score.ScoreRun (read problems, scores)
    SCORE_ID = "score_id"
    SCORE_PROBLEMS = "score_problems"      # problems of the file that failed (list of Problem)
    SCORE_FAILURE = "score_failure"        # flows.score.FileFailure: bundle or data, its name
    # event log
    EVENTS_PATH = "events_path"            # temp file holding the uploaded log
    EVENTS_ID = "events_id"
    EVENTS_MAPPING = "events_mapping"      # flows.events.MappingProposal
    EVENTS_LOG = "events_log"              # events.PreparedLog (DuckDB staging)
    EVENTS_SUMMARY = "events_summary"      # flows.events.CutoffCounts
    EVENTS_BUILD = "events_build"          # events.BuildResult
    EVENTS_PROBLEMS = "events_problems"
    # campaigns
    CAMPAIGN_STORE = "campaign_store"      # store file path; None = store.default_store_path()
    CAMPAIGN_STARTED = "campaign_started"  # campaigns.CampaignPlan of the last start, or None
    CAMPAIGN_PROBLEMS = "campaign_problems"  # problems of the last failed start
    OUTCOME_RESULT = "outcome_result"      # campaigns.OutcomeUpload of the last upload
    OUTCOME_PROBLEMS = "outcome_problems"  # problems of the last failed upload
    UPLIFT = "uplift"                      # campaign_widgets.UpliftView (campaign, model, result)
    UPLIFT_PROBLEMS = "uplift_problems"    # problems of the last failed uplift learning
    # widget keys
    W_UPLOAD = "w_upload"
    W_THRESHOLD = "w_threshold"
    W_VALUE = "w_value_retained"
    W_OFFER = "w_offer_cost"
    W_SUCCESS = "w_success_rate"
    W_CONTACT = "w_contact_cost"
    W_CAPACITY = "w_capacity"
    W_BUDGET = "w_budget"
    W_CURRENCY = "w_currency"
    W_VALUE_SOURCE = "w_value_source"
    W_RANK_BY = "w_rank_by"
    W_PSEUDONYMISE = "w_pseudonymise"
    W_PERIOD = "w_period"
    W_QUICK = "w_quick_training"
    W_SEGMENT_K = "w_segment_k"
    W_SEGMENT_FEATURES = "w_segment_features"
    W_EXPLORE_SEGMENTS = "w_explore_segments"  # Explore page: break churn down by segment
    W_EXPLORE_COLUMN = "w_explore_column"
    W_DEPENDENCE = "w_dependence_feature"
    W_CUSTOMER = "w_customer"
    W_BUNDLE_UPLOAD = "w_bundle_upload"
    W_SCORE_UPLOAD = "w_score_upload"
    W_EVENTS_UPLOAD = "w_events_upload"
    W_VALUE_FEATURES = "w_value_features"  # Events page: BG/NBD features auto/keep/off
    W_ACTION_RULES = "w_action_rules"      # prefix of the action-rules editors' keys
    W_CAMPAIGN_NAME = "w_campaign_name"
    W_CAMPAIGN_HOLDOUT = "w_campaign_holdout"
    W_CAMPAIGN_PICK = "w_campaign_pick"
    W_OUTCOME_UPLOAD = "w_outcome_upload"
    W_MONITOR_MODEL = "w_monitor_model"    # Monitor page: which model's runs
    W_MONITOR_RUN = "w_monitor_run"        # Monitor page: which run to show in detail


DEFAULTS: dict[str, Any] = {
    StateKeys.SOURCE_BYTES: None, StateKeys.SOURCE_NAME: None, StateKeys.SOURCE_ID: None,
    StateKeys.UPLOAD_SEEN: None, StateKeys.SOURCE_FRAME: None, StateKeys.READ_OPTIONS: None,
    StateKeys.OVERRIDES: None, StateKeys.CONFIRMED: (), StateKeys.CHECK: None,
    StateKeys.LOAD_PROBLEMS: None, StateKeys.FEATURE_LABELS: {}, StateKeys.DATASET_KEY: None,
    StateKeys.SAMPLE_AUTOLOADED: False, StateKeys.ANALYSIS: None, StateKeys.MODEL_KEY: None,
    StateKeys.MODEL_COUNTER: 0, StateKeys.TRAIN_LOG: [], StateKeys.TRAIN_PROBLEMS: None,
    StateKeys.SORTED_SCORES: None, StateKeys.SEGMENT_CHOICE: None, StateKeys.SEGMENTS: None,
    StateKeys.SEGMENT_PROBLEMS: None, StateKeys.THRESHOLD: None, StateKeys.VALUE_CHOICE: None,
    StateKeys.PROFIT_BAND: None,
    StateKeys.ECONOMICS: None, StateKeys.PROFIT: None,
    StateKeys.AT_RISK: None, StateKeys.BUNDLE: None,
    StateKeys.BUNDLE_ID: None, StateKeys.SCORE_RESULT: None, StateKeys.SCORE_ID: None,
    StateKeys.SCORE_PROBLEMS: None, StateKeys.SCORE_FAILURE: None,
    StateKeys.EVENTS_PATH: None, StateKeys.EVENTS_ID: None,
    StateKeys.EVENTS_MAPPING: None, StateKeys.EVENTS_LOG: None, StateKeys.EVENTS_SUMMARY: None,
    StateKeys.EVENTS_BUILD: None, StateKeys.EVENTS_PROBLEMS: None,
    StateKeys.ACTION_RULES: None, StateKeys.ACTION_RULES_BASE: None,
    StateKeys.ACTION_RULES_PROBLEMS: None,
    StateKeys.CAMPAIGN_STORE: None, StateKeys.CAMPAIGN_STARTED: None,
    StateKeys.CAMPAIGN_PROBLEMS: None, StateKeys.OUTCOME_RESULT: None,
    StateKeys.OUTCOME_PROBLEMS: None, StateKeys.UPLIFT: None, StateKeys.UPLIFT_PROBLEMS: None,
}

# Everything computed from the current table: dropped when the table or its schema changes.
DATASET_DEPENDENTS = (
    StateKeys.ANALYSIS, StateKeys.MODEL_KEY, StateKeys.TRAIN_LOG, StateKeys.TRAIN_PROBLEMS,
    StateKeys.SORTED_SCORES, StateKeys.THRESHOLD, StateKeys.PROFIT, StateKeys.VALUE_CHOICE,
    StateKeys.PROFIT_BAND,
    StateKeys.AT_RISK, StateKeys.SEGMENT_CHOICE, StateKeys.SEGMENTS, StateKeys.SEGMENT_PROBLEMS,
)
WIDGET_DEPENDENTS = (StateKeys.W_THRESHOLD, StateKeys.W_CUSTOMER, StateKeys.W_DEPENDENCE,
                     StateKeys.W_EXPLORE_COLUMN, StateKeys.W_SEGMENT_K,
                     StateKeys.W_SEGMENT_FEATURES, StateKeys.W_EXPLORE_SEGMENTS)


def init_state() -> None:
    """Set every key to its default where it is not set yet."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, list | dict) else value


def get(key: str) -> Any:
    """Return a state value (its default when the key was never set)."""
    return st.session_state.get(key, DEFAULTS.get(key))


def put(key: str, value: Any) -> None:
    """Set a state value."""
    st.session_state[key] = value


def clear_dataset_dependents() -> None:
    """Forget the model, threshold and every widget tied to the old table."""
    for key in DATASET_DEPENDENTS:
        value = DEFAULTS[key]
        st.session_state[key] = value.copy() if isinstance(value, list | dict) else value
    for key in WIDGET_DEPENDENTS:
        st.session_state.pop(key, None)


def dataset_key(check: Any) -> str:
    """Cache key of a checked table: data fingerprint plus a hash of its final schema."""
    schema = json.dumps(check.dataset.schema.to_dict(), sort_keys=True, default=str)
    return f"{check.dataset.fingerprint}:{hashlib.sha256(schema.encode()).hexdigest()[:16]}"


def new_source(*, data: bytes | None, name: str, source_id: str, frame: Any = None,
               feature_labels: dict[str, str] | None = None) -> None:
    """Start over with a new file (or in-memory table): reset reading and schema choices."""
    put(StateKeys.SOURCE_BYTES, data)
    put(StateKeys.SOURCE_NAME, name)
    put(StateKeys.SOURCE_ID, source_id)
    put(StateKeys.SOURCE_FRAME, frame)
    put(StateKeys.READ_OPTIONS, None)
    put(StateKeys.OVERRIDES, None)
    put(StateKeys.CONFIRMED, ())
    put(StateKeys.FEATURE_LABELS, dict(feature_labels or {}))
    put(StateKeys.CHECK, None)
    put(StateKeys.DATASET_KEY, None)
    clear_dataset_dependents()
