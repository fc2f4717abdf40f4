"""The customers to act on, apart from the labelled history the model learns from.

Two populations, one rule each:

- **the history** (:func:`labelled_rows`): every row with a churn label; the model
  learns from all of them and each gets an out-of-fold score;
- **the customers to act on** (:class:`Population`): in a customer table, the rows
  whose label says *not churned* or is blank (customers already gone are never
  listed); after an event-log build, the scoring table as of the latest date, one
  row per customer with an ``as_of`` date; when scoring a new file, that file.

A customer to act on who is also a training row keeps its out-of-fold score: the
shipped model has seen that row and its in-sample score would flatter it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_core.problems import ChurnDataError, Problem


@dataclass(frozen=True)
class Population:
    """Customers to act on with their honest scores.

    Attributes
    ----------
    ids : ndarray of str
        Customer ids as text.
    scores : ndarray of float
        Churn probability of each customer.
    X : DataFrame
        Their features through the shipped preprocessor (index 0..n-1).
    as_of : str or None
        Date the features describe (event-log builds).
    description : str
        Who these customers are, in words, for captions and notes.
    rows : ndarray of int or None
        Positions in the training table when the customers are rows of it.
    value : ndarray of float or None
        What each customer is worth as estimated by an event-log build
        (its ``customer_value`` column, not a feature); None without one.
    """

    ids: np.ndarray
    scores: np.ndarray
    X: pd.DataFrame
    as_of: str | None
    description: str
    rows: np.ndarray | None = None
    value: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.scores.size)


def act_on_rows(y: pd.Series | np.ndarray) -> np.ndarray:
    """Positions of rows whose label says not churned (0) or is blank (NaN)."""
    v = np.asarray(y, dtype=float)
    return np.flatnonzero(~(v == 1))


def from_table(dataset, X: pd.DataFrame, scores: np.ndarray) -> Population:
    """The customers to act on in a labelled customer table.

    Raises
    ------
    ChurnDataError
        ``NO_CURRENT_CUSTOMERS`` when every row's label says churned.
    """
    rows = act_on_rows(dataset.y)
    schema = dataset.schema
    if rows.size == 0:
        raise ChurnDataError([Problem(
            "NO_CURRENT_CUSTOMERS", "error",
            f"Every row's {schema.label_column!r} says churned: there is nobody left to "
            "contact.", column=schema.label_column,
            action="add the customers who are still active (label not churned, or blank)")])
    stay = [k for k, v in schema.label_mapping.items() if v == 0][:3]
    said = " or ".join(repr(s) for s in stay) if stay else "not churned"
    description = (f"customers whose {schema.label_column!r} is {said} or blank "
                   f"({rows.size:,} of {len(dataset.y):,} rows)")
    return Population(ids=dataset.ids.to_numpy()[rows].astype(str), scores=scores[rows],
                      X=X.iloc[rows].reset_index(drop=True), as_of=None,
                      description=description, rows=rows)


def from_scoring_table(ids: pd.Series, X: pd.DataFrame, scores: np.ndarray, *,
                       as_of: str | None, value: np.ndarray | None = None) -> Population:
    """The customers of an event-log build's scoring table (one row per customer);
    ``value``: the build's ``customer_value`` of each, when it has one."""
    text = pd.Series(ids).astype(str).to_numpy()
    return Population(ids=text, scores=np.asarray(scores, dtype=float),
                      value=None if value is None else np.asarray(value, dtype=float),
                      X=X.reset_index(drop=True), as_of=as_of,
                      description=f"active customers as of {as_of}" if as_of
                      else "customers of the scoring table")
