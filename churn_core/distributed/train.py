"""Training on a Dask cluster with ``xgboost.dask``: the single-machine rules, partitioned.

Steps (:func:`train_dask`):

1. the schema is inferred and checked (labels, leakage, ids) on a sample of the first rows
   of every partition, with the single-machine rules (:func:`churn_core.pipeline.check_frame`);
   tables built from event logs get their roles as on one machine;
2. rows are split by a keyed hash (of the customer id for event-log tables, of the
   profile otherwise, so copies stay together): 70 % train, 10 % watch the training for
   early stopping, 20 % are held out (:func:`churn_core.distributed.parts.split_keys`);
3. the preprocessing is fitted on the training rows' summaries
   (:mod:`churn_core.distributed.stats`): categories from training data only;
4. the settings of the single machine's search are compared on samples of the training
   and early-stopping parts gathered to this process (:mod:`churn_core.distributed.search`);
   XGBoost then learns on the cluster with the best one and the single-machine rules
   (:data:`churn_core.model.BASE_PARAMS`, the learning rate raised for large tables, the
   same early-stopping patience);
5. customer segments are fitted as on one machine on a sample of the training rows;
6. Platt scaling is fitted on a sample of the early-stopping rows and kept when it lowers
   their log loss, as on one machine;
7. the held-out customers are scored where they lie and measured from histograms of the
   calibrated scores (:mod:`churn_core.distributed.histograms`); the threshold is the best
   F1 there;
8. the drift reference (what ``monitor`` compares fresh data with) is profiled from a
   sample of the held-out rows: their features, and the scores of a model that never saw
   them.

The shipped model is the one measured (no refit on every row, no cross-fitting, no side
models): a bundle the ordinary ``score`` reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from churn_core.bundle import ModelBundle
from churn_core.calibration import Calibration, fit_calibration
from churn_core.events.modeling import event_overrides, is_event_table
from churn_core.model import (
    SEARCH_SPACE,
    TrainConfig,
    _params,
    _patience,
    predict_X,
    safe_names,
)
from churn_core.monitor.profile import categorical_columns, reference_profile, text_values
from churn_core.pipeline import check_frame
from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress
from churn_core.schema import SchemaOverrides
from churn_core.segments import SegmentModel, fit_segments
from churn_core.threshold import medium_floor

from .histograms import HistogramFigures, figures, score_histogram
from .parts import LABEL, SPLIT, TEST, TRAIN, VALID, model_frame, read_parts, schema_sample
from .search import SEARCH_VALID_ROWS, choose_setting
from .stats import fit_preprocessor_dask

log = logging.getLogger(__name__)

METHOD = "Balanced: best F1 on held-out scores (Dask)"
#: Training rows gathered to the client to fit the segments on (as on one machine: K-Means
#: on the behaviour columns; k chosen on 5,000 of them).
SEGMENT_ROWS = 200_000


@dataclass(frozen=True)
class DaskTrainResult:
    """The bundle to save, the held-out figures and the problems found on the sample."""

    bundle: ModelBundle
    held_out: HistogramFigures
    rows: int
    rows_train: int
    rows_valid: int
    seconds: float
    problems: tuple[Problem, ...]


def _checked_schema(sample, overrides: SchemaOverrides | None, confirmed: Iterable[str]):
    user = overrides or SchemaOverrides()
    if is_event_table(sample) and not (user.label_column or user.id_column):
        user = event_overrides(sample)
    checked = check_frame(sample, overrides=user, confirmed=confirmed)
    errors = [p for p in checked.problems if p.severity == "error"]
    if errors:
        raise ChurnDataError(errors)
    if not checked.schema.label_column or not checked.schema.features:
        raise ChurnDataError([Problem("NO_LABEL", "error", "No churn label column and "
                                      "features were found in the sample of the table.",
                                      action="name the label with --label")])
    return checked.schema, tuple(p for p in checked.problems if p.severity != "error")


def _held_out(client: Any, booster: Any, test: Any, names: list[str],
              calibration: Calibration) -> HistogramFigures:
    import dask
    import xgboost as xgb

    scores = xgb.dask.inplace_predict(client, booster, test[names])
    # the threshold is chosen on the probabilities the bundle gives (calibrated)
    parts = [dask.delayed(score_histogram)(y, dask.delayed(calibration.apply)(p))
             for y, p in zip(test[LABEL].to_delayed(), scores.to_delayed(), strict=True)]
    return figures(np.sum(dask.compute(*parts), axis=0))


def _gather(part: Any, rows: int, pre: Any, names: list[str], seed: int,
            limit: int = SEGMENT_ROWS) -> tuple[Any, np.ndarray]:
    """A sample of at most ``limit`` of a part's ``rows`` rows, gathered to this process:
    the features under their own names, and the labels."""
    share = min(1.0, limit / max(rows, 1))
    sample = part.sample(frac=share, random_state=seed).compute() if share < 1.0 \
        else part.compute()
    X = sample[names].set_axis(list(pre.feature_names), axis=1).reset_index(drop=True)
    return X, sample[LABEL].to_numpy(dtype=float)


def _segments(X: Any, y: np.ndarray, seed: int, feature_labels: Mapping[str, str] | None,
              k: int | None) -> SegmentModel | None:
    """Segments fitted as on one machine on the training rows gathered from the cluster
    (None when no column varies)."""
    try:
        return fit_segments(X, y=y, seed=seed, labels=feature_labels, k=k)
    except ChurnDataError as exc:
        if any(p.code != "SEGMENTS_NO_VARIATION" for p in exc.problems):
            raise
        log.warning("no segments: %s", exc.problems[0].message)
        return None


def _calibrated(booster: Any, X: Any, y: np.ndarray, seed: int) -> Calibration:
    """Platt scaling judged as on one machine (on 5 random folds of the rows, kept when it
    lowers their log loss), here on the early-stopping rows gathered from the cluster: the
    held-out rows stay unseen. It matters most with ``--class-weight``, whose weighted
    churners push every raw probability up."""
    folds = np.random.default_rng(seed).integers(0, 5, len(y))
    return fit_calibration(predict_X(booster, X), y, folds)


def _reference(test: Any, rows: int, pre: Any, names: list[str], booster: Any,
               calibration: Calibration, seed: int) -> dict[str, Any]:
    """The drift reference profile from a sample of at most :data:`SEGMENT_ROWS` held-out
    rows: features as :func:`churn_core.monitor.profile.feature_view` gives them (categories
    as the text of their training levels) and the shipped model's scores (out of sample,
    as the single-machine reference's out-of-fold scores are)."""
    X, _ = _gather(test, rows, pre, names, seed + 1)
    view = X.copy()
    for col in pre.categorical:
        view[col] = text_values(X[col].astype(object))
    return reference_profile(view, scores=calibration.apply(predict_X(booster, X)),
                             categorical=categorical_columns(pre))


