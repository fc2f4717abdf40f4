"""From a raw order/event log to churn labels and point-in-time customer features.

Typical use (the command line and the dashboard do exactly this)::

    from churn_core.events import (ChurnDefinition, build_tables, cutoff_summary,
                                   prepare_log, propose_mapping, time_split)

    mapping = propose_mapping("orders.csv.gz")            # show mapping.problems, let the user fix
    mapping = mapping.with_overrides("Country=static")    # or EventMapping.from_string("...")
    log = prepare_log("orders.csv.gz", mapping)           # one DuckDB staging, reused below
    definition = ChurnDefinition(window_days=90, active_days=365, lead_days=0)
    cutoff_summary(log, definition=definition)            # customers / churn rate per cutoff
    result = build_tables(log, definition=definition, out_dir="out/")
    split = time_split(result.training, definition=definition)   # backtest by time

API
---
``propose_mapping(source, *, overrides=None, read=None, decimal_comma=None,
timestamp_format=None, sample_size=20_000) -> EventMapping``
    Column roles from the header and a sample (names in English/Chinese/European
    languages + value checks), and how to read the file: CSV/TSV/TXT in any encoding
    :mod:`churn_core.reading.text` detects (plain or gzip), whitespace-separated text, files
    without a header line, ``.xlsx`` (sheets with one header stacked) and Parquet
    (:mod:`churn_core.events.source`). ``read`` is a :class:`churn_core.reading.table.ReadOptions`
    (encoding, delimiter, header_row, sheet) overriding detection.
``EventMapping``
    Frozen: ``customer_id, timestamp, event_type, amount, quantity, unit_price, order_id,
    product, category, rating, return_flag, static, timestamp_format, decimal_comma,
    file_format, problems`` (``return_flag``: a 1/0, yes/no or true/false column marking
    returns and cancellations); ``timestamp_format`` is a strptime format, ``epoch_s``/``epoch_ms``/
    ``epoch_us``/``epoch_ns`` (Unix times) or ``iso_utc`` (offsets converted to UTC);
    ``from_string("col=role,...")``, ``with_overrides(...)``, ``to_string()``, ``to_dict()``.
``ChurnDefinition(window_days=90, active_days=365, lead_days=0, cutoffs="auto",
min_history_days=90)``
    Active = ordered in (c - active, c]; churned = no order in (c + lead, c + lead + window].
    Cutoffs ``"auto"``, ``"monthly"``, ``"biweekly"``, ``"weekly"`` or dates.
``plan_cutoffs(first_day, last_day, definition) -> CutoffPlan``
    Which cutoffs a definition gives on a log and why: ``"auto"`` keeps month ends when
    they leave at least 3 training cutoffs for a backtest by time, else every 14 or 7 days.
``prepare_log(source, mapping, *, engine=None, drop_duplicates=True, progress=None)
-> PreparedLog``
    Stage the log once in DuckDB (optional: the functions below accept a path too).
``cutoff_summary(source, mapping=None, definition=None, *, engine=None) -> DataFrame``
    ``cutoff, active_customers, churned, churn_rate, outcome_known``.
``build_tables(source, mapping=None, definition=None, *, out_dir=None, engine=None,
drop_duplicates=True, progress=None) -> BuildResult``
    ``training`` (outcome-known cutoffs stacked, ``churned`` 0/1), ``scoring`` (as of the
    last date, no label), ``summary`` (JSON-ready), ``feature_labels``, ``problems``.
    With ``out_dir``: ``training.parquet``, ``scoring.parquet``, ``summary.json``.
``time_split(training, *, definition=None, valid_size=0.2, seed=42) -> TimeSplit``
    Latest cutoff = test; earlier cutoffs = train/valid with each customer on one side.
``EngineSettings(memory_limit="3GB", threads=None, temp_directory=None)``
    DuckDB resources; aggregation always runs in DuckDB straight from the file.

Problem codes
-------------
Errors: ``EVENTS_UNREADABLE``, ``EVENTS_UNDECODABLE``, ``EVENTS_BAD_MAPPING``,
``EVENTS_NO_CUSTOMER_ID``, ``EVENTS_NO_TIMESTAMP``, ``EVENTS_UNKNOWN_COLUMN``,
``EVENTS_NO_USABLE_ROWS``,
``EVENTS_BAD_DEFINITION``, ``EVENTS_NO_CUTOFFS``, ``EVENTS_NO_KNOWN_OUTCOME``,
``EVENTS_TOO_FEW_CUTOFFS`` (also raised when ``cutoffs="auto"`` finds the log too short
for a backtest). Warnings (lines left out, with counts): ``EVENTS_MISSING_ID``,
``EVENTS_BAD_TIMESTAMP``, ``EVENTS_MISSING_TIMESTAMP``, ``EVENTS_DUPLICATES``,
``EVENTS_ONE_CLASS``, ``EVENTS_CUTOFFS_CHOSEN`` (auto, fewer than 3 training cutoffs),
``EVENTS_NO_HEADER`` (roles guessed from values), ``ENCODING_UNCERTAIN``.
Info: ``EVENT_ROLE_DETECTED``, ``EVENT_STATIC_DETECTED``, ``EVENTS_TIMESTAMP_FORMAT``
(strptime format, Unix-time unit or UTC offsets), ``EVENTS_DECIMAL_COMMA``,
``EVENTS_PRICE_AS_AMOUNT``, ``EVENTS_SHEETS_STACKED``, and as for customer tables
``ENCODING_DETECTED``, ``DELIMITER_DETECTED``, ``HEADER_SKIPPED_LINES``, ``SHEET_CHOSEN``;
``EVENTS_RETURNS``, ``EVENTS_NO_PURCHASE_TYPE``, ``EVENTS_CUTOFFS_CHOSEN`` (the frequency
``"auto"`` chose, and why).
"""

from churn_core.events.build import BuildResult, build_tables
from churn_core.events.customer_features import feature_labels
from churn_core.events.cutoffs import CutoffPlan, plan_cutoffs
from churn_core.events.mapping import confirm_roles, propose_mapping
from churn_core.events.outcomes import TimeSplit, cutoff_summary, resolve_cutoffs, time_split
from churn_core.events.staging import EngineSettings, PreparedLog, prepare_log
from churn_core.events.types import FREQUENCIES, ROLES, ChurnDefinition, EventMapping

__all__ = [
    "FREQUENCIES", "ROLES", "BuildResult", "ChurnDefinition", "CutoffPlan", "EngineSettings",
    "EventMapping", "PreparedLog", "TimeSplit", "build_tables", "confirm_roles",
    "cutoff_summary", "feature_labels", "plan_cutoffs", "prepare_log", "propose_mapping",
    "resolve_cutoffs", "time_split",
]
