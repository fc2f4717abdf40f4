"""An event log, built and trained with a backtest by time (the latest cutoff is the test)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_core.events import ChurnDefinition, build_tables, propose_mapping
from churn_core.events.modeling import backtest_splits, event_overrides
from churn_core.model import TrainConfig
from churn_core.pipeline import check_frame, export_table, fit_all


def test_online_retail_backtest_by_time(online_retail_csv, tmp_path):
    definition = ChurnDefinition(window_days=90)
    built = build_tables(online_retail_csv, propose_mapping(online_retail_csv), definition,
                         out_dir=tmp_path)
    training = built.training
    checked = check_frame(training, overrides=event_overrides(training))
    assert checked.usable
    assert "cutoff" not in checked.schema.features
    splits = backtest_splits(training, definition=definition,
                             labelled=checked.dataset.y.notna().to_numpy())
    cut = pd.to_datetime(training["cutoff"])
    assert cut.iloc[splits.test].nunique() == 1
    assert cut.iloc[splits.train].max() < cut.iloc[splits.test].min()
    ids = training["customer_id"].astype(str).to_numpy()
    assert not set(ids[splits.train]) & set(ids[splits.valid])
    analysis = fit_all(checked.dataset, config=TrainConfig(cv_folds=3, side_models=False),
                       splits=splits, k=3, feature_labels=built.feature_labels,
                       scoring=built.scoring, as_of=built.summary["scoring_date"])
    auc = analysis.result.backtest.roc_auc
    assert auc > 0.70, auc
    # The customers to act on: the scoring table, one row per customer, as of the last date.
    table = export_table(analysis, 0.0)
    assert len(table) == len(built.scoring) == table["customer_id"].nunique()
    assert built.summary["scoring_date"] == "2011-12-09"
    assert (table["as_of"] == "2011-12-09").all()
    reasons = analysis.explanation.reasons["reason_1"]
    assert reasons.str.contains("days since the last order|order", case=False).any()
    assert np.isfinite(analysis.scores).all()