def train_dask(data: str, *, client: Any, overrides: SchemaOverrides | None = None,
               confirmed: Iterable[str] = (), seed: int = 42, device: str = "cpu",
               feature_labels: Mapping[str, str] | None = None, segments: int | None = None,
               class_weight: bool = False, search: bool = True,
               progress: Progress | None = None) -> DaskTrainResult:
    """Train the churn model on partitioned Parquet with ``xgboost.dask``.

    Parameters
    ----------
    data : str
        A folder of Parquet files, a glob, or one Parquet file.
    client : distributed.Client
        See :func:`churn_core.distributed.cluster.dask_client`.
    overrides : SchemaOverrides, optional
        Label, id and positive value (as ``--label``, ``--id``, ``--positive``).
    confirmed : iterable of str
        Columns flagged as leaking the label that the user keeps.
    seed : int
    device : {"cpu", "cuda"}
    feature_labels : mapping, optional
        Plain-words names of features (event-log builds), saved in the bundle.
    segments : int, optional
        Number of customer segments (``--segments``); default chosen (3 to 8).
    class_weight : bool
        Weight churners up by the training part's stayers per churner (``--class-weight``).
    search : bool
        Compare the settings on samples first (:mod:`churn_core.distributed.search`);
        False (``--no-search``): the middle setting.
    progress : callable, optional

    Returns
    -------
    DaskTrainResult

    Raises
    ------
    ChurnDataError
        ``DASK_NO_PARQUET``, ``DASK_READ_FAILED``, the checks' errors on the sample,
        ``DASK_TOO_FEW_ROWS`` when a part of the split has no churner or no stayer.
    """
    import xgboost as xgb

    report = progress or (lambda f, m: None)
    started = time.perf_counter()
    frame = read_parts(data)
    report(0.05, f"Checking the schema on a sample of {frame.npartitions} partition(s)")
    sample = schema_sample(frame)
    schema, problems = _checked_schema(sample, overrides, confirmed)
    by_id = is_event_table(sample)
    report(0.15, "Fitting the preprocessing on the training rows")
    pre, schema, counts = fit_preprocessor_dask(frame, schema, seed=seed, by_id=by_id)
    if counts.train_churned in (0, counts.train):
        raise ChurnDataError([Problem(
            "DASK_TOO_FEW_ROWS", "error", f"The training part holds {counts.train_churned:,} "
            f"churners among {counts.train:,} labelled rows; both churners and stayers are "
            "needed.", action="use a larger table")])
    meta = model_frame(frame._meta, schema, pre, seed, by_id)
    prepared = frame.map_partitions(model_frame, schema, pre, seed, by_id, meta=meta)
    prepared = prepared.dropna(subset=[LABEL]).persist()
    names = safe_names(len(pre.feature_names))
    part = {k: prepared[prepared[SPLIT] == v] for k, v in
            (("train", TRAIN), ("valid", VALID), ("test", TEST))}
    config = TrainConfig(seed=seed, device=device, class_weight=class_weight)
    # one sample of the training rows for the setting search and the segments
    X_sample, y_sample = _gather(part["train"], counts.train, pre, names, seed)
    choice = None
    # a sample of the early-stopping rows for the search and the calibration
    valid_rows = int(part["valid"].shape[0].compute())
    X_valid, y_valid = _gather(part["valid"], valid_rows, pre, names, seed + 2,
                               limit=SEARCH_VALID_ROWS)
    if search:
        report(0.2, f"Comparing {len(SEARCH_SPACE)} settings on {len(y_sample):,} sampled "
               "training rows")
        choice = choose_setting(X_sample, y_sample, X_valid, y_valid, config=config,
                                device=device, train_rows=counts.train,
                                progress=lambda f, m: report(0.2 + 0.1 * f, m))
    setting = choice.setting if choice else SEARCH_SPACE[1]
    params = _params(config, device, np.empty(0), setting, train_rows=counts.train)
    if class_weight:  # as on one machine: stayers per churner of the training rows
        params["scale_pos_weight"] = (counts.train - counts.train_churned) / \
            counts.train_churned
    patience = _patience(config.early_stopping_rounds, params)
    report(0.3, f"Training XGBoost on {counts.train:,} rows across the cluster")
    dtrain = xgb.dask.DaskQuantileDMatrix(client, part["train"][names], part["train"][LABEL],
                                          enable_categorical=True, max_bin=params["max_bin"])
    dvalid = xgb.dask.DaskDMatrix(client, part["valid"][names], part["valid"][LABEL],
                                  enable_categorical=True)
    output = xgb.dask.train(client, params, dtrain, num_boost_round=config.n_estimators,
                            evals=[(dvalid, "valid")], early_stopping_rounds=patience,
                            verbose_eval=False)
    booster = output["booster"]
    booster = booster[: booster.best_iteration + 1]
    trees = booster.num_boosted_rounds()
    report(0.8, f"{trees} trees; finding customer segments on a sample of the training rows")
    segment_model = _segments(X_sample, y_sample, seed, feature_labels, segments)
    report(0.85, "Measuring on the held-out customers")
    calibration = _calibrated(booster, X_valid, y_valid, seed)
    held = _held_out(client, booster, part["test"], names, calibration)
    reference = _reference(part["test"], held.rows, pre, names, booster, calibration, seed)
    threshold = {"value": held.threshold, "method": METHOD,
                 "detail": {"f1": held.f1, "medium_from": medium_floor(held.threshold)}}
    metrics = {"roc_auc": held.roc_auc, "pr_auc": held.pr_auc, "base_rate": held.base_rate,
               "rows_train": counts.train, "rows_valid": valid_rows, "rows_test": held.rows,
               "rows_labelled": counts.labelled, "engine": "dask",
               "evaluation": "held out: 20% of rows by a keyed hash (grouped)",
               "device": device}
    workers = len(client.scheduler_info().get("workers", {}))
    info = {"seed": seed, "params": params, "device": device, "trees": trees,
            "engine": "dask", "split_by_id": by_id, "workers": workers, "rows": counts.rows,
            "rows_labelled": counts.labelled, "partitions": frame.npartitions,
            "setting": dict(setting),
            "search": {"train_rows": choice.train_rows, "valid_rows": choice.valid_rows,
                       "settings": choice.records()} if choice else None}
    bundle = ModelBundle(booster=booster, preprocessor=pre, schema=schema, segments=segment_model,
                         threshold=threshold, metrics=metrics,
                         feature_labels=dict(feature_labels or {}), info=info,
                         calibration=calibration, reference_profile=reference)
    report(1.0, f"Held-out ROC-AUC {held.roc_auc:.4f}")
    return DaskTrainResult(bundle=bundle, held_out=held, rows=counts.rows,
                           rows_train=counts.train, rows_valid=valid_rows,
                           seconds=time.perf_counter() - started, problems=problems)
