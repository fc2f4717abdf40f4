"""``score --actions FILE``: the rules file drives suggested_action; a bad file exits 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from churn_core.__main__ import main
from churn_core.actions import load_action_rules, suggest_actions


@pytest.fixture(scope="module")
def bundle_dir(sample_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    assert main(["train", str(sample_csv), "--out", str(out), "--cv", "2", "--no-search",
                 "--segments", "2"]) == 0
    return out


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_score_with_a_rules_file(bundle_dir, sample_csv, tmp_path, capsys):
    rules_path = tmp_path / "rules.json"
    rules_path.write_text(json.dumps({
        "rules": [{"keywords": ["complain"], "direction": "above", "action": "CALL ABOUT IT"},
                  {"keywords": "tenure; signup", "action": "WELCOME AGAIN"}],
        "defaults": {"high": "HIGH DEFAULT", "medium": "MEDIUM DEFAULT"}}), encoding="utf-8")
    out = tmp_path / "scores.csv"
    assert main(["score", str(bundle_dir), str(sample_csv), "--out", str(out),
                 "--actions", str(rules_path)]) == 0
    table = _read(out)
    used = set(table["suggested_action"])
    assert used <= {"CALL ABOUT IT", "WELCOME AGAIN", "HIGH DEFAULT", "MEDIUM DEFAULT",
                    "No action: keep in regular communications"}
    assert {"CALL ABOUT IT", "WELCOME AGAIN"} <= used
    # the column is exactly what the rules give for each row's own reasons and tier
    rules = load_action_rules(rules_path)
    assert list(suggest_actions(table, table["risk_tier"], rules)) == \
        table["suggested_action"].tolist()
    complained = table["reason_1"].str.startswith("Complain: yes") & table["risk_tier"].ne("low")
    assert complained.any()
    assert table.loc[complained, "suggested_action"].eq("CALL ABOUT IT").all()

    default_out = tmp_path / "default.csv"
    assert main(["score", str(bundle_dir), str(sample_csv), "--out", str(default_out)]) == 0
    assert "CALL ABOUT IT" not in set(_read(default_out)["suggested_action"])
    capsys.readouterr()


def test_bad_rules_file_exits_2_before_scoring(bundle_dir, sample_csv, tmp_path, capsys):
    rules_path = tmp_path / "rules.csv"
    rules_path.write_text("keywords,direction,action\ntenure,sideways,Call\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    assert main(["score", str(bundle_dir), str(sample_csv), "--out", str(out),
                 "--actions", str(rules_path)]) == 2
    err = capsys.readouterr().err
    assert "ACTION_RULES_INVALID" in err and "[direction]" in err and "'sideways'" in err
    assert "row 1" in err and "Traceback" not in err
    assert not out.exists()
