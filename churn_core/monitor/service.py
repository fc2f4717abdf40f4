"""One monitoring pass: score, measure drift, estimate performance, diff, store.

This is the front door that the command line and the dashboard call.

Drift reference, in order of preference: the profile saved in the model bundle
(manifest key ``reference_profile``), a reference table given by the caller
(usually the training data; features only, since a model's scores on its own
training rows are more extreme than on any fresh data), and the first run of the
model in the store (stored as the model's reference at that run).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.bundle import MANIFEST_FILE, MAX_MANIFEST_BYTES, ModelBundle
from churn_core.dataset import fingerprint_frame
from churn_core.labels import encode_label
from churn_core.monitor.diff import RunDiff, diff_runs
from churn_core.monitor.drift import DriftConfig, DriftReport, compare
from churn_core.monitor.estimate import Performance, estimate_performance, realised_performance
from churn_core.monitor.outcomes import label_info
from churn_core.monitor.profile import (
    categorical_columns,
    check_profile,
    feature_view,
    reference_profile,
)
from churn_core.monitor.report import alerts_of, score_summary
from churn_core.monitor.runs import (
    StoredRun,
    ensure_schema,
    find_run,
    get_reference,
    load_scores,
    previous_run,
    put_reference,
    run_id_for,
    save_run,
)
from churn_core.progress import Progress
from churn_core.score import align_columns, score_frame

log = logging.getLogger(__name__)

MANIFEST_KEY = "reference_profile"
EXPLAIN_ALL_MAX_ROWS = 200_000


@dataclass(frozen=True)
class MonitorResult:
    """A monitoring run as stored, with what needs attention.

    Attributes
    ----------
    run : StoredRun
    reused : bool
        The same model had already scored the same data: nothing was recomputed.
    report : dict
        The JSON report (also ``run.summary``).
    alerts : tuple of str
        Reasons for attention; empty means nothing to report.
    drift : DriftReport or None
    diff : RunDiff or None
        None for a reused run or the model's first run.
    """

    run: StoredRun
    reused: bool
    report: dict[str, Any]
    alerts: tuple[str, ...]
    drift: DriftReport | None
    diff: RunDiff | None


def model_hash(bundle: ModelBundle) -> str:
    """SHA-256 of the booster's UBJ bytes (what ``manifest.json`` records as model_sha256)."""
    return hashlib.sha256(bytes(bundle.booster.save_raw(raw_format="ubj"))).hexdigest()


def manifest_reference(path: str | Path) -> dict[str, Any] | None:
    """The ``reference_profile`` saved in a bundle's manifest (directory or zip), if any."""
    p = Path(path)
    try:
        if p.is_dir():
            raw = (p / MANIFEST_FILE).read_bytes()[: MAX_MANIFEST_BYTES + 1]
        else:
            with zipfile.ZipFile(p) as zf:
                raw = zf.read(MANIFEST_FILE)[: MAX_MANIFEST_BYTES + 1]
        profile = json.loads(raw.decode("utf-8")).get(MANIFEST_KEY)
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError,
            AttributeError):
        return None
    if profile is None:
        return None
    try:
        check_profile(profile)
        if not isinstance(profile.get("columns"), dict):
            raise ValueError("it lists no columns")
    except ValueError as exc:
        log.warning("the bundle's reference profile is not usable (%s); ignoring it", exc)
        return None
    return profile


def _scores_table(table: pd.DataFrame) -> pd.DataFrame:
    id_col = table.columns[0]
    return pd.DataFrame({"customer_id": table[id_col].astype(str),
                         "score": table["churn_probability"].astype(float),
                         "tier": table["risk_tier"].astype(str),
                         "at_risk": table["at_risk"].astype(bool),
                         **{c: table[c].fillna("").astype(str)
                            for c in ("reason_1", "reason_2", "reason_3")}})


def _matched_by(bundle: ModelBundle, frame: pd.DataFrame) -> str:
    """How customers are matched between runs: by id, or (without one) by row position."""
    col = bundle.schema.id_column
    if col and col in frame.columns:
        return f"id column {col!r}"
    log.warning("no id column %r in the data: runs are compared row by row", col)
    return "row position (the data has no id column)"


