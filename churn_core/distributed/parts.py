"""Partitioned Parquet, the held-out split and the model's frame, one partition at a time.

Every function that takes a pandas frame runs on one partition inside a worker; the
rules are the single-machine ones (:func:`churn_core.features.transform`,
:func:`churn_core.labels.encode_label`, :func:`churn_core.dataset.id_text`), applied
partition by partition.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.dataset import id_text
from churn_core.features import Preprocessor, transform
from churn_core.labels import encode_label
from churn_core.model import safe_names
from churn_core.problems import ChurnDataError, Problem
from churn_core.schema import Schema

log = logging.getLogger(__name__)

TRAIN, VALID, TEST = 0, 1, 2
# Of every 1,000 hash buckets of the customer id: 200 are held out for the test,
# 100 watch the training for early stopping, the rest train.
TEST_BUCKETS = 200
VALID_BUCKETS = 100
LABEL = "__label"
SPLIT = "__split"
SAMPLE_ROWS = 50_000  # rows read to one process to infer and check the schema


def _no_parquet(path: str, why: str) -> ChurnDataError:
    return ChurnDataError([Problem(
        "DASK_NO_PARQUET", "error", f"{path}: {why}", values=(path,),
        action="give a folder of Parquet files, a glob such as 'parts/*.parquet', or one "
        "Parquet file")])


def parquet_files(path: str | Path) -> list[str]:
    """The Parquet files a folder, a glob or a single file names (sorted).

    Raises
    ------
    ChurnDataError
        ``DASK_NO_PARQUET`` when nothing matches.
    """
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(glob.glob(text))
    elif Path(text).is_dir():
        files = sorted(str(p) for p in Path(text).rglob("*.parquet")
                       if not any(part.startswith((".", "_")) for part in
                                  p.relative_to(text).parts))
    elif Path(text).is_file():
        files = [text]
    else:
        raise _no_parquet(text, "no such file or folder")
    if not files:
        raise _no_parquet(text, "no Parquet files found there")
    return files


def read_parts(path: str | Path) -> Any:
    """A Dask DataFrame over partitioned Parquet (a folder, a glob or one file).

    Raises
    ------
    ChurnDataError
        ``DASK_NO_PARQUET`` (nothing there), ``DASK_READ_FAILED`` (not Parquet, or the
        files disagree on their columns).
    """
    import dask.dataframe as dd

    files = parquet_files(path)
    try:
        frame = dd.read_parquet(files)
    except Exception as exc:  # pyarrow and dask raise many types for a bad file
        raise ChurnDataError([Problem(
            "DASK_READ_FAILED", "error",
            f"{path}: could not read as Parquet ({str(exc).splitlines()[0][:200]})",
            values=(str(path),), action="check that every file is Parquet with the same "
            "columns")]) from None
    log.info("%s: %d Parquet file(s), %d partition(s)", path, len(files), frame.npartitions)
    return frame


def schema_sample(frame: Any, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """The first rows of every partition, about ``rows`` in all: the schema is inferred and
    checked on them (the whole table never comes to one process)."""
    per_part = max(1, rows // max(frame.npartitions, 1))
    return frame.map_partitions(lambda part: part.head(per_part), meta=frame._meta
                                ).compute().reset_index(drop=True)


def split_of(keys: pd.Series, seed: int) -> np.ndarray:
    """``TRAIN`` / ``VALID`` / ``TEST`` for each row from a keyed hash of its split key.

    Rows with one key share one part wherever they sit (a grouped split), and the answer
    depends on nothing but the key and the seed: every worker, and the single-machine
    comparison, draws the same split.
    """
    salt = f"churn-radar-{seed % 10_000:04d}"[:16]
    bucket = pd.util.hash_pandas_object(keys, index=False, hash_key=salt).to_numpy() % 1000
    return np.where(bucket < TEST_BUCKETS, TEST,
                    np.where(bucket < TEST_BUCKETS + VALID_BUCKETS, VALID, TRAIN)
                    ).astype("int8")


def split_keys(part: pd.DataFrame, schema: Schema, *, by_id: bool) -> pd.Series:
    """What keeps rows together in the split.

    ``by_id`` (tables built from event logs, one row per customer and cutoff): the
    customer id, so a customer's rows never straddle training and test. Otherwise (one
    row per customer): the row's profile, its features and label as text, so exact copies
    stay on one side, as the single-machine folds keep them.
    """
    if by_id:
        return id_text(part, schema.id_column)
    cols = [*schema.features, schema.label_column]
    text = part[cols].astype("string")
    return pd.Series(pd.util.hash_pandas_object(text, index=False).to_numpy(),
                     index=part.index)


def row_split(part: pd.DataFrame, schema: Schema, seed: int, *, by_id: bool) -> np.ndarray:
    """:func:`split_of` for the rows of one partition."""
    return split_of(split_keys(part, schema, by_id=by_id), seed)


def model_frame(part: pd.DataFrame, schema: Schema, pre: Preprocessor,
                seed: int, by_id: bool) -> pd.DataFrame:
    """One partition as the booster sees it: ``f0..fN``, the label (NaN when missing or
    unknown) and the split of each row."""
    X, _ = transform(pre, part)
    X.columns = safe_names(X.shape[1])
    X[LABEL] = encode_label(part[schema.label_column], schema).to_numpy()
    X[SPLIT] = row_split(part, schema, seed, by_id=by_id)
    return X
