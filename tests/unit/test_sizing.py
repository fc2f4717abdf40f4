"""Learning-curve sizing: the rule that stops growing, and what it bounds in training."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core import sizing
from churn_core.model import TrainConfig
from churn_core.pipeline import check_frame
from churn_core.simulate import simulate_large


def test_growing_stops_at_the_first_doubling_that_gains_too_little():
    seen = []
    aucs = {1000: 0.70, 2000: 0.75, 4000: 0.7700, 8000: 0.7705, 16000: 0.80}

    def fit_auc(n):
        seen.append(n)
        return aucs[n]

    size, curve = sizing.curve_size(fit_auc, 20_000, start=1000, min_gain=0.001)
    assert size == 4000
    assert seen == [1000, 2000, 4000, 8000]  # 16000 never fitted
    assert curve == ((1000, 0.70), (2000, 0.75), (4000, 0.77), (8000, 0.7705))


def test_every_row_is_used_while_each_doubling_pays():
    size, curve = sizing.curve_size(lambda n: n / 1e5, 5000, start=1000, min_gain=0.001)
    assert size == 5000
    assert [n for n, _ in curve] == [1000, 2000, 4000, 5000]


def test_a_worse_bigger_sample_stops_too():
    size, _ = sizing.curve_size(lambda n: 0.8 if n == 1000 else 0.79, 10_000, start=1000)
    assert size == 1000


def test_small_tables_are_not_sized():
    checked = check_frame(simulate_large(2000, n_features=6, seed=1))
    ds = checked.dataset
    rows = np.arange(len(ds.frame))
    out = sizing.size_by_curve(TrainConfig(), "cpu", ds, rows, ds.y.to_numpy(float),
                               train_rows=1200)
    assert out.rows is None and out.curve == ()


@pytest.fixture
def small_curve(monkeypatch):
    monkeypatch.setattr(sizing, "CURVE_MIN_ROWS", 3000)
    monkeypatch.setattr(sizing, "CURVE_HOLDOUT", 1500)
    monkeypatch.setattr(sizing, "CURVE_START", 500)


def test_sizing_is_measured_deterministically_on_a_grouped_holdout(small_curve):
    checked = check_frame(simulate_large(6000, n_features=8, seed=2))
    ds = checked.dataset
    rows = np.arange(len(ds.frame))
    y = ds.y.to_numpy(float)
    runs = [sizing.size_by_curve(TrainConfig(), "cpu", ds, rows, y, train_rows=3800)
            for _ in range(2)]
    first = runs[0]
    assert first.rows is not None and 500 <= first.rows <= 6000
    assert first.curve == runs[1].curve and first.rows == runs[1].rows
    assert first.curve[0][0] == 500
    # the size is the smaller side of the first doubling that gained < CURVE_MIN_GAIN
    gains = [b[1] - a[1] for a, b in zip(first.curve, first.curve[1:], strict=False)]
    assert all(g >= sizing.CURVE_MIN_GAIN for g in gains[:-1])
    assert len(first.search_table) == 4 and first.search
    assert 0 < first.holdout_rows < 6000


def test_training_on_a_sized_table_bounds_the_folds_and_drops_side_models(small_curve):
    from churn_core.training import train

    checked = check_frame(simulate_large(6000, n_features=8, seed=2))
    result = train(checked.dataset, config=TrainConfig(cv_folds=3))
    assert result.sizing.rows is not None
    board = result.leaderboard
    assert set(board["model"]) == {"xgboost", "logistic"}
    assert (board["train_rows_per_fold"] <= result.sizing.rows).all()
    assert np.isfinite(result.oof).all()


def test_unsized_tables_keep_five_folds_and_sized_ones_take_the_fewest_that_hold_the_size():
    from churn_core.training import DEFAULT_FOLDS, auto_folds

    assert auto_folds(4_000, None) == DEFAULT_FOLDS == 5
    # 1M labelled rows sized at 100k: half the rows (80 % of it fitting) already hold 100k
    assert auto_folds(1_000_000, 100_000) == 2
    # 150k rows sized at 100k: 2 folds fit on 60k, 3 on 80k, 4 on 90k: none holds 100k
    assert auto_folds(150_000, 100_000) == 5
    assert auto_folds(150_000, 50_000) == 2
    assert auto_folds(200_000, 100_000) == 3  # 2 folds: 80k < 100k; 3 folds: 106.7k


def test_the_refit_grows_the_trees_by_the_square_root_and_at_most_one_doubling_when_sized():
    from churn_core.training import refit_trees, scaled_trees

    assert refit_trees(100, 3_200, 5_000, None) == scaled_trees(100, 3_200, 5_000) == 125
    assert refit_trees(87, 100_000, 1_000_000, None) == 275  # the square-root rule
    assert refit_trees(87, 100_000, 1_000_000, 100_000) == round(87 * 2 ** 0.5)
    assert refit_trees(87, 100_000, 150_000, 100_000) == scaled_trees(87, 100_000, 150_000)


def test_default_training_on_a_sized_table_cross_fits_on_fewer_folds(small_curve,
                                                                     monkeypatch):
    from churn_core.training import auto_folds, train

    monkeypatch.setattr(sizing, "CURVE_MIN_GAIN", 1.0)  # the first doubling ends the curve
    checked = check_frame(simulate_large(8000, n_features=8, seed=3))
    result = train(checked.dataset, config=TrainConfig(search=False))
    assert result.sizing.rows is not None
    assert result.sizing.rows == 500
    expected = auto_folds(result.rows.size, result.sizing.rows)
    assert int(result.folds.max()) + 1 == expected < 5
    assert np.isfinite(result.oof).all() and np.isfinite(result.scores).all()
    mean_fold_trees = float(np.mean(result.fold_trees))
    assert result.trees <= round(mean_fold_trees * 2 ** 0.5) + 1


def test_a_tie_goes_to_the_simpler_model_unless_the_fold_models_were_sized():
    from churn_core.leaderboard import TIE, FoldScores, choose_champion

    def board(xgb_auc: float, lin_auc: float) -> list[FoldScores]:
        return [FoldScores("xgboost", np.zeros(4), (xgb_auc,), 1.0, 100),
                FoldScores("logistic", np.zeros(4), (lin_auc,), 1.0, 100)]

    tie = board(0.8185, 0.8185 - TIE / 2)
    assert choose_champion(tie) == "logistic"
    assert choose_champion(tie, sized=True) == "xgboost"
    # a clear winner wins either way
    assert choose_champion(board(0.80, 0.81), sized=True) == "logistic"
    assert choose_champion(board(0.81, 0.80)) == "xgboost"