def _labels(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray | None:
    col = bundle.schema.label_column
    if not col or col not in frame.columns or not bundle.schema.label_mapping:
        return None
    y = encode_label(frame[col], bundle.schema).to_numpy(dtype=float)
    return y if np.isfinite(y).any() else None


def _reference(conn: sqlite3.Connection, mh: str, bundle: ModelBundle, view: pd.DataFrame,
               scores: np.ndarray, given: Mapping[str, Any] | None,
               reference_frame: pd.DataFrame | None) -> tuple[dict | None, str]:
    """The profile to compare with and where it came from (None on a model's first run)."""
    stored = get_reference(conn, mh)
    if stored is None:
        put_reference(conn, mh, "first run", reference_profile(
            view, scores=scores, categorical=categorical_columns(bundle.preprocessor)))
    stored_profile = stored[1] if stored else None
    if given is not None:
        return dict(given), "bundle"
    if reference_frame is not None:
        aligned, _ = align_columns(reference_frame, bundle)
        ref_view = feature_view(bundle.preprocessor, aligned)
        profile = reference_profile(ref_view, categorical=categorical_columns(bundle.preprocessor))
        profile["score"] = stored_profile.get("score") if stored_profile else None
        return profile, "reference file" + (" (score: first run)" if stored_profile else "")
    if stored_profile is None:
        return None, ""
    return stored_profile, stored[0] if stored else ""


def monitor(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    *,
    conn: sqlite3.Connection,
    reference: Mapping[str, Any] | None = None,
    reference_frame: pd.DataFrame | None = None,
    config: DriftConfig | None = None,
    min_auc: float | None = None,
    progress: Progress | None = None,
) -> MonitorResult:
    """Score ``frame`` with ``bundle`` and store the run, unless it is stored already.

    Parameters
    ----------
    bundle : ModelBundle
    frame : DataFrame
        Fresh customers (a label column, when present, gives realised figures).
    conn : sqlite3.Connection
        The shared store (:func:`churn_core.store.open_store`).
    reference : dict, optional
        A profile from :func:`churn_core.monitor.profile.reference_profile` (the bundle's).
    reference_frame : DataFrame, optional
        Reference rows (the training data) to profile when the bundle holds no profile.
    config : DriftConfig, optional
    min_auc : float, optional
        Alert when ROC-AUC (realised, else estimated) is under it.
    progress : callable, optional

    Returns
    -------
    MonitorResult

    Raises
    ------
    ChurnDataError
        When the data cannot be scored (missing columns, no rows).
    """
    report_progress = progress or (lambda f, m: None)
    ensure_schema(conn)
    mh, fp = model_hash(bundle), fingerprint_frame(frame)
    run_id = run_id_for(mh, fp)
    existing = find_run(conn, run_id)
    if existing is not None:
        log.info("run %s already stored (same model, same data): reusing it", run_id)
        report = dict(existing.summary)
        report["alerts"] = alerts_of(report, min_auc=min_auc)
        drift = DriftReport.from_dict(report["drift"]) if report.get("drift") else None
        return MonitorResult(existing, True, report, tuple(report["alerts"]), drift, None)
    rows = "all" if len(frame) <= EXPLAIN_ALL_MAX_ROWS else "at_risk"
    scored = score_frame(bundle, frame, explain_rows=rows, current_only=False,
                         progress=lambda f, m: report_progress(0.6 * f, m))
    table = _scores_table(scored.table)
    scores = table["score"].to_numpy()
    report_progress(0.65, "Measuring drift")
    aligned, _ = align_columns(frame, bundle)
    view = feature_view(bundle.preprocessor, aligned)
    profile, source = _reference(conn, mh, bundle, view, scores, reference,
                                 reference_frame)
    drift = None
    if profile is not None and not (source == "first run" and previous_run(conn, mh) is None):
        drift = compare(profile, view, scores=scores if profile.get("score") else None,
                        config=config)
    report_progress(0.8, "Estimating performance")
    estimate = estimate_performance(scores, scored.threshold)
    labels = _labels(bundle, frame)
    realised: Performance | None = None
    if labels is not None:
        realised = realised_performance(labels, scores, scored.threshold)
    previous = previous_run(conn, mh)
    diff = diff_runs(load_scores(conn, previous.run_id), table) if previous else None
    report_progress(0.9, "Storing the run")
    report: dict[str, Any] = {
        "run_id": run_id, "model_hash": mh, "data_fingerprint": fp, "rows": len(frame),
        "threshold": float(scored.threshold), "at_risk": int(table["at_risk"].sum()),
        "reference_source": source if drift is not None else None,
        "drift_note": None if drift is not None else
        "first run of this model: its data is the drift reference from the next run on",
        "drifted_features": drift.drifted_features if drift else [],
        "score_drift": drift.score_drifted if drift else False,
        "estimated_auc": estimate.to_dict()["roc_auc"],
        "estimate": estimate.to_dict(),
        "realised": realised.to_dict() if realised else None,
        "previous_run_id": previous.run_id if previous else None,
        "matched_by": _matched_by(bundle, frame),
        "entered_at_risk": diff.to_dict()["entered_at_risk"] if diff else [],
        "left_at_risk": diff.to_dict()["left_at_risk"] if diff else [],
        "diff": diff.to_dict() if diff else None,
        "drift": drift.to_dict() if drift else None,
        "scores": score_summary(scores),
        "label": label_info(bundle.schema.id_column, bundle.schema.label_column,
                            dict(bundle.schema.label_mapping)),
    }
    report["alerts"] = alerts_of(report, min_auc=min_auc)
    stored = save_run(conn, run_id=run_id, model_hash=mh, data_fingerprint=fp,
                      threshold=scored.threshold, scores=table, summary=report)
    report_progress(1.0, "Run stored")
    return MonitorResult(stored, False, stored.summary | {"alerts": report["alerts"]},
                         tuple(report["alerts"]), drift, diff)
