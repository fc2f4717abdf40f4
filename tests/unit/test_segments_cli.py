"""``train --segments K --segment-columns A,B``: segments on the columns asked for."""

from __future__ import annotations

import json

from churn_core.__main__ import main


def test_train_with_chosen_segment_columns(sample_csv, tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["train", str(sample_csv), "--out", str(out), "--cv", "2", "--no-search",
                 "--segments", "3", "--segment-columns", "Tenure, CashbackAmount"]) == 0
    printed = capsys.readouterr().out
    line = next(x for x in printed.splitlines() if x.startswith("segments:"))
    assert line.startswith("segments: 3 on Tenure, CashbackAmount: ")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["segments"]["features"] == ["Tenure", "CashbackAmount"]
    assert len(set(manifest["segments"]["names"])) == 3


def test_unknown_segment_column_is_a_clear_error(sample_csv, tmp_path, capsys):
    code = main(["train", str(sample_csv), "--out", str(tmp_path / "b"), "--cv", "2",
                 "--no-search", "--segment-columns", "NoSuchColumn"])
    assert code == 2
    assert "SEGMENTS_UNKNOWN_FEATURE" in capsys.readouterr().err


def test_one_segment_is_refused_before_training(sample_csv, tmp_path, capsys):
    code = main(["train", str(sample_csv), "--out", str(tmp_path / "b"), "--cv", "2",
                 "--no-search", "--segments", "1"])
    assert code == 2
    assert "SEGMENTS_TOO_FEW" in capsys.readouterr().err
