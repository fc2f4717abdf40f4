"""Build the labelled training table and the scoring table from an event log."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from churn_core.events.customer_features import feature_labels, features_sql
from churn_core.events.cutoffs import CutoffPlan, plan_cutoffs
from churn_core.events.outcomes import cutoff_summary, ensure_prepared, outcome_known
from churn_core.events.staging import EngineSettings, PreparedLog
from churn_core.events.types import ChurnDefinition, EventMapping
from churn_core.events.value_choice import ValueFeatureChoice, check_mode, choose_value_features
from churn_core.events.value_features import (
    VALUE_COLUMN,
    VALUE_FEATURE_LABELS,
    VALUE_HORIZON_DAYS,
    add_value_columns,
)
from churn_core.outputs import file_sha256, replace_folder, write_file, writer_lock, writing
from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress

logger = logging.getLogger(__name__)

TRAINING_FILE = "training.parquet"
SCORING_FILE = "scoring.parquet"
SUMMARY_FILE = "summary.json"
# --partitioned: the same tables as folders of Parquet files, for Dask (one training file
# per cutoff, the scoring table in parts of PART_ROWS rows)
TRAINING_FOLDER = "training"
SCORING_FOLDER = "scoring"
PART_ROWS = 1_000_000


@dataclass(frozen=True)
class BuildResult:
    """Customer tables built from an event log.

    Attributes
    ----------
    training : DataFrame
        Stacked outcome-known cutoffs: ``customer_id`` (text), ``cutoff``
        (date), features, ``churned`` (0/1).
    scoring : DataFrame
        Customers active at the last date in the data, same features, no label.
    summary : dict
        JSON-ready: source, rows read/used, ``dropped`` (reason, code, count),
        returns, definition, mapping, ``cutoffs`` (cutoff, active_customers,
        churned, churn_rate, outcome_known, used_for), ``cutoff_plan`` (frequency
        requested and used, reason, test and training cutoffs), scoring date, features.
    feature_labels : dict of str to str
        Plain-words template per feature, ``template.format(value=v)``.
    problems : list of Problem
    """

    training: pd.DataFrame
    scoring: pd.DataFrame
    summary: dict
    feature_labels: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def _fetch(log: PreparedLog, sql: str) -> pd.DataFrame:
    frame = log.con.execute(sql).df()
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["cutoff"] = pd.to_datetime(frame["cutoff"])
    return frame


def _write_parts(folder: Path, parts: list[pd.DataFrame]) -> int:
    """Write ``parts`` as ``part.N.parquet`` files of a folder replaced whole."""
    ours = [p.name for p in folder.iterdir() if p.name.startswith("part.")] \
        if folder.is_dir() else []
    with replace_folder(folder, ours=ours) as tmp:
        for i, part in enumerate(parts):
            part.to_parquet(tmp / f"part.{i}.parquet", index=False)
    return len(parts)


def _partitions(training: pd.DataFrame, scoring: pd.DataFrame) -> dict[str, list]:
    by_cutoff = [g for _, g in training.groupby("cutoff", sort=True)] or [training]
    chunks = [scoring.iloc[i:i + PART_ROWS] for i in range(0, max(len(scoring), 1), PART_ROWS)]
    return {TRAINING_FOLDER: by_cutoff, SCORING_FOLDER: chunks}


def _write(out_dir: Path, training: pd.DataFrame, scoring: pd.DataFrame, summary: dict,
           *, partitioned: bool = False) -> None:
    """Write the tables, then the summary naming their hashes; one writer at a time.

    ``partitioned`` also writes them as folders of Parquet files (``training/``, one
    file per cutoff; ``scoring/``) that ``--engine dask`` reads.

    The old summary goes first and the new one comes last, each file renamed into
    place whole: a build killed half way leaves tables without a summary (which
    training refuses), never an old summary beside new tables.
    """
    with writer_lock(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / SUMMARY_FILE).unlink(missing_ok=True)
        hashes = {}
        for name, frame in ((TRAINING_FILE, training), (SCORING_FILE, scoring)):
            with writing(out_dir / name) as tmp:
                frame.to_parquet(tmp, index=False)
                hashes[name] = file_sha256(tmp)
        if partitioned:
            summary = {**summary, "partitioned": {
                name: _write_parts(out_dir / name, parts)
                for name, parts in _partitions(training, scoring).items()}}
        else:  # folders of an earlier partitioned build would not match the new tables
            for name in (TRAINING_FOLDER, SCORING_FOLDER):
                old = out_dir / name
                if old.is_dir() and all(p.name.startswith("part.") for p in old.iterdir()):
                    shutil.rmtree(old)
        text = json.dumps({**summary, "tables": hashes}, indent=2, ensure_ascii=False,
                          default=str)
        write_file(out_dir / SUMMARY_FILE, text.encode("utf-8"))


def build_tables(source: str | Path | PreparedLog, mapping: EventMapping | None = None,
                 definition: ChurnDefinition | None = None, *, out_dir: str | Path | None = None,
                 engine: EngineSettings | None = None, drop_duplicates: bool = True,
                 value: bool = False, value_features: str | bool = "off",
                 partitioned: bool = False,
                 progress: Progress | None = None) -> BuildResult:
    """Turn an event log into a labelled training table and a scoring table.

    Parameters
    ----------
    source : path or PreparedLog
        CSV / CSV.gz / Parquet event log, or a log staged by :func:`prepare_log`.
    mapping : EventMapping
        Column roles; required when ``source`` is a path.
    definition : ChurnDefinition, optional
        Churn window, active period, lead time and cutoffs (default 90/365/0, auto).
    out_dir : str or Path, optional
        When given, writes ``training.parquet``, ``scoring.parquet`` and ``summary.json``.
    engine : EngineSettings, optional
        DuckDB memory limit, threads, spill directory.
    drop_duplicates : bool
        Drop exact duplicate lines (reported with a count).
    value : bool, default False
        Add ``customer_value`` (expected spend over the next 365 days from BG/NBD
        and Gamma-Gamma; not a feature) to the scoring table, and to the training
        table when the value features are computed. The command line and the app
        turn it on by default.
    value_features : {"auto", "keep", "off"} or bool, default "off"
        BG/NBD's probability alive and expected orders in the churn window, and the
        expected spend in it, fitted at each cutoff on data up to it
        (:mod:`churn_core.events.value_features`), as candidate features:
        ``auto`` keeps them when they improve the backtest
        (:mod:`churn_core.events.value_choice`), ``keep`` always, ``off`` never
        (``True``/``False``: keep/off). The decision and both ROC-AUC figures are
        in ``summary["value_features"]``. The command line and the app default to
        ``auto``.
    partitioned : bool, default False
        With ``out_dir``, also write the tables as folders of Parquet files
        (``training/``: one file per cutoff; ``scoring/``) for ``--engine dask``.
    progress : callable(fraction, message), optional

    Returns
    -------
    BuildResult

    Raises
    ------
    ChurnDataError
        Mapping and reading errors (see :func:`prepare_log`);
        ``EVENTS_TOO_FEW_CUTOFFS`` when automatic cutoffs find the log too short for a
        backtest by time; ``EVENTS_NO_CUTOFFS`` when no cutoff falls inside the data;
        ``EVENTS_NO_KNOWN_OUTCOME`` when no cutoff's churn window ends inside the data.
    """
    started = time.perf_counter()
    definition = definition or ChurnDefinition()

    def stage_progress(fraction: float, message: str) -> None:
        if progress:
            progress(0.5 * fraction, message)

    log = ensure_prepared(source, mapping, engine, drop_duplicates=drop_duplicates,
                          progress=stage_progress)
    plan = plan_cutoffs(log.first_day, log.last_day, definition)
    plan.raise_errors(before=log.problems)
    cutoffs = list(plan.cutoffs)
    known = sorted(c for c in cutoffs if outcome_known(c, log.last_day, definition))
    span = f"{log.first_day} to {log.last_day}"
    if not known:
        code = "EVENTS_NO_KNOWN_OUTCOME" if cutoffs else "EVENTS_NO_CUTOFFS"
        raise ChurnDataError(list(log.problems) + [Problem(
            code, "error",
            f"The log covers {span}: no cutoff has {definition.min_history_days} days of "
            f"history before it and {definition.horizon_days} days after it to see who churned.",
            action="use a shorter window, less history, or explicit cutoff dates")])
    parts = []
    for i, c in enumerate(known):
        if progress:
            progress(0.5 + 0.4 * i / len(known), f"features and labels at {c}")
        # each cutoff in customer order, cutoffs ascending: the stack is sorted as it comes
        parts.append(_fetch(log, features_sql(log, c, definition, with_label=True)))
    training = pd.concat(parts, ignore_index=True)
    del parts
    if progress:
        progress(0.9, f"features for scoring at {log.last_day}")
    scoring = _fetch(log, features_sql(log, log.last_day, definition, with_label=False))
    training, scoring, choice, value_problems = _value_columns(
        log, training, scoring, definition, value=value, mode=check_mode(value_features),
        progress=progress)
    summary = _summary(log, definition, plan, known, training, scoring)
    summary["value_features"] = choice.to_dict()
    summary["customer_value"] = {
        "column": VALUE_COLUMN if VALUE_COLUMN in scoring else None,
        "horizon_days": VALUE_HORIZON_DAYS,
        "source": "BG/NBD x Gamma-Gamma expected spend" if VALUE_COLUMN in scoring else None}
    summary["seconds"] = round(time.perf_counter() - started, 2)
    labels = feature_labels(log)
    labels |= {k: v for k, v in VALUE_FEATURE_LABELS.items() if k in training}
    summary["feature_labels"] = labels
    problems = (list(log.problems) + list(plan.problems) + _label_problems(training)
                + value_problems)
    if out_dir is not None:
        _write(Path(out_dir), training, scoring, summary, partitioned=partitioned)
    if progress:
        progress(1.0, "done")
    logger.info("built %d training rows over %d cutoffs and %d scoring rows in %.1f s",
                len(training), len(known), len(scoring), summary["seconds"])
    return BuildResult(training=training, scoring=scoring, summary=summary,
                       feature_labels=labels, problems=problems)


def _value_columns(log: PreparedLog, training: pd.DataFrame, scoring: pd.DataFrame,
                   definition: ChurnDefinition, *, value: bool, mode: str,
                   progress: Progress | None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, ValueFeatureChoice, list[Problem]]:
    """Customer value and the BG/NBD candidate features, kept when the backtest says so."""
    problems: list[Problem] = []
    if mode != "off":
        if progress:
            progress(0.91, "value models (BG/NBD, Gamma-Gamma) at each cutoff")
        training, problems = add_value_columns(log, training, definition, value=value)
        if progress:
            progress(0.94, "backtest with and without the BG/NBD features")
        choice = choose_value_features(training, mode, definition=definition)
        if not choice.kept:
            training = training.drop(columns=list(choice.columns))
    else:
        choice = choose_value_features(training, "off")
    if value or choice.kept:
        scoring, more = add_value_columns(log, scoring, definition, features=choice.kept,
                                          value=value)
        problems += more
    if VALUE_COLUMN in scoring.columns and scoring[VALUE_COLUMN].isna().all():
        # no spend model at the last date: one value for everyone is the honest fallback
        scoring = scoring.drop(columns=VALUE_COLUMN)
        training = training.drop(columns=VALUE_COLUMN, errors="ignore")
    if value and not log.has_money:
        problems.append(Problem(
            "VALUE_NO_SPEND", "info",
            "The log has no amount column, so what each customer is worth cannot be "
            "estimated: value at risk uses one value for everyone.", column=VALUE_COLUMN,
            action="map an amount column, or give a value when training"))
    return training, scoring, choice, problems


def _used_for(cutoff: date, known: bool, plan: CutoffPlan) -> str:
    if not known:
        return "not used (outcome not known yet)"
    if cutoff == plan.test_cutoff:
        return "test (backtest by time)"
    if cutoff in plan.train_cutoffs:
        return "training"
    return "not in the backtest (churn window reaches past the test cutoff)"


def _summary(log: PreparedLog, definition: ChurnDefinition, plan: CutoffPlan,
             known: list[date], training: pd.DataFrame, scoring: pd.DataFrame) -> dict:
    # the training table already holds every outcome-known cutoff's active customers and labels
    stats = (training.groupby(training["cutoff"].dt.date)["churned"].agg(["size", "sum"])
             .reindex(known, fill_value=0))
    counted = {c: (int(n), int(k)) for c, (n, k) in stats.iterrows()}
    per_cutoff = cutoff_summary(log, definition=definition, counted=counted)
    rows = [{"cutoff": r.cutoff.isoformat(), "active_customers": int(r.active_customers),
             "churned": None if pd.isna(r.churned) else int(r.churned),
             "churn_rate": None if pd.isna(r.churn_rate) else round(float(r.churn_rate), 4),
             "outcome_known": bool(r.outcome_known),
             "used_for": _used_for(r.cutoff, bool(r.outcome_known), plan)}
            for r in per_cutoff.itertuples()]
    features = [c for c in training.columns
                if c not in ("customer_id", "cutoff", "churned", VALUE_COLUMN)]
    return {
        "source": log.source_name, "first_date": log.first_day.isoformat(),
        "last_date": log.last_day.isoformat(), "rows_read": log.rows_read,
        "rows_used": log.rows_used, "dropped": list(log.dropped), "returns": log.returns,
        "definition": definition.to_dict(), "cutoff_plan": plan.to_dict(),
        "mapping": log.mapping.to_dict(),
        "cutoffs": rows, "training_rows": len(training),
        "training_churn_rate": round(float(training["churned"].mean()), 4),
        "scoring_date": log.last_day.isoformat(), "scoring_customers": len(scoring),
        "features": features,
    }


def _label_problems(training: pd.DataFrame) -> list[Problem]:
    rate = float(training["churned"].mean()) if len(training) else float("nan")
    if len(training) and rate in (0.0, 1.0):
        return [Problem(
            "EVENTS_ONE_CLASS", "warning",
            f"Every customer at every cutoff is {'churned' if rate else 'retained'} under "
            "this definition; a model cannot learn from one outcome.", column="churned",
            action="change the window or the active period")]
    return []
