"""SHAP explanations: contributions, global importance and reasons in plain words.

Contributions come from XGBoost's own TreeSHAP (``pred_contribs=True``), which
gives the same numbers as ``shap.TreeExplainer`` (a test checks this) and runs
on the GPU when the model's device is ``cuda``. Rows are explained in batches
so memory stays bounded at millions of rows.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

from churn_core.features import Preprocessor, transform
from churn_core.linear import LinearModel
from churn_core.model import to_dmatrix
from churn_core.progress import Progress
from churn_core.threads import compute_threads

log = logging.getLogger(__name__)

REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")
MISSING_KEY = "\x00missing"


@dataclass(frozen=True)
class Explanation:
    """Per-row SHAP contributions (log-odds) and the top reasons.

    Attributes
    ----------
    contributions : DataFrame
        Rows x features (the user's column names), float32.
    base_value : float
        Log-odds every row starts from.
    values : DataFrame
        The model's feature values for the same rows.
    reasons : DataFrame
        ``reason_1..reason_3``: the features that raise the row's risk most, in
        plain words; empty text where fewer features raise it.
    """

    contributions: pd.DataFrame
    base_value: float
    values: pd.DataFrame
    reasons: pd.DataFrame


def shap_contributions(
    booster: xgb.Booster,
    X: pd.DataFrame,
    *,
    device: str = "cpu",
    batch_size: int = 50_000,
    progress: Progress | None = None,
) -> tuple[np.ndarray, float]:
    """TreeSHAP contributions for a transformed feature frame.

    Returns
    -------
    contributions : ndarray, shape (n_rows, n_features), float32
    base_value : float
    """
    booster.set_param({"device": device, "nthread": compute_threads()})
    n = len(X)
    out = np.empty((n, X.shape[1]), dtype=np.float32)
    base = 0.0
    for start in range(0, max(n, 1), batch_size):
        chunk = X.iloc[start : start + batch_size]
        if chunk.empty:
            break
        contribs = booster.predict(to_dmatrix(chunk), pred_contribs=True)
        out[start : start + len(chunk)] = contribs[:, :-1]
        base = float(contribs[0, -1])
        if progress:
            progress(min(1.0, (start + len(chunk)) / n), f"Explained {start + len(chunk):,} rows")
    return out, base


@functools.lru_cache(maxsize=4096)
def humanize(name: str) -> str:
    """Turn a column name into words: ``DaySinceLastOrder`` -> ``Day since last order``."""
    text = re.sub(r"[_\-.]+", " ", str(name))
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return str(name)
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in text.split(" ")]
    out = " ".join(words)
    return out[0].upper() + out[1:]


def feature_label(feature: str, labels: Mapping[str, str] | None = None) -> str:
    """A feature's name for people: its label (when not a ``{value}`` template) or its
    column name in words (``DaySinceLastOrder`` -> "Day since last order")."""
    template = (labels or {}).get(feature) or ""
    return template if template and "{" not in template else humanize(feature)


_WINDOW = re.compile(r"\b(?:last |past )?(\d+)\s*(d|days?|w|weeks?|m|months?)\b")
_SINCE = re.compile(r"^(?:days?|weeks?|months?|time|hours?)?\s*since (?:the )?"
                    r"(?:last |first )?(.+)$")
_STAT = re.compile(r"^(?:avg|average|mean|median|total|sum|count|number of|num|n|min|max|"
                   r"share of|pct|percent)\s+(?:of\s+)?")
_UNITS = {"d": "days", "w": "weeks", "m": "months"}


def missing_text(feature: str, labels: Mapping[str, str] | None = None) -> str:
    """A missing value in words, from the feature's name.

    ``DaySinceLastOrder`` -> "No order on record"; ``orders_90d`` -> "No orders in the last
    90 days"; ``avg_basket_value`` -> "No basket value on record".
    """
    words = feature_label(feature, labels).lower()
    window = ""
    found = _WINDOW.search(words)
    if found:
        unit = found.group(2)
        unit = _UNITS.get(unit, unit if unit.endswith("s") else unit + "s")
        window = f" in the last {found.group(1)} {unit}"
        words = (words[: found.start()] + words[found.end():]).strip()
    since = _SINCE.match(words)
    if since:
        words = since.group(1)
    words = _STAT.sub("", words).strip() or feature_label(feature, labels).lower()
    text = f"no {words}{window}" if window else f"no {words} on record"
    return text[0].upper() + text[1:]


def _fmt(v: float) -> str:
    if not math.isfinite(v):  # math, not numpy: called per reason, a million times
        return "missing"
    if float(v).is_integer() and abs(v) < 1e12:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _phrase(feature: str, contribution: float, pre: Preprocessor,
            labels: Mapping[str, str] | None) -> Callable[[object], str]:
    """:func:`reason_text` for one feature, with all that does not depend on the value
    (label, effect, typical value) worked out once: top_reasons calls it per distinct value."""
    effect = "raises risk" if contribution > 0 else "lowers risk"
    template = (labels or {}).get(feature) or ""
    has_slot = "{" in template
    label = template if template and not has_slot else humanize(feature)
    med = pre.quantiles.get(feature, (np.nan,) * 3)[1]
    typical = _fmt(med) if np.isfinite(med) else ""
    categorical, binary, dated = (feature in pre.categorical, feature in pre.binary,
                                  feature in pre.datetime)
    informative = feature in pre.informative_missing

    def say(value: object) -> str:
        # value != value: NaN, without the cost of np.isnan on a scalar
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            if informative:  # missingness itself goes with churn (decided at training)
                return f"{missing_text(feature, labels)} ({effect})"
            # never a top reason (top_reasons skips it); kept for rules and one-off calls
            return f"{label} is missing ({effect})"
        if categorical:
            return f"{label} is {value} ({effect})"
        v = float(value)
        if has_slot:
            try:
                return f"{template.format(value=v)} ({effect})"
            except (ValueError, KeyError, IndexError):
                log.debug("bad label template for %s", feature)
        if binary:
            return f"{label}: {'yes' if v == 1 else 'no'} ({effect})"
        if dated:
            return f"{label} was {_fmt(v)} days before the snapshot ({effect})"
        if not typical or v == med:
            return f"{label} is {_fmt(v)} ({effect})"
        side = "above" if v > med else "below"
        return f"{label} is {_fmt(v)}, {side} the typical {typical} ({effect})"

    return say


def reason_text(
    feature: str,
    value: object,
    contribution: float,
    pre: Preprocessor,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Plain words for one feature's effect on one customer.

    ``labels`` may give a template per feature with ``{value}``, e.g.
    ``"{value:.0f} days since the last order"``; otherwise the column name is
    turned into words and the value compared with the training median.
    """
    return _phrase(feature, contribution, pre, labels)(value)


def top_reasons(
    contributions: np.ndarray,
    X: pd.DataFrame,
    pre: Preprocessor,
    *,
    top: int = 3,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The ``top`` features raising each row's risk most, as text.

    Texts are built once per distinct (feature, value) pair and then looked up,
    so a million rows take seconds, not minutes.
    """
    n, f = contributions.shape
    k = min(top, f)
    # A missing value is a reason only where missingness itself goes with churn (decided at
    # training, Preprocessor.informative_missing); elsewhere it is never listed.
    silent = [j for j, col in enumerate(X.columns)
              if col not in pre.informative_missing and X[col].hasnans]
    if silent and n:
        contributions = np.array(contributions, dtype=np.float32, copy=True)
        for j in silent:
            contributions[X.iloc[:, j].isna().to_numpy(), j] = -np.inf
    cols = [f"reason_{i + 1}" for i in range(top)]
    if n == 0 or k == 0:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}, index=X.index)
    part = np.argpartition(-contributions, k - 1, axis=1)[:, :k]
    picked = np.take_along_axis(contributions, part, axis=1)
    order = np.argsort(-picked, axis=1, kind="stable")
    feat_idx = np.take_along_axis(part, order, axis=1)
    feat_val = np.take_along_axis(picked, order, axis=1)
    result = {c: np.full(n, "", dtype=object) for c in cols}
    names = list(X.columns)
    for slot in range(k):
        for j in np.unique(feat_idx[:, slot]):
            rows = np.flatnonzero((feat_idx[:, slot] == j) & (feat_val[:, slot] > 0))
            if rows.size == 0:
                continue
            col = names[j]
            vals = X[col].iloc[rows]
            # A string sentinel for missing values: dict lookups on NaN/None are unreliable.
            keyed = vals.astype(object).where(vals.notna(), MISSING_KEY)
            say = _phrase(col, 1.0, pre, labels)
            texts = {key: say(np.nan if key == MISSING_KEY else key) for key in pd.unique(keyed)}
            result[cols[slot]][rows] = np.array([texts[key] for key in keyed], dtype=object)
    return pd.DataFrame(result, index=X.index)


def explain(
    booster: xgb.Booster,
    pre: Preprocessor,
    frame: pd.DataFrame,
    *,
    device: str = "cpu",
    top: int = 3,
    labels: Mapping[str, str] | None = None,
    batch_size: int = 50_000,
    progress: Progress | None = None,
    X: pd.DataFrame | None = None,
    linear: LinearModel | None = None,
) -> Explanation:
    """Explain raw rows: transform, SHAP values, reasons in plain words.

    Parameters
    ----------
    booster, pre : the trained model and its preprocessing.
    frame : DataFrame
        Raw rows (any index); columns picked by name.
    device : {"cpu", "cuda"}
        Where TreeSHAP runs.
    top : int
        Reasons per row.
    labels : mapping, optional
        Plain-words templates per feature.
    X : DataFrame, optional
        ``transform(pre, frame)`` when the caller already has it (saves a pass).
    linear : LinearModel, optional
        When the shipped model is the logistic regression: its linear SHAP values
        replace TreeSHAP.
    """
    if X is None:
        X, _ = transform(pre, frame)
    if linear is not None:
        contribs, base = linear.contributions(X)
    else:
        contribs, base = shap_contributions(
            booster, X, device=device, batch_size=batch_size, progress=progress
        )
    reasons = top_reasons(contribs, X, pre, top=top, labels=labels)
    return Explanation(
        contributions=pd.DataFrame(contribs, index=X.index, columns=X.columns),
        base_value=base,
        values=X,
        reasons=reasons,
    )


def global_importance(expl: Explanation) -> pd.DataFrame:
    """Mean absolute SHAP value per feature, its share, and the direction of its effect.

    ``direction`` says whether higher values of a numeric feature raise risk
    (correlation of value and contribution), or for categories which level raises it most.
    """
    C = expl.contributions
    mean_abs = C.abs().mean()
    total = float(mean_abs.sum()) or 1.0
    rows = []
    for col in C.columns:
        vals = expl.values[col]
        if isinstance(vals.dtype, pd.CategoricalDtype):
            by_level = C[col].groupby(vals, observed=True).mean()
            direction = f"highest risk: {by_level.idxmax()}" if len(by_level) else ""
        else:
            ok = vals.notna().to_numpy()
            x, c = vals.to_numpy(dtype=float)[ok], C[col].to_numpy(dtype=float)[ok]
            if x.size > 2 and x.std() > 0 and c.std() > 0:
                r = float(np.corrcoef(x, c)[0, 1])
                direction = "higher raises risk" if r > 0.1 else (
                    "lower raises risk" if r < -0.1 else "mixed")
            else:
                direction = "mixed"
        rows.append({"feature": col, "mean_abs_shap": float(mean_abs[col]),
                     "share": float(mean_abs[col]) / total, "direction": direction})
    table = pd.DataFrame(rows, columns=["feature", "mean_abs_shap", "share", "direction"])
    return table.sort_values("mean_abs_shap", ascending=False, ignore_index=True)


def row_waterfall(expl: Explanation, row: object, pre: Preprocessor, *, max_features: int = 10,
                  labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One customer's contributions, largest first, with plain-words text per feature.

    The remaining features are summed into one "other features" line.
    """
    contrib = expl.contributions.loc[row]
    values = expl.values.loc[row]
    order = contrib.abs().sort_values(ascending=False).index
    rows = [
        {"feature": f, "value": values[f], "contribution": float(contrib[f]),
         "text": reason_text(f, values[f], float(contrib[f]), pre, labels)}
        for f in order[:max_features]
    ]
    rest = order[max_features:]
    if len(rest):
        rows.append({"feature": "other features", "value": None,
                     "contribution": float(contrib[rest].sum()),
                     "text": f"{len(rest)} other features"})
    return pd.DataFrame(rows, columns=["feature", "value", "contribution", "text"])
