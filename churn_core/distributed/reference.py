"""The single-machine path on the Dask path's split: the yardstick for its accuracy.

Fits the same preprocessing rules and XGBoost setting in one process with
:mod:`churn_core.model`, on the rows :func:`churn_core.distributed.parts.split_of`
puts in training, stops early on its watch rows, and measures the held-out rows
exactly. Used by the tests and ``bench/bench_dask.py``; it holds the whole table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn_core.features import fit_preprocessor, transform
from churn_core.labels import encode_label
from churn_core.model import SEARCH_SPACE, TrainConfig, _fit, _params, _patience, predict_X
from churn_core.schema import Schema

from .parts import TEST, TRAIN, VALID, row_split
from .search import SEARCH_VALID_ROWS, choose_setting
from .train import SEGMENT_ROWS


def single_machine_auc(frame: pd.DataFrame, schema: Schema, *, seed: int = 42,
                       by_id: bool = False, device: str = "cpu",
                       setting: dict | None = None) -> tuple[float, int]:
    """Held-out ROC-AUC and tree count of single-machine XGBoost on the Dask split.

    Parameters
    ----------
    frame : DataFrame
        The whole table.
    schema : Schema
        The schema the Dask path used (``bundle.schema``).
    seed, by_id : int, bool
        As the Dask path used them (``bundle.info["seed"]``, ``bundle.info["split_by_id"]``).
    setting : dict, optional
        The XGBoost setting (``bundle.info["setting"]``); None: chosen as the Dask path
        chooses it, by :func:`churn_core.distributed.search.choose_setting` on samples of
        the training and early-stopping rows.
    """
    y = encode_label(frame[schema.label_column], schema).to_numpy()
    split = row_split(frame, schema, seed, by_id=by_id)
    labelled = ~np.isnan(y)
    rows = {k: np.flatnonzero(labelled & (split == k)) for k in (TRAIN, VALID, TEST)}
    pre = fit_preprocessor(frame.iloc[rows[TRAIN]], schema)
    X = {k: transform(pre, frame.iloc[r])[0] for k, r in rows.items()}
    config = TrainConfig(seed=seed, device=device)
    if setting is None:
        rng = np.random.default_rng(seed)
        tr = rng.permutation(rows[TRAIN].size)[:SEGMENT_ROWS]
        va = rng.permutation(rows[VALID].size)[:SEARCH_VALID_ROWS]
        choice = choose_setting(X[TRAIN].iloc[tr], y[rows[TRAIN]][tr], X[VALID].iloc[va],
                                y[rows[VALID]][va], config=config, device=device,
                                train_rows=rows[TRAIN].size)
        setting = choice.setting if choice else SEARCH_SPACE[1]
    params = _params(config, device, np.empty(0), setting, train_rows=rows[TRAIN].size)
    booster = _fit(params, X[TRAIN], y[rows[TRAIN]], X[VALID], y[rows[VALID]],
                   rounds=config.n_estimators,
                   early_stopping=_patience(config.early_stopping_rounds, params))
    auc = roc_auc_score(y[rows[TEST]], predict_X(booster, X[TEST]))
    return float(auc), booster.num_boosted_rounds()
