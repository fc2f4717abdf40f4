"""Shared checks of the value models' input, and the compression of repeated customers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from churn_core.problems import ChurnDataError, Problem, example_rows, example_values


def check_summary(summary: pd.DataFrame, columns: Sequence[str] = ("frequency", "recency", "T")
                  ) -> None:
    """Raise when a summary cannot be fitted: missing columns, NaN, negatives, recency > T.

    Raises
    ------
    ChurnDataError
        ``VALUE_MISSING_COLUMN``, ``VALUE_BAD_SUMMARY`` (with the rows and values)
        or ``VALUE_NO_CUSTOMERS``.
    """
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ChurnDataError([Problem(
            "VALUE_MISSING_COLUMN", "error", f"The customer summary has no {c!r} column.",
            column=c, action="build it with rfm_summary") for c in missing])
    if len(summary) == 0:
        raise ChurnDataError([Problem("VALUE_NO_CUSTOMERS", "error",
                                      "The customer summary has no customers.")])
    problems = []
    for c in columns:
        v = pd.to_numeric(summary[c], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            rows, count = example_rows(bad)
            problems.append(Problem(
                "VALUE_BAD_SUMMARY", "error",
                f"{count:,} values of {c!r} are missing, negative or not numbers.",
                column=c, rows=rows, count=count,
                values=example_values(summary[c].to_numpy()[bad])))
    if {"recency", "T"} <= set(columns) and not problems:
        late = summary["recency"].to_numpy(float) > summary["T"].to_numpy(float) + 1e-9
        if late.any():
            rows, count = example_rows(late)
            problems.append(Problem(
                "VALUE_BAD_SUMMARY", "error",
                f"{count:,} customers have a recency after the end of the calibration period.",
                column="recency", rows=rows, count=count))
    if problems:
        raise ChurnDataError(problems)


def compress(summary: pd.DataFrame, columns: Sequence[str]
             ) -> tuple[np.ndarray, ...]:
    """Return the distinct rows of ``columns`` as arrays, plus how many customers share each."""
    values = np.column_stack([summary[c].to_numpy(float) for c in columns])
    distinct, counts = np.unique(values, axis=0, return_counts=True)
    return (*(distinct[:, i] for i in range(len(columns))), counts.astype(float))


def fit_failed(model: str, message: str) -> ChurnDataError:
    """The error raised when an optimiser does not converge."""
    return ChurnDataError([Problem(
        "VALUE_FIT_FAILED", "error",
        f"The {model} model could not be fitted ({message}).",
        action="check that the calibration period holds enough repeat purchases")])
