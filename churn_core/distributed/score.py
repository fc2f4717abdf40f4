"""Scoring partitioned Parquet on a Dask cluster; the output is partitioned Parquet too.

Every partition goes through the single-machine scoring,
:func:`churn_core.score.score_frame`, on a worker: the same probabilities, risk tiers,
segments, reasons (the at-risk rows, or every row), suggested actions and customer values
as the ordinary ``score``, with customers already gone left out. Each output file holds
one input partition's rows with the ordinary output's columns; nothing is collected to
one process but the counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from churn_core.actions import ActionRules
from churn_core.atrisk import REASONS
from churn_core.bundle import ModelBundle
from churn_core.export import pseudonymise
from churn_core.outputs import replace_folder
from churn_core.problems import ChurnDataError, Problem
from churn_core.score import Selected, _check_cut, align_columns, ranked_scores, score_frame

from .parts import parquet_files, read_parts

log = logging.getLogger(__name__)

PART_NAME = re.compile(r"part\.\d+\.parquet")
_EMPTY = ("NO_DATA_ROWS", "NO_CURRENT_CUSTOMERS")


@dataclass(frozen=True)
class DaskScoreResult:
    """What was written: rows scored, rows at risk, the cut-off, the files, problems."""

    rows: int
    at_risk: int
    left_out: int
    threshold: float
    files: int
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class PartitionOptions:
    """The single-machine ``score`` options every partition is scored with."""

    threshold: float | None = None
    at_risk_only: bool = False
    explain_rows: str = "at_risk"
    rules: ActionRules | None = None
    value: float | str | None = None
    device: str = "auto"
    #: ``--pseudonymise``: the ids written as keyed pseudonyms (None: as they are)
    id_secret: bytes | None = None
    #: ``--top N``: the rows to flag in each partition (by partition number) and the cut
    top: tuple[dict[int, np.ndarray], float] | None = None


def output_dtypes(bundle: ModelBundle, options: PartitionOptions) -> dict[str, str]:
    """The columns of every output file, as the ordinary ``score`` writes them."""
    flag = {} if options.at_risk_only else {"at_risk": "bool"}
    return {bundle.schema.id_column or "row": "str", "churn_probability": "float64",
            "risk_tier": "str", **flag, "segment": "str", **dict.fromkeys(REASONS, "str"),
            "suggested_action": "str", "customer_value": "float64", "value_at_risk": "float64"}


def score_partition(part: pd.DataFrame, bundle: ModelBundle, options: PartitionOptions,
                    partition_info: dict | None = None) -> pd.DataFrame:
    """One partition through :func:`churn_core.score.score_frame`: the same columns,
    probabilities, tiers, segments, reasons, actions and values as the ordinary ``score``
    (customers already gone left out); without an id column, rows are named by partition."""
    dtypes = output_dtypes(bundle, options)
    # a worker's threads share the bundle; XGBoost's predict and set_param are not safe on
    # one booster from several threads, so each partition scores with its own copy
    bundle = replace(bundle, booster=bundle.booster.copy())
    number = (partition_info or {}).get("number", 0)
    selected = None
    if options.top is not None:
        rows, cut = options.top
        selected = Selected(rows.get(number, np.empty(0, dtype=np.int64)), cut)
    try:
        result = score_frame(bundle, part.reset_index(drop=True), threshold=options.threshold,
                             at_risk_only=options.at_risk_only,
                             explain_rows=options.explain_rows, rules=options.rules,
                             value=options.value, device=options.device, selected=selected)
    except ChurnDataError as exc:
        if not {p.code for p in exc.problems if p.severity == "error"} <= set(_EMPTY):
            raise
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})
    table = result.table
    name = next(iter(dtypes))
    if not bundle.schema.id_column or bundle.schema.id_column not in part.columns:
        table[name] = [f"part {number} row {i + 1}" for i in result.rows]
    table = table[list(dtypes)]
    if options.id_secret is not None:
        table = pseudonymise(table, secret=options.id_secret)
    return table.astype(dtypes)


def partition_top(part: pd.DataFrame, bundle: ModelBundle, top_n: int,
                  partition_info: dict | None = None) -> pd.DataFrame:
    """A partition's ``top_n`` highest scores among current customers (``part``, ``row``,
    ``score``; ties in row order), by :func:`churn_core.score.ranked_scores`."""
    if len(part) == 0:
        return pd.DataFrame({"part": pd.Series([], dtype="int64"),
                             "row": pd.Series([], dtype="int64"),
                             "score": pd.Series([], dtype="float64")})
    bundle = replace(bundle, booster=bundle.booster.copy())
    ranked = ranked_scores(bundle, part.reset_index(drop=True))
    rows = np.flatnonzero(ranked > -np.inf)
    keep = rows[np.lexsort((rows, -ranked[rows]))[:top_n]]
    return pd.DataFrame({"part": np.full(keep.size, (partition_info or {}).get("number", 0)),
                         "row": keep.astype("int64"), "score": ranked[keep]})


def _top_rows(frame, bundle: ModelBundle, top_n: int) -> tuple[dict[int, np.ndarray], float]:
    """The ``top_n`` riskiest current customers of the whole table, ties broken in
    partition then row order (as the ordinary ``score`` of the partitions one after the
    other breaks them), by partition number; and the cut."""
    meta = pd.DataFrame({"part": pd.Series([], dtype="int64"),
                         "row": pd.Series([], dtype="int64"),
                         "score": pd.Series([], dtype="float64")})
    best = frame.map_partitions(partition_top, bundle, top_n, meta=meta).compute()
    best = best.iloc[np.lexsort((best["row"], best["part"], -best["score"]))[:top_n]]
    rows = {int(k): np.sort(g["row"].to_numpy()) for k, g in best.groupby("part")}
    return rows, float(best["score"].iloc[-1]) if len(best) else float("inf")


def score_dask(bundle: ModelBundle, data: str, out: str | Path, *,
               threshold: float | None = None, top_n: int | None = None,
               options: PartitionOptions | None = None) -> DaskScoreResult:
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
    top_n : int, optional
        Flag exactly the ``top_n`` riskiest current customers instead (a first pass only
        predicts, keeping each partition's ``top_n`` best; ties in partition then row order).
    options : PartitionOptions, optional
        The other ``score`` options (at-risk rows only, which rows get reasons, action
        rules, customer value, device); ``options.threshold`` is replaced by ``threshold``.

    Raises
    ------
    ChurnDataError
        ``DASK_NO_PARQUET``, ``DASK_READ_FAILED``, ``MISSING_COLUMNS`` (checked on the
        column names before any row is read), ``BAD_THRESHOLD``, ``OUTPUT_*``.
    """
    import dask

    _check_cut(threshold, top_n)
    target = Path(out)
    if any(Path(f).resolve().is_relative_to(target.resolve()) for f in parquet_files(data)):
        raise ChurnDataError([Problem(
            "OUTPUT_IS_INPUT", "error", f"{out} holds the input files; writing there would "
            "destroy them.", action="write the scores to another folder")])
    frame = read_parts(data)
    _, problems = align_columns(frame._meta, bundle)  # raises MISSING_COLUMNS up front
    cut = float(bundle.threshold["value"] if threshold is None else threshold)
    options = replace(options or PartitionOptions(), threshold=threshold)
    if top_n is not None:
        options = replace(options, top=_top_rows(frame, bundle, top_n))
        cut = options.top[1]
    dtypes = output_dtypes(bundle, options)
    meta = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})
    scored = frame.map_partitions(score_partition, bundle, options, meta=meta)
    ours = [p.name for p in target.iterdir() if PART_NAME.fullmatch(p.name)] \
        if target.is_dir() else []
    with replace_folder(target, ours=ours) as tmp:
        write = scored.to_parquet(tmp, write_index=False, compute=False,
                                  name_function=lambda i: f"part.{i}.parquet")
        # one pass: the files and the counts come from the same scored partitions
        flagged = scored.shape[0] if options.at_risk_only else scored["at_risk"].sum()
        _, rows, flagged, total = dask.compute(write, scored.shape[0], flagged, frame.shape[0])
        files = len(list(tmp.glob("*.parquet")))
    return DaskScoreResult(rows=int(rows), at_risk=int(flagged), left_out=int(total - rows),
                           threshold=cut, files=files, problems=tuple(problems))
