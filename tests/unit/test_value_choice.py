"""BG/NBD features kept only when they improve the backtest; customer_value by default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn_core.__main__ import main
from churn_core.events import value_choice
from churn_core.events.build import SCORING_FILE, SUMMARY_FILE, TRAINING_FILE, build_tables
from churn_core.events.mapping import propose_mapping
from churn_core.events.types import ChurnDefinition
from churn_core.events.value_choice import MIN_GAIN, check_mode, choose_value_features
from churn_core.events.value_features import VALUE_FEATURE_LABELS
from churn_core.problems import InvalidSetting

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_sample.csv.gz"
DEFINITION = ChurnDefinition(window_days=90, active_days=365)
CANDIDATES = list(VALUE_FEATURE_LABELS)


def _follows_figures(record: dict) -> None:
    """The decision is the rule applied to the reported figures, whatever they are."""
    assert record["mode"] == "auto"
    assert 0.5 < record["with_roc_auc"] < 1 and 0.5 < record["without_roc_auc"] < 1
    gain = round(record["with_roc_auc"] - record["without_roc_auc"], 4)
    assert gain == record["gain"]
    assert record["kept"] == (gain >= MIN_GAIN)
    assert f"{record['with_roc_auc']:.4f}" in record["reason"]
    assert f"{record['without_roc_auc']:.4f}" in record["reason"]


@pytest.fixture(scope="module")
def cdnow_auto():
    return build_tables(CDNOW, propose_mapping(CDNOW), DEFINITION, value=True,
                        value_features="auto", drop_duplicates=False)


def test_cdnow_decision_follows_the_figures(cdnow_auto):
    record = cdnow_auto.summary["value_features"]
    _follows_figures(record)
    assert record["method"].startswith("backtest by time")
    kept = set(CANDIDATES) <= set(cdnow_auto.training.columns)
    assert kept == record["kept"]
    assert kept == (set(CANDIDATES) <= set(cdnow_auto.scoring.columns))
    assert kept == (set(CANDIDATES) <= set(cdnow_auto.summary["features"]))


def test_customer_value_is_in_both_tables_and_never_a_feature(cdnow_auto):
    for table in (cdnow_auto.training, cdnow_auto.scoring):
        v = table["customer_value"]
        assert v.notna().all() and (v > 0).all()
    assert "customer_value" not in cdnow_auto.summary["features"]
    assert cdnow_auto.summary["customer_value"]["column"] == "customer_value"
    # a customer who buys more often is worth more, on average
    s = cdnow_auto.scoring
    assert s.loc[s["orders_365d"] >= 3, "customer_value"].mean() > \
        s.loc[s["orders_365d"] <= 1, "customer_value"].mean()


def test_online_retail_decision_follows_the_figures(online_retail_csv):
    built = build_tables(online_retail_csv, propose_mapping(online_retail_csv),
                         ChurnDefinition(window_days=90), value=True, value_features="auto")
    _follows_figures(built.summary["value_features"])


def _informative(n: int = 3000, cutoffs: int = 6, seed: int = 0) -> pd.DataFrame:
    """A stacked table where churn follows bgnbd_p_alive and no other column."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(cutoffs):
        alive = rng.random(n)
        rows.append(pd.DataFrame({
            "customer_id": pd.array([str(i) for i in range(n)], dtype="string"),
            "cutoff": pd.Timestamp("2020-01-31") + pd.DateOffset(months=k),
            "orders_90d": rng.poisson(2, n).astype(float),
            "bgnbd_p_alive": alive,
            "bgnbd_expected_orders": rng.random(n),
            "churned": (rng.random(n) > alive).astype(int)}))
    return pd.concat(rows, ignore_index=True)


def test_a_column_that_carries_churn_is_kept():
    choice = choose_value_features(_informative(), "auto",
                                   definition=ChurnDefinition(window_days=20))
    assert choice.kept and choice.gain > 0.1
    assert choice.to_dict()["kept"] is True


def test_the_rule_applies_the_min_gain(monkeypatch):
    table = _informative(n=200, cutoffs=4)
    for figures, kept in (((0.7402, 0.7414), False), ((0.6972, 0.6993), False),
                          ((0.7450, 0.7425), True), ((0.7440, 0.7425), False),
                          ((0.7445, 0.7425), True)):                      # 0.002 exactly
        monkeypatch.setattr(value_choice, "measure", lambda *a, f=figures, **k: (*f, "test"))
        choice = choose_value_features(table, "auto")
        assert choice.kept is kept, figures
        # keep keeps whatever the figures, and still reports them
        forced = choose_value_features(table, "keep")
        assert forced.kept and forced.with_auc == figures[0]


