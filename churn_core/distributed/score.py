"""Scoring partitioned Parquet on a Dask cluster; the output is partitioned Parquet too.

Every partition is aligned, transformed and scored with the single-machine rules
(:func:`churn_core.score.align_columns`, :func:`churn_core.features.transform`, the
bundle's calibrated model, :func:`churn_core.threshold.risk_tiers`); rows whose label
says churned are left out, as by the ordinary ``score``. Each output file holds
``id``, ``churn_probability``, ``risk_tier`` and ``at_risk`` for one input partition;
nothing is collected to one process but the counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.bundle import ModelBundle
from churn_core.dataset import id_text
from churn_core.export import at_risk_table
from churn_core.features import transform
from churn_core.labels import encode_label
from churn_core.outputs import replace_folder
from churn_core.problems import ChurnDataError, Problem
from churn_core.score import _check_cut, align_columns
from churn_core.threshold import risk_tiers

from .parts import parquet_files, read_parts

log = logging.getLogger(__name__)

COLUMNS = ("churn_probability", "risk_tier", "at_risk")
PART_NAME = re.compile(r"part\.\d+\.parquet")


@dataclass(frozen=True)
class DaskScoreResult:
    """What was written: rows scored, rows at risk, the cut-off, the files, problems."""

    rows: int
    at_risk: int
    left_out: int
    threshold: float
    files: int
    problems: tuple[Problem, ...]


def _id_name(bundle: ModelBundle, columns: Any) -> str | None:
    id_col = bundle.schema.id_column
    return id_col if id_col and id_col in columns else None


def score_partition(part: pd.DataFrame, bundle: ModelBundle, cut: float,
                    medium_from: float | None, partition_info: dict | None = None
                    ) -> pd.DataFrame:
    """One partition's scores: the id, ``churn_probability``, ``risk_tier``, ``at_risk``."""
    label = bundle.schema.label_column
    if label and label in part.columns and bundle.schema.label_mapping:
        part = part[(encode_label(part[label], bundle.schema) != 1).to_numpy()]
    id_col = _id_name(bundle, part.columns)
    if id_col is not None:
        ids = id_text(part, id_col)
    else:  # no id column: the partition and the row within it
        k = (partition_info or {}).get("number", 0)
        ids = pd.Series([f"part {k} row {i}" for i in range(1, len(part) + 1)], dtype="str")
    aligned, _ = align_columns(part, bundle)
    X, _ = transform(bundle.preprocessor, aligned)
    scores = np.asarray(bundle.predict(X), dtype=float) if len(X) else np.empty(0)
    tiers = risk_tiers(scores, cut, medium_from=medium_from)
    table = at_risk_table(ids.to_numpy(), scores, tiers, None, None, [""] * len(scores),
                          id_name=id_col or "row", threshold=cut, keep_order=True)
    name = id_col or "row"
    return table[[name, *COLUMNS]].astype({name: "str", "churn_probability": "float64",
                                           "risk_tier": "str", "at_risk": "bool"})


def score_dask(bundle: ModelBundle, data: str, out: str | Path, *,
               threshold: float | None = None) -> DaskScoreResult:
    """Score partitioned Parquet with a bundle; write one Parquet file per partition.

    Runs on the Dask client current in this process (see
    :func:`churn_core.distributed.cluster.dask_client`).

    Parameters
    ----------
    bundle : ModelBundle
        From ``train --engine dask`` or the ordinary ``train``.
    data : str
        A folder of Parquet files, a glob, or one Parquet file.
    out : str or Path
        The folder to write (replaced whole; refused if it holds other files).
    threshold : float, optional
        Cut-off; default the bundle's saved one (and its medium tier).

    Raises
    ------
    ChurnDataError
        ``DASK_NO_PARQUET``, ``DASK_READ_FAILED``, ``MISSING_COLUMNS`` (checked on the
        column names before any row is read), ``BAD_THRESHOLD``, ``OUTPUT_*``.
    """
    import dask

    _check_cut(threshold, None)
    target = Path(out)
    if any(Path(f).resolve().is_relative_to(target.resolve()) for f in parquet_files(data)):
        raise ChurnDataError([Problem(
            "OUTPUT_IS_INPUT", "error", f"{out} holds the input files; writing there would "
            "destroy them.", action="write the scores to another folder")])
    frame = read_parts(data)
    _, problems = align_columns(frame._meta, bundle)  # raises MISSING_COLUMNS up front
    cut = float(bundle.threshold["value"] if threshold is None else threshold)
    medium_from = bundle.threshold.get("detail", {}).get("medium_from") \
        if threshold is None else None
    meta = score_partition(frame._meta, bundle, cut, medium_from)
    scored = frame.map_partitions(score_partition, bundle, cut, medium_from, meta=meta)
    ours = [p.name for p in target.iterdir() if PART_NAME.fullmatch(p.name)] \
        if target.is_dir() else []
    with replace_folder(target, ours=ours) as tmp:
        write = scored.to_parquet(tmp, write_index=False, compute=False,
                                  name_function=lambda i: f"part.{i}.parquet")
        # one pass: the files and the counts come from the same scored partitions
        _, rows, flagged, total = dask.compute(write, scored.shape[0], scored["at_risk"].sum(),
                                               frame.shape[0])
        files = len(list(tmp.glob("*.parquet")))
    return DaskScoreResult(rows=int(rows), at_risk=int(flagged), left_out=int(total - rows),
                           threshold=cut, files=files, problems=tuple(problems))
