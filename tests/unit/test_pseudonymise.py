"""Pseudonymous ids: keyed hashes in the written lists (CLI) and the Alerts download."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from churn_core.__main__ import main
from churn_core.export import pseudonymise
from tests.conftest import SAMPLE_CSV

SECRET = "a-long-enough-secret-key"


def _hashed(value: str) -> str:
    return hmac.new(SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def test_pseudonymise_replaces_the_id_column_only():
    table = pd.DataFrame({"CustomerID": ["C1", "C2"], "churn_probability": [0.9, 0.8]})
    out = pseudonymise(table, secret=SECRET.encode())
    assert list(out.columns) == list(table.columns)
    assert out["CustomerID"].tolist() == [_hashed("C1"), _hashed("C2")]
    assert out["churn_probability"].tolist() == [0.9, 0.8]
    assert table["CustomerID"].tolist() == ["C1", "C2"]  # the input is left alone


def test_cli_train_and_score_write_pseudonyms(tmp_path, monkeypatch, capsys):
    head = tmp_path / "head.csv"
    pd.read_csv(SAMPLE_CSV).head(800).to_csv(head, index=False)
    monkeypatch.delenv("CHURN_RADAR_ID_SECRET", raising=False)
    args = ["train", str(head), "--out", str(tmp_path / "m"), "--cv", "2", "--no-search",
            "--pseudonymise"]
    assert main(args) == 2  # no key: refused before any training
    assert "ID_SECRET_MISSING" in capsys.readouterr().err
    monkeypatch.setenv("CHURN_RADAR_ID_SECRET", SECRET)
    assert main(args) == 0
    listed = pd.read_csv(tmp_path / "m" / "at_risk.csv", encoding="utf-8-sig")
    raw = pd.read_csv(head, dtype={"CustomerID": str})
    assert set(listed["CustomerID"]) <= {_hashed(c) for c in raw["CustomerID"]}
    assert main(["score", str(tmp_path / "m"), str(head), "--out", str(tmp_path / "s.csv"),
                 "--pseudonymise"]) == 0
    scored = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig")
    assert not set(scored["CustomerID"]) & set(raw["CustomerID"])
    assert scored["CustomerID"].str.fullmatch(r"[0-9a-f]{16}").all()