def test_off_and_bad_modes():
    assert not choose_value_features(_informative(n=50, cutoffs=2), "off").kept
    assert check_mode(True) == "keep" and check_mode(False) == "off"
    assert check_mode(" Auto ") == "auto"
    with pytest.raises(InvalidSetting):
        check_mode("sometimes")


def test_build_command_defaults_and_switches(tmp_path, capsys):
    out = tmp_path / "auto"
    assert main(["build", str(CDNOW), "--out", str(out), "--keep-duplicates"]) == 0
    text = capsys.readouterr().out
    summary = json.loads((out / SUMMARY_FILE).read_text())
    record = summary["value_features"]
    assert record["mode"] == "auto"
    assert record["reason"] in text and "customer value: customer_value" in text
    assert "customer_value" in pd.read_parquet(out / SCORING_FILE).columns

    assert main(["build", str(CDNOW), "--out", str(tmp_path / "plain"), "--keep-duplicates",
                 "--no-value", "--value-features", "off"]) == 0
    for name in (TRAINING_FILE, SCORING_FILE):
        cols = set(pd.read_parquet(tmp_path / "plain" / name).columns)
        assert not cols & {"customer_value", *CANDIDATES}
    assert main(["build", str(CDNOW), "--out", str(tmp_path / "keep"), "--keep-duplicates",
                 "--value-features", "keep"]) == 0
    kept = json.loads((tmp_path / "keep" / SUMMARY_FILE).read_text())["value_features"]
    assert kept["kept"] and kept["with_roc_auc"] is not None
    assert set(CANDIDATES) <= set(pd.read_parquet(tmp_path / "keep" / TRAINING_FILE).columns)
    with pytest.raises(SystemExit) as stop:
        main(["build", str(CDNOW), "--out", str(tmp_path / "bad"), "--value-features", "maybe"])
    assert stop.value.code == 2


def test_train_uses_customer_value_and_records_the_choice(tmp_path, capsys):
    built = tmp_path / "built"
    assert main(["build", str(CDNOW), "--out", str(built), "--keep-duplicates"]) == 0
    bundle = tmp_path / "bundle"
    capsys.readouterr()
    assert main(["train", str(built / TRAINING_FILE), "--out", str(bundle), "--cv", "2",
                 "--no-search"]) == 0
    text = capsys.readouterr().out
    record = json.loads((built / SUMMARY_FILE).read_text())["value_features"]
    assert record["reason"] in text
    assert "customer value: the build's customer_value" in text
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["metrics"]["value_features"] == record
    listed = pd.read_csv(bundle / "at_risk.csv", dtype={"customer_id": str})
    scoring = pd.read_parquet(built / SCORING_FILE).set_index("customer_id")
    expected = scoring.loc[listed["customer_id"], "customer_value"].to_numpy()
    assert np.allclose(listed["customer_value"].to_numpy(), expected, atol=0.006)
    # a constant given on the command line still wins
    assert main(["train", str(built / TRAINING_FILE), "--out", str(tmp_path / "b2"), "--cv",
                 "2", "--no-search", "--value", "50"]) == 0
    flat = pd.read_csv(tmp_path / "b2" / "at_risk.csv")
    assert (flat["customer_value"] == 50).all()


def test_degenerate_purchase_fit_gives_finite_expectations():
    """A log where nobody seems to drop out fits a -> 0 and huge r, alpha: the expectation
    falls back to its Poisson limit instead of NaN (so customer_value is not lost)."""
    from churn_core.value.bgnbd import BgNbdParams, expected_purchases

    params = BgNbdParams(5.27e6, 2.16e8, 1e-9, 3.4e5, 0.0, 0, "day")
    summary = pd.DataFrame({"frequency": [3.0, 10.0], "recency": [300.0, 500.0],
                            "T": [520.0, 540.0]})
    got = expected_purchases(params, summary, 365.0)
    assert np.isfinite(got).all()
    rate = (params.r + summary["frequency"]) / (params.alpha + summary["T"])
    assert np.allclose(got, rate * 365.0, rtol=1e-3)
