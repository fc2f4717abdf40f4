"""BG/NBD columns in the event-log build: present, point in time, useful, opt-in."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churn_core.__main__ import main
from churn_core.events.build import SCORING_FILE, TRAINING_FILE, build_tables
from churn_core.events.mapping import propose_mapping
from churn_core.events.staging import prepare_log
from churn_core.events.types import ChurnDefinition
from churn_core.events.value_features import VALUE_FEATURE_LABELS, value_columns

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_sample.csv.gz"
DEFINITION = ChurnDefinition(window_days=90, active_days=365)


@pytest.fixture(scope="module")
def built():
    return build_tables(CDNOW, propose_mapping(CDNOW), DEFINITION, value_features=True,
                        drop_duplicates=False)


def test_columns_in_both_tables_with_labels(built):
    for table in (built.training, built.scoring):
        assert set(VALUE_FEATURE_LABELS) <= set(table.columns)
        assert table["bgnbd_p_alive"].between(0, 1).all()
        assert (table["bgnbd_expected_orders"] >= 0).all()
    assert set(VALUE_FEATURE_LABELS) <= set(built.feature_labels)
    assert set(VALUE_FEATURE_LABELS) <= set(built.summary["features"])


def test_expected_orders_rank_churners(built):
    """On CDNOW, fewer expected orders means churn more often (better than orders in 365 d)."""
    t = built.training
    auc = roc_auc_score(t["churned"], -t["bgnbd_expected_orders"])
    assert auc > 0.72
    assert auc > roc_auc_score(t["churned"], -t["orders_365d"])


def test_point_in_time(tmp_path):
    """Events after a cutoff do not change the value columns at it."""
    cutoff = date(1997, 9, 30)
    orders = pd.read_csv(CDNOW)
    early = tmp_path / "early.csv.gz"
    with gzip.open(early, "wt", encoding="utf-8") as fh:
        orders[pd.to_datetime(orders["date"]) <= pd.Timestamp(cutoff)].to_csv(fh, index=False)
    full = value_columns(prepare_log(CDNOW, propose_mapping(CDNOW), drop_duplicates=False),
                         cutoff, DEFINITION)[0]
    cut = value_columns(prepare_log(early, propose_mapping(early), drop_duplicates=False),
                        cutoff, DEFINITION)[0]
    pd.testing.assert_frame_equal(full.sort_values("customer_id").reset_index(drop=True),
                                  cut.sort_values("customer_id").reset_index(drop=True))


def test_command_line_flag_keeps_and_library_default_off(tmp_path, capsys):
    """``--value-features`` alone (the older flag) means keep; the library's default is off."""
    assert main(["build", str(CDNOW), "--out", str(tmp_path / "v"), "--keep-duplicates",
                 "--value-features"]) == 0
    assert "bgnbd_p_alive" in pd.read_parquet(tmp_path / "v" / TRAINING_FILE).columns
    assert "expected_value_window" in pd.read_parquet(tmp_path / "v" / SCORING_FILE).columns
    plain = build_tables(CDNOW, propose_mapping(CDNOW), DEFINITION)
    assert not set(VALUE_FEATURE_LABELS) & set(plain.training.columns)
    assert "customer_value" not in plain.scoring.columns


def test_the_list_flags_where_bgnbd_and_the_churn_model_disagree(built):
    from churn_core.events.modeling import event_overrides
    from churn_core.model import TrainConfig
    from churn_core.pipeline import check_frame, export_table, fit_all

    checked = check_frame(built.training, overrides=event_overrides(built.training))
    analysis = fit_all(checked.dataset, config=TrainConfig(cv_folds=2, search=False,
                                                           n_estimators=60, side_models=False),
                       k=2, scoring=built.scoring, as_of=built.summary["scoring_date"])
    table = export_table(analysis, 0.0)
    alive = built.scoring.set_index("customer_id")["bgnbd_p_alive"]
    expected = (((1 - alive.loc[table["customer_id"]].to_numpy())
                 - table["churn_probability"].to_numpy()).__abs__() >= 0.5)
    assert table["value_model_disagrees"].dtype == bool
    # probabilities in the table are rounded to 4 decimals: allow the boundary to differ
    assert (table["value_model_disagrees"].to_numpy() == expected).mean() > 0.99
