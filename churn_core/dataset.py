"""The validated table packaged for modelling: label, ids, split groups and a fingerprint."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from churn_core.labels import encode_label
from churn_core.problems import Problem
from churn_core.schema import Schema

logger = logging.getLogger(__name__)

MAX_PROFILE_COPIES = 20
"""Rows sharing a feature profile are grouped only up to this many copies: a profile
shared by more rows is a common combination of coarse values, not a copied record,
and grouping it would make one split swallow most of the data."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A table ready for :func:`churn_core.model.train`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table as read (all rows, original order).
    schema : Schema
        Final schema (after validation).
    y : pandas.Series
        float 0/1 label, NaN where missing; index = ``frame.index``.
    ids : pandas.Series
        Customer ids as text, ``"row N"`` (1-based) when there is no id column or the
        id is missing; index = ``frame.index``.
    groups : numpy.ndarray
        int64 group per row; rows with the same id or the same feature profile
        (all features and the label equal) share a group. Splits never cut a group.
    fingerprint : str
        :func:`fingerprint_frame` of ``frame``.
    problems : tuple of Problem
        Problems collected so far (reading, schema, validation).
    """

    frame: pd.DataFrame
    schema: Schema
    y: pd.Series
    ids: pd.Series
    groups: np.ndarray
    fingerprint: str
    problems: tuple[Problem, ...]

    @property
    def labelled(self) -> np.ndarray:
        """Boolean mask of rows with a label (the rows a model can learn from)."""
        return self.y.notna().to_numpy()


def prepare_dataset(frame: pd.DataFrame, schema: Schema, *,
                    problems: Iterable[Problem] = ()) -> Dataset:
    """Package ``frame`` with its label, ids, split groups and fingerprint.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read.
    schema : Schema
        Usually ``ValidationReport.schema``.
    problems : iterable of Problem
        Problems to carry along.

    Returns
    -------
    Dataset
    """
    if schema.label_column in frame.columns and schema.label_mapping:
        y = encode_label(frame[schema.label_column], schema)
    else:
        y = pd.Series(np.nan, index=frame.index, dtype="float64")
    ids = id_text(frame, schema.id_column)
    groups = _groups(frame, schema)
    logger.info("dataset: %d rows, %d labelled, %d groups", len(frame), int(y.notna().sum()),
                int(groups.max()) + 1 if groups.size else 0)
    return Dataset(frame=frame, schema=schema, y=y, ids=ids, groups=groups,
                   fingerprint=fingerprint_frame(frame), problems=tuple(problems))


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """Return a sha256 hex digest of the values and column names of ``frame``.

    Equal tables give equal fingerprints; the row index is ignored.
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    digest.update(str(frame.shape).encode("ascii"))
    if frame.shape[1]:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def id_text(frame: pd.DataFrame, id_column: str | None) -> pd.Series:
    """Customer ids as text, the one rule for the model, the lists and every export.

    Whole-number floats lose their ``.0`` (``50001.0`` -> ``"50001"``), text is kept
    exactly as read (trimming could merge ``" A1"`` and ``"A1"``), and a missing id,
    or a table with no id column, becomes ``"row N"`` (1-based row of the table), so
    every customer on a list can be found again.
    """
    n = len(frame)
    if id_column is None or id_column not in frame.columns:
        return pd.Series([f"row {i}" for i in range(1, n + 1)], index=frame.index, dtype="str")
    ids = frame[id_column]
    present = ids.dropna()
    if pd.api.types.is_float_dtype(ids) and np.all(np.mod(present, 1) == 0) \
            and np.all(present.abs() <= 2**53):
        ids = ids.astype("Int64")  # 50001.0 -> "50001"
    # kept exactly as read: trimming could merge two customers (" A1" and "A1")
    text = ids.astype("string")
    missing = text.isna().to_numpy()
    if missing.any():
        text[missing] = [f"row {i + 1}" for i in np.flatnonzero(missing)]
    return text.astype("str").rename(id_column)


def _groups(frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """Connected components of "same id" and "same profile" links between rows."""
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rows, nodes = [np.arange(n)], [np.arange(n)]
    offset = n
    if schema.id_column in frame.columns:
        codes, uniq = pd.factorize(frame[schema.id_column])
        linked = codes >= 0  # a missing id links nothing
        rows.append(np.flatnonzero(linked))
        nodes.append(offset + codes[linked])
        offset += len(uniq)
    cols = list(schema.features)
    if cols:
        if schema.label_column in frame.columns:
            cols.append(schema.label_column)
        hashes = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()
        codes, uniq = pd.factorize(hashes)
        sizes = np.bincount(codes)
        linked = (sizes[codes] > 1) & (sizes[codes] <= MAX_PROFILE_COPIES)
        rows.append(np.flatnonzero(linked))
        nodes.append(offset + codes[linked])
        offset += len(uniq)
    r, c = np.concatenate(rows), np.concatenate(nodes)
    graph = coo_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(offset, offset))
    _, labels = connected_components(graph, directed=False)
    groups, _ = pd.factorize(labels[:n])
    return groups.astype(np.int64)
