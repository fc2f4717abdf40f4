"""Check a table against its schema in one pass and screen features for label leakage.

Everything found is returned together in a :class:`ValidationReport`; nothing is
raised. The leakage screen scores every feature on its own (single-column
ROC-AUC against the label): a column that predicts churn almost perfectly is
usually recorded after the customer left (a cancellation date, a closing reason).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from churn_core.labels import encode_label, label_problems
from churn_core.problems import Problem, example_rows, example_values, has_errors, problems_frame
from churn_core.schema import Schema, parse_dates

logger = logging.getLogger(__name__)

REVIEW_AUC = 0.95
EXCLUDE_AUC = 0.99
MISSING_AUC = 0.90
MIN_MISSING = 10
MIN_ROWS = 50
MIN_PER_CLASS = 10
IMBALANCE_SHARE = 0.05
SCREEN_ROWS = 200_000
CV_FOLDS = 5
LEAKAGE_COLUMNS = ["column", "auc", "missing_auc", "action"]
_LEAKY_NAME = re.compile(
    r"cancel|churn|reason|terminat|closed|closure|注销|退订|流失|原因|解约|销户|离网",
    re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """What :func:`validate` found.

    Attributes
    ----------
    schema : Schema
        The input schema minus the columns excluded as leakage.
    problems : tuple of Problem
        Label errors and warnings plus every table check, in one list.
    leakage : pandas.DataFrame
        One row per screened feature: ``column``, ``auc`` (single-column ROC-AUC,
        0.5..1), ``missing_auc`` (AUC of "is missing"; NaN when nothing is missing)
        and ``action`` (``"keep"``, ``"review"``, ``"excluded"`` or ``"confirmed"``),
        highest AUC first.
    """

    schema: Schema
    problems: tuple[Problem, ...]
    leakage: pd.DataFrame

    @property
    def usable(self) -> bool:
        """True when no problem is an error (the table can be used for training)."""
        return not has_errors(self.problems)

    def to_frame(self) -> pd.DataFrame:
        """Return the problems as a table (see :func:`churn_core.problems.problems_frame`)."""
        return problems_frame(self.problems)


def validate(frame: pd.DataFrame, schema: Schema, *, confirmed: Iterable[str] = (),
             seed: int = 42) -> ValidationReport:
    """Check ``frame`` for every known problem at once.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read.
    schema : Schema
        From :func:`churn_core.schema.infer_schema` (its info problems are not repeated).
    confirmed : iterable of str
        Features the user confirmed are known before churn; never excluded as leakage.
    seed : int
        Seed for the row sample and the folds of the categorical target encoding.

    Returns
    -------
    ValidationReport
        Never raises for bad data; ``report.usable`` is False when an error was found.
    """
    rng = np.random.default_rng(seed)
    problems = [p for p in label_problems(frame, schema) if p.severity != "info"]
    y = _label_array(frame, schema)
    problems += _class_problems(y)
    problems += _id_problems(frame, schema)
    problems += _profile_problems(frame, schema)
    leakage, found = _leakage_screen(frame, schema, y, set(confirmed), rng)
    dropped = tuple(leakage.loc[leakage["action"] == "excluded", "column"])
    problems += [
        Problem("LEAKY_NAME", "warning",
                f"The name of '{col}' suggests it is recorded when or after customers churn.",
                column=col, action="excluded: it also predicts churn almost perfectly"
                if col in dropped else "kept; check it is known before churn, or exclude it")
        for col in schema.features if _LEAKY_NAME.search(str(col))]
    problems += found
    if dropped:
        schema = replace(
            schema,
            numeric=tuple(c for c in schema.numeric if c not in dropped),
            categorical=tuple(c for c in schema.categorical if c not in dropped),
            datetime=tuple(c for c in schema.datetime if c not in dropped),
            excluded={**schema.excluded, **dict.fromkeys(dropped, "LEAKAGE")})
    logger.info("validate: %d problems, %d columns excluded as leakage", len(problems),
                len(dropped))
    return ValidationReport(schema=schema, problems=tuple(problems), leakage=leakage)


def _label_array(frame: pd.DataFrame, schema: Schema) -> np.ndarray | None:
    if schema.label_column not in frame.columns or not schema.label_mapping:
        return None
    return encode_label(frame[schema.label_column], schema).to_numpy()


def _class_problems(y: np.ndarray | None) -> list[Problem]:
    if y is None:
        return []
    labelled = ~np.isnan(y)
    n = int(labelled.sum())
    pos = int(np.nansum(y))
    neg = n - pos
    share = pos / n if n else 0.0
    out = [Problem("CLASS_COUNTS", "info",
                   f"{pos:,} churned ({share:.1%}) and {neg:,} retained customers among "
                   f"{n:,} labelled rows.", count=n, values=(str(pos), str(neg)))]
    if n < MIN_ROWS:
        out.append(Problem("TOO_FEW_ROWS", "error",
                           f"Only {n} rows have a label; at least {MIN_ROWS} are needed.",
                           count=n, action="add more labelled rows"))
    if 0 < min(pos, neg) < MIN_PER_CLASS:
        which = "churned" if pos < neg else "retained"
        out.append(Problem("TOO_FEW_POSITIVES", "error",
                           f"Only {min(pos, neg)} {which} customers; at least {MIN_PER_CLASS} "
                           "of each class are needed.", count=min(pos, neg),
                           action="add more labelled rows of the rare class"))
    if 0 < share < IMBALANCE_SHARE:
        out.append(Problem("CLASS_IMBALANCE", "warning",
                           f"Only {share:.1%} of labelled customers churned; judge the model "
                           "by PR-AUC and consider class weights.", count=pos,
                           action="consider class weights"))
    return out


def _id_problems(frame: pd.DataFrame, schema: Schema) -> list[Problem]:
    col = schema.id_column
    if col is None or col not in frame.columns:
        return []
    ids = frame[col]
    out = []
    dup = (ids.duplicated(keep=False) & ids.notna()).to_numpy()
    if dup.any():
        rows, count = example_rows(dup)
        distinct = ids[dup].nunique()
        out.append(Problem("DUPLICATE_IDS", "warning",
                           f"{distinct:,} ids in '{col}' occur more than once ({count:,} rows).",
                           column=col, rows=rows, count=count,
                           values=example_values(ids[dup]),
                           action="kept; rows of one customer stay on one side of every split"))
    missing = ids.isna().to_numpy()
    if missing.any():
        rows, count = example_rows(missing)
        out.append(Problem("MISSING_IDS", "warning", f"{count:,} rows have no '{col}'.",
                           column=col, rows=rows, count=count,
                           action="kept; shown as 'row N' in results"))
    return out


def _profile_problems(frame: pd.DataFrame, schema: Schema) -> list[Problem]:
    cols = list(schema.features)
    if not cols:
        return []
    if schema.label_column in frame.columns:
        cols.append(schema.label_column)
    hashes = pd.Series(pd.util.hash_pandas_object(frame[cols], index=False).to_numpy())
    dup = hashes.duplicated(keep=False).to_numpy()
    if not dup.any():
        return []
    rows, count = example_rows(dup)
    return [Problem("DUPLICATE_PROFILES", "warning",
                    f"{count:,} rows are identical to another row on every feature and the "
                    f"label ({hashes[dup].nunique():,} distinct profiles); copies can inflate "
                    "test scores.", rows=rows, count=count,
                    action="kept; copies stay on one side of every split")]


def _fold(auc: float) -> float:
    return float(max(auc, 1.0 - auc))


def _numeric_auc(x: np.ndarray, y: np.ndarray) -> float:
    """Folded AUC of a score; missing values are tried as the lowest and the highest value.

    One sort of the present values serves both placements: the missing rows tie
    with each other, so only their shared rank and the shift of the others change.
    """
    missing = np.isnan(x)
    pos = y == 1
    n1 = int(pos.sum())
    n0 = y.size - n1
    m = int(missing.sum())
    ranks = rankdata(x[~missing])
    pos_present = pos[~missing]
    pos_missing = int(pos[missing].sum())
    base = n1 * (n1 + 1) / 2
    low = ranks[pos_present].sum() + m * pos_present.sum() + pos_missing * (m + 1) / 2
    high = ranks[pos_present].sum() + pos_missing * (ranks.size + (m + 1) / 2)
    return max(_fold((low - base) / (n1 * n0)), _fold((high - base) / (n1 * n0)))


def _missing_auc(missing: np.ndarray, y: np.ndarray) -> float:
    """Folded AUC of "is missing" as a score: 0.5 * (1 + share missing among churned
    - share missing among retained)."""
    pos = y == 1
    return _fold(0.5 * (1.0 + missing[pos].mean() - missing[~pos].mean()))


def _target_encoded_auc(values: pd.Series, y: np.ndarray, rng: np.random.Generator) -> float:
    """AUC of an out-of-fold target-mean encoding (missing is a level of its own)."""
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    k = int(codes.max()) + 1
    folds = rng.permutation(y.size) % CV_FOLDS
    encoded = np.empty(y.size)
    for f in range(CV_FOLDS):
        train, test = folds != f, folds == f
        sums = np.bincount(codes[train], weights=y[train], minlength=k)
        counts = np.bincount(codes[train], minlength=k)
        prior = y[train].mean()
        encoded[test] = (sums[codes[test]] + prior) / (counts[codes[test]] + 1.0)
    return _numeric_auc(encoded, y)


def _as_number(frame: pd.DataFrame, col: str, schema: Schema) -> np.ndarray:
    if col in schema.datetime:
        parsed = parse_dates(frame[col])
        out = parsed.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        out[parsed.isna().to_numpy()] = np.nan
        return out
    x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isinf(x), np.nan, x)


def _leakage_screen(frame: pd.DataFrame, schema: Schema, y: np.ndarray | None,
                    confirmed: set[str], rng: np.random.Generator
                    ) -> tuple[pd.DataFrame, list[Problem]]:
    empty = pd.DataFrame(columns=LEAKAGE_COLUMNS)
    if y is None or not schema.features:
        return empty, []
    rows = np.flatnonzero(~np.isnan(y))
    yl = y[rows]
    if yl.size == 0 or yl.min() == yl.max():
        return empty, []
    out: list[Problem] = []
    if rows.size > SCREEN_ROWS:
        rows = np.sort(rng.choice(rows, SCREEN_ROWS, replace=False))
        yl = y[rows]
        out.append(Problem("SCREEN_SAMPLED", "info",
                           f"The leakage screen used a random sample of {SCREEN_ROWS:,} "
                           "labelled rows.", count=SCREEN_ROWS))
    part = frame.iloc[rows]
    records = []
    for col in schema.features:
        if col in schema.categorical:
            missing = part[col].isna().to_numpy()
            auc = _target_encoded_auc(part[col], yl, rng)
        else:
            x = _as_number(part, col, schema)
            missing = np.isnan(x)
            auc = _numeric_auc(x, yl)
        missing_auc = _missing_auc(missing, yl) if 0 < missing.sum() < yl.size else np.nan
        action = "keep"
        if auc >= REVIEW_AUC:
            action = ("confirmed" if col in confirmed
                      else "excluded" if auc >= EXCLUDE_AUC else "review")
        records.append((col, auc, missing_auc, action))
        out.extend(_leak_findings(col, auc, missing_auc, int(missing.sum()), action))
    leakage = pd.DataFrame.from_records(records, columns=LEAKAGE_COLUMNS)
    return leakage.sort_values("auc", ascending=False, ignore_index=True), out


def _leak_findings(col: str, auc: float, missing_auc: float, n_missing: int,
                   action: str) -> list[Problem]:
    out = []
    shown = (f"AUC {auc:.3f}",)
    if action == "excluded":
        out.append(Problem("LEAKAGE_EXCLUDED", "warning",
                           f"'{col}' alone predicts churn almost perfectly (AUC {auc:.3f}); it "
                           "is probably recorded after churn.", column=col, values=shown,
                           action="excluded from features; confirm the column to keep it"))
    elif action == "review":
        out.append(Problem("LEAKAGE_REVIEW", "warning",
                           f"'{col}' alone predicts churn very well (AUC {auc:.3f}); check "
                           "that it is known before customers churn.", column=col,
                           values=shown, action="kept; review or exclude it"))
    if missing_auc >= MISSING_AUC and n_missing >= MIN_MISSING:
        out.append(Problem("MISSING_ENCODES_LABEL", "warning",
                           f"Whether '{col}' is empty predicts churn (AUC {missing_auc:.3f}); "
                           "the blanks may be filled in only for one group.", column=col,
                           count=n_missing, values=(f"AUC {missing_auc:.3f}",),
                           action="excluded with the column" if action == "excluded"
                           else "kept; check how the blanks arise"))
    return out
