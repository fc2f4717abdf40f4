"""XGBoost's setting for the Dask engine, chosen on a sample gathered from the cluster.

One machine compares the settings of :data:`churn_core.model.SEARCH_SPACE` on held-out
rows before it trains; the Dask engine does the same on samples gathered to this
process: each setting learns from (at most :data:`churn_core.distributed.train.SEGMENT_ROWS`)
training rows with the learning rate, patience and class weight the cluster training
uses, stops early on at most :data:`SEARCH_VALID_ROWS` rows of the early-stopping part
and is judged there by ROC-AUC. The held-out part is never looked at, so its figures
stay honest. ``--no-search`` keeps the middle setting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn_core.model import (
    SEARCH_MAX_ROUNDS,
    SEARCH_SPACE,
    TrainConfig,
    _fit,
    _learning_rate,
    _params,
    _patience,
    predict_X,
)
from churn_core.progress import Progress

log = logging.getLogger(__name__)

#: Rows of the early-stopping part the settings are judged on, at most.
SEARCH_VALID_ROWS = 50_000


@dataclass(frozen=True)
class SettingChoice:
    """The setting chosen and how each one did.

    Attributes
    ----------
    setting : dict
        The entry of :data:`churn_core.model.SEARCH_SPACE` that ships.
    table : DataFrame
        One row per setting: its values, the learning rate, trees kept, ``valid_auc``.
    train_rows, valid_rows : int
        Rows the settings learnt from and were judged on.
    """

    setting: dict
    table: pd.DataFrame
    train_rows: int
    valid_rows: int

    def records(self) -> list[dict]:
        """The table as JSON-ready rows (kept in the bundle's info)."""
        return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
                for row in self.table.to_dict(orient="records")]


def choose_setting(X_train: pd.DataFrame, y_train: np.ndarray, X_valid: pd.DataFrame,
                   y_valid: np.ndarray, *, config: TrainConfig, device: str, train_rows: int,
                   progress: Progress | None = None) -> SettingChoice | None:
    """Compare the settings of :data:`~churn_core.model.SEARCH_SPACE` on sampled rows.

    Parameters
    ----------
    X_train, y_train : DataFrame, ndarray
        Sampled training rows (transformed features) and their 0/1 labels.
    X_valid, y_valid : DataFrame, ndarray
        Sampled rows of the early-stopping part.
    config : TrainConfig
        Seed, class weight and round limits, as for the cluster training.
    device : {"cpu", "cuda"}
    train_rows : int
        Rows the cluster training learns from (sets the learning rate, as it does there).
    progress : callable, optional

    Returns
    -------
    SettingChoice or None
        None when either sample lacks churners or stayers (nothing to compare on).
    """
    report = progress or (lambda f, m: None)
    if np.unique(y_train).size < 2 or np.unique(y_valid).size < 2:
        log.warning("no setting search: a sample lacks churners or stayers")
        return None
    records = []
    for i, extra in enumerate(SEARCH_SPACE):
        params = _params(config, device, y_train, extra, train_rows=train_rows)
        report(i / len(SEARCH_SPACE), f"Trying setting {i + 1} of {len(SEARCH_SPACE)} on "
               f"{len(y_train):,} sampled rows: {extra}")
        bst = _fit(params, X_train, y_train, X_valid, y_valid,
                   rounds=min(config.n_estimators, SEARCH_MAX_ROUNDS),
                   early_stopping=_patience(config.early_stopping_rounds, params))
        records.append({**extra, "learning_rate": _learning_rate(extra, train_rows),
                        "trees": int(bst.num_boosted_rounds()),
                        "valid_auc": float(roc_auc_score(y_valid, predict_X(bst, X_valid)))})
    table = pd.DataFrame(records)
    best = int(table["valid_auc"].idxmax())
    log.info("settings compared on %d sampled rows: %s", len(y_train),
             table[["valid_auc", "trees"]].round(4).to_dict(orient="records"))
    return SettingChoice(SEARCH_SPACE[best], table, int(len(y_train)), int(len(y_valid)))
