"""Cutoff frequency: "auto" keeps month ends on long logs and looks closer on short ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from churn_core.__main__ import main
from churn_core.events import (
    ChurnDefinition,
    build_tables,
    plan_cutoffs,
    propose_mapping,
    resolve_cutoffs,
    time_split,
)
from churn_core.events.cutoffs import MIN_TRAIN_CUTOFFS, required_days
from churn_core.events.modeling import backtest_splits
from churn_core.problems import ChurnDataError

LAST = date(2011, 12, 9)                    # the last day of UCI Online Retail
DEFAULT = ChurnDefinition()                 # 90-day window, 90 days of history, auto


def _orders(path, first: date, days: int, *, customers: int = 150, seed: int = 0):
    """A small order log: each customer orders every few days until they stop (churn)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(customers):
        start = int(rng.integers(0, days // 3))
        stop = int(rng.integers(start + 20, days + 120))
        day = start
        while day < min(stop, days):
            rows.append((f"c{i:03d}", first + timedelta(days=day), round(rng.gamma(2, 20), 2)))
            day += int(rng.integers(3, 25))
    rows += [("anchor", first, 1.0), ("anchor", first + timedelta(days=days), 1.0)]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame.to_csv(path, index=False)
    return path


def test_long_log_stays_monthly():
    plan = plan_cutoffs(date(2010, 12, 1), LAST, DEFAULT)     # Online Retail's span
    assert plan.frequency == "monthly" and plan.requested == "auto"
    assert plan.test_cutoff == date(2011, 8, 31)
    assert plan.train_cutoffs == (date(2011, 3, 31), date(2011, 4, 30), date(2011, 5, 31))
    assert [p.code for p in plan.problems] == ["EVENTS_CUTOFFS_CHOSEN"]
    assert plan.problems[0].severity == "info"
    monthly = replace(DEFAULT, cutoffs="monthly")
    assert resolve_cutoffs(date(2010, 12, 1), LAST, DEFAULT) == resolve_cutoffs(
        date(2010, 12, 1), LAST, monthly)
    assert plan.to_dict()["frequency"] == "monthly"


def test_short_log_looks_closer():
    # 10 months: month ends leave one training cutoff, every 7 days leaves five
    plan = plan_cutoffs(date(2011, 2, 10), LAST, DEFAULT)
    assert plan.frequency == "weekly"
    assert plan.test_cutoff == LAST - timedelta(days=90)   # the latest outcome-known date
    assert len(plan.train_cutoffs) == 5
    assert {b - a for a, b in zip(plan.cutoffs, plan.cutoffs[1:], strict=False)} == {
        timedelta(days=7)}
    assert plan.problems[0].severity == "info" and "month ends leave 1 " in plan.reason
    # a bit longer: every 14 days is enough and gives fewer, cheaper cutoffs
    plan = plan_cutoffs(date(2011, 1, 20), LAST, DEFAULT)
    assert plan.frequency == "biweekly" and len(plan.train_cutoffs) >= MIN_TRAIN_CUTOFFS
    # nine months: the best is one training cutoff, said as a warning
    plan = plan_cutoffs(date(2011, 3, 10), LAST, DEFAULT)
    assert plan.frequency == "weekly" and len(plan.train_cutoffs) == 1
    assert plan.problems[0].severity == "warning"


def test_explicit_frequencies_are_kept():
    first = date(2011, 2, 10)
    monthly = plan_cutoffs(first, LAST, replace(DEFAULT, cutoffs="monthly"))
    assert monthly.frequency == "monthly" and monthly.problems == ()
    assert len(monthly.train_cutoffs) == 1
    weekly = plan_cutoffs(first, LAST, ChurnDefinition(cutoffs="weekly"))
    assert weekly.frequency == "weekly" and weekly.cutoffs[-1] == LAST - timedelta(days=90)
    dates = plan_cutoffs(first, LAST, ChurnDefinition(cutoffs="2011-05-31,2011-08-31"))
    assert dates.frequency == "dates" and dates.cutoffs == (date(2011, 5, 31), date(2011, 8, 31))
    with pytest.raises(ChurnDataError) as err:
        ChurnDefinition(cutoffs="daily")
    assert err.value.problems[0].code == "EVENTS_BAD_DEFINITION"


def test_too_short_names_the_length_and_a_window_that_fits():
    first = date(2011, 6, 10)                                  # six months
    with pytest.raises(ChurnDataError) as err:
        resolve_cutoffs(first, LAST, DEFAULT)
    problem = err.value.problems[0]
    assert problem.code == "EVENTS_TOO_FEW_CUTOFFS"
    assert required_days(DEFAULT) == 271 and "at least 271 days" in problem.message
    assert "182 days" in problem.message and "window of at most 36 days" in problem.action
    fits = plan_cutoffs(first, LAST, replace(DEFAULT, window_days=36))
    assert len(fits.train_cutoffs) >= MIN_TRAIN_CUTOFFS
    assert len(plan_cutoffs(first, LAST, replace(DEFAULT, window_days=37)).train_cutoffs) < 3
    # exactly the needed span leaves one weekly training cutoff
    just = plan_cutoffs(LAST - timedelta(days=271), LAST, DEFAULT)
    assert len(just.train_cutoffs) == 1
    with pytest.raises(ChurnDataError):
        resolve_cutoffs(LAST - timedelta(days=270), LAST, DEFAULT)


def test_short_log_builds_and_backtests_by_default(tmp_path):
    path = _orders(tmp_path / "orders.csv", date(2023, 1, 1), 300)
    built = build_tables(path, propose_mapping(path))         # every default
    cutoffs = sorted(built.training["cutoff"].dt.date.unique())
    assert {b - a for a, b in zip(cutoffs, cutoffs[1:], strict=False)} == {timedelta(days=7)}
    split = time_split(built.training, definition=DEFAULT)
    plan = plan_cutoffs(date(2023, 1, 1), date(2023, 1, 1) + timedelta(days=300), DEFAULT)
    assert split.test_cutoff == plan.test_cutoff
    assert split.train_cutoffs == plan.train_cutoffs and len(split.train_cutoffs) >= 3
    splits = backtest_splits(built.training, definition=DEFAULT)
    assert len(splits.train) and len(splits.valid) and len(splits.test)


def test_too_short_log_fails_at_build_and_monthly_fails_at_split(tmp_path):
    path = _orders(tmp_path / "orders.csv", date(2023, 1, 1), 250)
    mapping = propose_mapping(path)
    with pytest.raises(ChurnDataError) as err:
        build_tables(path, mapping)
    assert err.value.problems[-1].code == "EVENTS_TOO_FEW_CUTOFFS"
    assert "at least 271 days" in err.value.problems[-1].message
    monthly = ChurnDefinition(cutoffs="monthly")          # two known month ends
    built = build_tables(path, mapping, monthly)
    with pytest.raises(ChurnDataError) as err:
        time_split(built.training, definition=monthly)
    assert "must span at least" in err.value.problems[0].message


def test_cli_build_weekly_then_train(tmp_path, capsys):
    path = _orders(tmp_path / "orders.csv", date(2023, 1, 1), 300, customers=200)
    out = tmp_path / "built"
    assert main(["build", str(path), "--out", str(out), "--cutoffs", "weekly"]) == 0
    printed = capsys.readouterr().out
    assert "cutoffs: weekly (every 7 days as requested)" in printed
    assert "backtest: test cutoff 2023-07-30" in printed     # 90 days before the end
    training = pd.read_parquet(out / "training.parquet")
    steps = set(pd.Series(sorted(training["cutoff"].unique())).diff().dropna().dt.days)
    assert steps == {7}
    assert main(["train", str(out / "training.parquet"), "--out", str(tmp_path / "model"),
                 "--cv", "2", "--no-search", "--segments", "2"]) == 0
    printed = capsys.readouterr().out
    assert "backtest by time (latest cutoff) ROC-AUC" in printed
    # The list is of the customers active at the log's last date, once each, with as_of.
    listed = pd.read_csv(tmp_path / "model" / "at_risk.csv", encoding="utf-8-sig")
    scoring = pd.read_parquet(out / "scoring.parquet")
    assert listed["customer_id"].is_unique
    assert set(listed["customer_id"].astype(str)) <= set(scoring["customer_id"].astype(str))
    assert (listed["as_of"] == "2023-10-28").all() or listed.empty


def test_cli_too_short_log_says_what_is_needed(tmp_path, capsys):
    path = _orders(tmp_path / "orders.csv", date(2023, 1, 1), 180)
    assert main(["build", str(path), "--out", str(tmp_path / "built")]) == 2
    err = capsys.readouterr().err
    assert "EVENTS_TOO_FEW_CUTOFFS" in err and "at least 271 days" in err
    assert "churn window of at most" in err


def test_cli_build_engine_limits(tmp_path, capsys):
    path = _orders(tmp_path / "orders.csv", date(2023, 1, 1), 300, customers=50)
    assert main(["build", str(path), "--out", str(tmp_path / "a")]) == 0
    assert main(["build", str(path), "--out", str(tmp_path / "b"), "--memory-limit", "500MB",
                 "--threads", "1"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "training.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "training.parquet"))
    capsys.readouterr()
    for flag, value in (("--memory-limit", "lots"), ("--threads", "0")):
        with pytest.raises(SystemExit) as exc:
            main(["build", str(path), "--out", str(tmp_path / "c"), flag, value])
        assert exc.value.code == 2
        assert f"argument {flag}: '{value}' is not" in capsys.readouterr().err
