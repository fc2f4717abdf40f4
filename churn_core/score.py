"""Scoring new data with a saved bundle: align columns by name, then score.

Columns are matched by name, never by position: reordered columns give the
same probabilities, missing ones block with every name listed, extra ones
are ignored with a notice, and near-misses (case, spaces, underscores) are
matched with a warning that names both spellings.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_core.actions import ActionRules
from churn_core.bundle import ModelBundle
from churn_core.dataset import id_text
from churn_core.explain import explain
from churn_core.export import at_risk_table
from churn_core.features import transform
from churn_core.labels import encode_label, normalize_name
from churn_core.model import detect_device
from churn_core.problems import ChurnDataError, Problem, example_rows
from churn_core.progress import Progress
from churn_core.segments import assign_segments
from churn_core.threshold import Economics, risk_tiers
from churn_core.value.clv import BUILD_VALUE_COLUMN, value_at_risk, value_column

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ScoreResult:
    """Scores for every input row plus what was noticed on the way.

    ``table`` has the id column (named as in the input), ``churn_probability``,
    ``risk_tier``, ``at_risk``, ``segment``, ``reason_1..3``, ``suggested_action``
    in input order. ``threshold`` is the cut-off that was applied.
    """

    table: pd.DataFrame
    problems: tuple[Problem, ...]
    threshold: float
    rows: np.ndarray | None = None  # input position of each table row


@dataclass(frozen=True)
class Selected:
    """The rows of a frame to flag and the cut they were chosen by: a top N chosen over
    every piece of a file scored in pieces (:mod:`churn_core.score_chunks`).

    Attributes
    ----------
    rows : ndarray of int
        Positions in the frame of the rows to flag.
    cut : float
        The N-th highest score of the whole file (``inf`` when nobody was flagged).
    """

    rows: np.ndarray
    cut: float


def align_columns(frame: pd.DataFrame, bundle: ModelBundle) -> tuple[pd.DataFrame, list[Problem]]:
    """Pick the model's columns from ``frame`` by name.

    Returns
    -------
    aligned : DataFrame
        Exactly the feature columns, in the model's order, same index.
    problems : list of Problem
        ``RENAMED_COLUMN`` (warning, matched), ``EXTRA_COLUMNS`` (info, ignored).

    Raises
    ------
    ChurnDataError
        ``MISSING_COLUMNS`` naming every missing column, with suggestions.
    """
    needed = list(bundle.preprocessor.feature_names)
    present = list(frame.columns)
    by_norm: dict[str, list[str]] = {}
    for c in present:
        by_norm.setdefault(normalize_name(c), []).append(c)
    problems: list[Problem] = []
    mapping: dict[str, str] = {}
    missing: list[str] = []
    for col in needed:
        if col in frame.columns:
            mapping[col] = col
            continue
        candidates = [c for c in by_norm.get(normalize_name(col), []) if c not in needed]
        if len(candidates) == 1:
            mapping[col] = candidates[0]
            problems.append(Problem(
                code="RENAMED_COLUMN", severity="warning", column=col,
                message=f"column {col!r} not found; using {candidates[0]!r}, which differs only "
                        "in case, spaces or underscores",
                values=(candidates[0],), action=f"used {candidates[0]!r} as {col!r}"))
        else:
            missing.append(col)
    if missing:
        errors = []
        for col in missing:
            close = difflib.get_close_matches(col, present, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(Problem(code="MISSING_COLUMNS", severity="error", column=col,
                                  message=f"the model needs column {col!r}, which is missing{hint}",
                                  values=tuple(close)))
        raise ChurnDataError(errors + problems)
    used = set(mapping.values())
    ignore = {bundle.schema.id_column, bundle.schema.label_column}
    extra = [c for c in present if c not in used and c not in ignore]
    if extra:
        problems.append(Problem(
            code="EXTRA_COLUMNS", severity="info", count=len(extra),
            message=f"{len(extra)} column(s) not used by the model were ignored",
            values=tuple(str(c) for c in extra[:5]), action="ignored"))
    aligned = pd.DataFrame({col: frame[src] for col, src in mapping.items()}, index=frame.index)
    return aligned, problems


def predict_frame(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray:
    """The shipped model's (calibrated) churn probability for raw rows, columns by name.

    Raises
    ------
    ChurnDataError
        ``MISSING_COLUMNS`` when model columns are missing.
    """
    aligned, _ = align_columns(frame, bundle)
    X, _ = transform(bundle.preprocessor, aligned)
    return bundle.predict(X)


def _values(frame: pd.DataFrame, bundle: ModelBundle, value: float | str | None
            ) -> np.ndarray:
    if value is None and BUILD_VALUE_COLUMN in frame.columns:
        # an event-log build's scoring table carries each customer's estimated worth
        value = BUILD_VALUE_COLUMN
    if isinstance(value, str):
        return value_column(frame.reset_index(drop=True), value, missing=0.0)
    if value is None:
        saved = bundle.threshold.get("detail", {}).get("economics") or {}
        value = saved.get("value_retained", Economics().value_retained) \
            if isinstance(saved, dict) else Economics().value_retained
    return np.full(len(frame), float(value))


def churned_rows(frame: pd.DataFrame, bundle: ModelBundle) -> tuple[np.ndarray, list[Problem]]:
    """Rows whose churn label (when the file has one) says churned, and the notice about them.

    Customers already gone are never on an at-risk list: :func:`score_frame` leaves them
    out of its table and says how many.

    Raises
    ------
    ChurnDataError
        ``NO_CURRENT_CUSTOMERS`` when every row says churned.
    """
    label = bundle.schema.label_column
    none = np.zeros(len(frame), dtype=bool)
    if not label or label not in frame.columns or not bundle.schema.label_mapping:
        return none, []
    churned = (encode_label(frame[label], bundle.schema) == 1).to_numpy()
    if not churned.any():
        return none, []
    rows, count = example_rows(churned)
    positive = bundle.schema.positive_label
    if churned.all():
        raise ChurnDataError([Problem(
            "NO_CURRENT_CUSTOMERS", "error",
            f"Every row's {label!r} says churned ({positive!r}): there is nobody left to "
            "contact.", column=label, rows=rows, count=count)])
    return churned, [Problem(
        "ALREADY_CHURNED", "info",
        f"{count:,} rows whose {label!r} says churned ({positive!r}) were left out: "
        "customers already gone are not scored for contact.",
        column=label, rows=rows, count=count, values=(str(positive),),
        action="left out of the scores")]


def empty_features(aligned: pd.DataFrame) -> list[Problem]:
    """``FEATURE_EMPTY`` (warning) for each model column empty in every row to score.

    The model still scores (missing values are allowed), but every customer is
    judged without that column: usually a broken export, not a real change.
    """
    empty = [str(c) for c in aligned.columns if aligned[c].isna().all()]
    if not empty:
        return []
    return [Problem(
        "FEATURE_EMPTY", "warning",
        f"{len(empty)} column(s) the model uses are empty in every row "
        f"({', '.join(repr(c) for c in empty[:5])}{', ...' if len(empty) > 5 else ''}); "
        "scores were computed without them and may be far off.", column=empty[0],
        count=len(empty), values=tuple(empty[:5]),
        action="check the export of those columns before acting on these scores")]


def _check_cut(threshold: float | None, top_n: int | None) -> None:
    """Refuse a threshold that is not a probability and a top N below 1."""
    problems = []
    if threshold is not None and not (isinstance(threshold, int | float | np.floating)
                                      and 0.0 <= float(threshold) <= 1.0):
        problems.append(Problem("BAD_THRESHOLD", "error", f"The threshold {threshold!r} is not "
                                "a probability between 0 and 1.", values=(str(threshold),),
                                action="choose a threshold between 0 and 1"))
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int | np.integer)
                              or top_n < 1):
        problems.append(Problem("BAD_TOP_N", "error", f"Top N must be a whole number of 1 or "
                                f"more, got {top_n!r}.", values=(str(top_n),),
                                action="flag at least one customer"))
    if problems:
        raise ChurnDataError(problems)


def _ids(frame: pd.DataFrame, bundle: ModelBundle) -> tuple[str, pd.Series]:
    id_col = bundle.schema.id_column
    present = bool(id_col) and id_col in frame.columns
    return (id_col if present else id_col or "row"), \
        id_text(frame, id_col if present else None).rename(None)


def score_frame(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    *,
    threshold: float | None = None,
    top_n: int | None = None,
    at_risk_only: bool = False,
    explain_rows: str = "all",
    progress: Progress | None = None,
    rules: ActionRules | None = None,
    current_only: bool = True,
    value: float | str | None = None,
    device: str = "auto",
    selected: Selected | None = None,
) -> ScoreResult:
    """Score raw rows with a bundle.

    Parameters
    ----------
    bundle : ModelBundle
    frame : DataFrame
        Fresh data with (at least) the model's columns, in any order.
    threshold : float, optional
        Cut-off; defaults to the bundle's saved threshold.
    top_n : int, optional
        Flag exactly the ``top_n`` highest scores instead of a threshold.
    at_risk_only : bool
        Keep only flagged rows in the table (without the then always-true ``at_risk``).
    explain_rows : {"all", "at_risk"}
        Which rows get reasons (``at_risk`` is faster on very large files).
    progress : callable, optional
    rules : ActionRules, optional
        Reason-to-action rules for ``suggested_action``; default
        :func:`churn_core.actions.default_rules`.
    current_only : bool, default True
        Leave out rows whose churn label says churned (customers already gone); False
        scores every row (monitoring, where labelled rows give realised figures).
    value : float or str, optional
        What each customer is worth: a constant, or the name of a numeric column of
        ``frame`` (empty cells count as 0). Default: the file's ``customer_value``
        column when it has one (an event-log build's scoring table), else the value
        saved with the bundle's threshold (set on the Alerts page), else 200. Gives
        ``customer_value`` and ``value_at_risk`` (churn probability x value).
    device : {"auto", "cpu", "cuda"}
        Where the reasons (TreeSHAP) are computed; auto: the GPU when XGBoost can use one.
    selected : Selected, optional
        Flag exactly these rows, as ``top_n`` would with this cut (a top N chosen over a
        whole file scored in pieces: see :func:`ranked_scores`).

    Raises
    ------
    ChurnDataError
        ``MISSING_COLUMNS``, ``NO_DATA_ROWS``, ``BAD_THRESHOLD`` (not in [0, 1], NaN),
        ``BAD_TOP_N`` (below 1). Warnings in the result include ``FEATURE_EMPTY``.
    """
    report = progress or (lambda f, m: None)
    if not isinstance(frame, pd.DataFrame):
        # Never score bare arrays: columns could only be matched by position.
        raise TypeError(f"score_frame needs a DataFrame with named columns, got "
                        f"{type(frame).__name__}")
    if len(frame) == 0:
        raise ChurnDataError([Problem(code="NO_DATA_ROWS", severity="error",
                                      message="the file has 0 data rows to score")])
    _check_cut(threshold, top_n)
    churned, gone = churned_rows(frame, bundle) if current_only else \
        (np.zeros(len(frame), dtype=bool), [])
    aligned, problems = align_columns(frame, bundle)
    problems = gone + problems + empty_features(aligned)
    report(0.1, "Columns aligned")
    X, more = transform(bundle.preprocessor, aligned)
    problems += more
    scores = bundle.predict(X)
    report(0.4, f"Scored {len(X):,} rows")
    # Customers already gone rank below everybody and are dropped from the table below;
    # scoring every row keeps the row numbers in problems those of the file.
    ranked = np.where(churned, -np.inf, scores)
    medium_from = bundle.threshold.get("detail", {}).get("medium_from")
    by_rank = top_n is not None or selected is not None
    if by_rank:
        flagged = np.zeros(len(scores), dtype=bool)
        if selected is not None:
            flagged[selected.rows] = True
            cut = float(selected.cut)
        else:
            # Exactly the top N by rank (ties broken by input order), not every score >= the
            # Nth.
            k = int(min(max(top_n, 0), int((~churned).sum())))
            order = np.argsort(-ranked, kind="stable")
            flagged[order[:k]] = True
            cut = float(scores[order[k - 1]]) if k else float("inf")
        tiers = risk_tiers(scores, cut)
        tiers = np.where(flagged, "high", np.where(tiers == "high", "medium", tiers))
        medium_from = None
    else:
        cut = float(bundle.threshold["value"] if threshold is None else threshold)
        tiers = risk_tiers(scores, cut, medium_from=medium_from if threshold is None else None)
        flagged = ranked >= cut
    if bundle.segments is not None:
        seg_idx = assign_segments(bundle.segments, X)
        seg_names = np.asarray(bundle.segments.names, dtype=object)[seg_idx]
    else:
        seg_names = np.full(len(X), "", dtype=object)
    rows = np.flatnonzero(~churned) if explain_rows == "all" else np.flatnonzero(flagged)
    reasons = pd.DataFrame("", index=X.index, columns=["reason_1", "reason_2", "reason_3"])
    if rows.size:
        expl = explain(bundle.booster, bundle.preprocessor, aligned.iloc[rows],
                       labels=bundle.feature_labels, X=X.iloc[rows], linear=bundle.linear,
                       device=detect_device(device),
                       progress=lambda f, m: report(0.4 + 0.5 * f, m))
        reasons.iloc[rows] = expl.reasons.to_numpy()
    id_name, ids = _ids(frame, bundle)
    table = at_risk_table(ids.to_numpy(), scores, tiers, seg_names, reasons, None,
                          id_name=id_name, threshold=None if by_rank else cut,
                          keep_order=True, rules=rules)
    worth = _values(frame, bundle, value)
    table["customer_value"] = np.round(worth, 2)
    table["value_at_risk"] = np.round(value_at_risk(scores, worth), 2)
    keep = ~churned & (table["at_risk"].to_numpy() if at_risk_only else True)
    table = table[keep].reset_index(drop=True)
    if at_risk_only:  # every row is at risk: an always-true column tells the reader nothing
        table = table.drop(columns="at_risk")
    kept = np.flatnonzero(keep)
    report(1.0, "Scoring done")
    return ScoreResult(table=table, problems=tuple(problems), threshold=cut, rows=kept)


def ranked_scores(bundle: ModelBundle, frame: pd.DataFrame) -> np.ndarray:
    """The churn probability of every row as :func:`score_frame` computes it, with
    ``-inf`` for customers already gone: what a top N is chosen by.

    Raises
    ------
    ChurnDataError
        ``MISSING_COLUMNS``.
    """
    churned, _ = churned_rows(frame, bundle)
    aligned, _ = align_columns(frame, bundle)
    X, _ = transform(bundle.preprocessor, aligned)
    return np.where(churned, -np.inf, bundle.predict(X))
