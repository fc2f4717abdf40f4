"""``python -m churn_core clv``: parameters as JSON, the per-customer table, user mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from churn_core.__main__ import main
from churn_core.events.mapping import propose_mapping
from churn_core.events.staging import prepare_log
from churn_core.value.events import summary_from_log, value_from_log

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_sample.csv.gz"


def test_clv_prints_published_parameters_and_writes_table(tmp_path, capsys):
    out, js = tmp_path / "values.csv", tmp_path / "params.json"
    rc = main(["clv", str(CDNOW), "--calibration-end", "1997-09-30", "--time-unit", "week",
               "--keep-duplicates", "--json", str(js), "--out", str(out)])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(js.read_text(encoding="utf-8"))
    bg, gg = printed["bgnbd"], printed["gamma_gamma"]
    assert [round(bg[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert [round(gg[k], 2) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.44]
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert len(table) == 2357
    assert list(table.columns[:1]) == ["customer_id"]
    assert {"p_alive", "expected_purchases", "expected_spend", "expected_value"} <= set(table)
    assert printed["horizon"] == pytest.approx(90 / 7)


def test_clv_in_days_and_bad_date(tmp_path, capsys):
    rc = main(["clv", str(CDNOW), "--calibration-end", "1997-09-30", "--time-unit", "day"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["bgnbd"]["alpha"] == pytest.approx(4.4136 * 7,
                                                                                   rel=1e-3)
    rc = main(["clv", str(CDNOW), "--calibration-end", "1997-13-45"])
    assert rc == 2
    assert "VALUE_BAD_DATE" in capsys.readouterr().err
    rc = main(["clv", str(CDNOW), "--calibration-end", "1990-01-01"])
    assert rc == 2
    assert "VALUE_NO_CALIBRATION_DATA" in capsys.readouterr().err


def test_staged_log_gives_the_same_summary_as_a_transactions_frame():
    from churn_core.value import rfm_summary

    log = prepare_log(CDNOW, propose_mapping(CDNOW), drop_duplicates=False)
    staged = summary_from_log(log, calibration_end="1997-09-30", time_unit="week")
    frame = rfm_summary(pd.read_csv(CDNOW, dtype={"customer_id": str}), customer="customer_id",
                        timestamp="date", amount="amount", calibration_end="1997-09-30")
    pd.testing.assert_frame_equal(staged.sort_index(), frame.sort_index(), check_exact=False)
    # a log already staged is reused as it is
    result = value_from_log(log, calibration_end="1997-09-30", horizon_days=91)
    assert result.horizon == pytest.approx(13.0)
    assert round(result.models.gamma_gamma.p, 2) == 6.25


def test_online_retail_forecast_tracks_the_holdout(online_retail_csv):
    """UCI Online Retail: fitted to 2011-09-30, the next 10 weeks' purchases per customer.

    The log's drop-out process fits to almost nothing (a -> 0: an NBD), and the
    totals fall short of the Christmas peak, but customers are ranked well.
    """
    import numpy as np

    log = prepare_log(online_retail_csv, propose_mapping(online_retail_csv))
    actual = summary_from_log(log, calibration_end="2011-09-30", time_unit="week",
                              holdout_end="2011-12-09")
    result = value_from_log(log, calibration_end="2011-09-30", time_unit="week",
                            horizon_days=70)
    expected = result.table.set_index("customer_id").loc[actual.index, "expected_purchases"]
    assert len(actual) == 3616
    assert np.corrcoef(actual["frequency_holdout"], expected)[0, 1] > 0.7
    assert 0.6 < expected.sum() / actual["frequency_holdout"].sum() < 1.0
    assert result.table["expected_value"].notna().all()
    assert (result.table["expected_value"] > 0).all()
