"""``python -m churn_core campaign start|outcomes|report|list``: outputs and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn_core import pipeline
from churn_core.__main__ import main
from churn_core.bundle import save_bundle
from churn_core.model import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "customers.csv"


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory) -> Path:
    head = b"\n".join(SAMPLE.read_bytes().splitlines()[:1201])   # train on 1,200 rows: fast
    check = pipeline.load_and_check(head, name=SAMPLE.name)
    analysis = pipeline.fit_all(check.dataset, k=3,
                                config=TrainConfig(cv_folds=2, search=False, n_estimators=80,
                                                   side_models=False))
    out = tmp_path_factory.mktemp("bundle") / "model"
    save_bundle(out, pipeline.make_bundle(analysis))
    return out


def start(bundle_dir: Path, tmp: Path, name: str, store: Path, *extra: str) -> tuple[int, Path]:
    out = tmp / f"{name}.csv"
    rc = main(["campaign", "start", str(bundle_dir), str(SAMPLE), "--name", name, "--out",
               str(out), "--store", str(store), "--top", "1000", *extra])
    return rc, out


def test_start_writes_the_list_with_groups(bundle_dir, tmp_path, capsys):
    rc, out = start(bundle_dir, tmp_path, "win-back", tmp_path / "s.db", "--holdout", "0.2")
    assert rc == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns) == ["CustomerID", "churn_probability", "risk_tier",
                                   "segment", "reason_1", "reason_2", "reason_3",
                                   "suggested_action", "customer_value", "value_at_risk", "group"]
    assert len(table) == 1000 and (table["group"] == "control").sum() == 200
    text = capsys.readouterr().out
    assert "800 to contact, 200 control" in text and "minimum detectable effect" in text


def test_same_name_and_data_give_the_same_bytes_another_name_does_not(bundle_dir, tmp_path):
    _, a = start(bundle_dir, tmp_path / "", "same", tmp_path / "a.db")
    (tmp_path / "b").mkdir()
    _, b = start(bundle_dir, tmp_path / "b", "same", tmp_path / "b.db")
    _, c = start(bundle_dir, tmp_path, "other", tmp_path / "a.db")
    assert a.read_bytes() == b.read_bytes()
    ga = pd.read_csv(a, encoding="utf-8-sig").set_index("CustomerID")["group"]
    gc = pd.read_csv(c, encoding="utf-8-sig").set_index("CustomerID")["group"]
    assert (ga != gc.reindex(ga.index)).any()


def test_full_loop_outcomes_report_list(bundle_dir, tmp_path, capsys):
    store = tmp_path / "s.db"
    _, out = start(bundle_dir, tmp_path, "loop", store)
    listed = pd.read_csv(out, encoding="utf-8-sig")
    truth = pd.read_csv(SAMPLE)[["CustomerID", "Churn"]]
    outcome = listed[["CustomerID", "group"]].merge(truth, on="CustomerID")
    rng = np.random.default_rng(0)
    saved = (outcome["group"] == "contact") & (rng.uniform(size=len(outcome)) < 0.3)
    outcome["Churn"] = np.where(saved, "No", outcome["Churn"])
    file = tmp_path / "outcomes.csv"
    pd.concat([outcome[["CustomerID", "Churn"]],
               pd.DataFrame({"CustomerID": ["NOT-ON-LIST"], "Churn": ["Yes"]})]
              ).to_csv(file, index=False)
    capsys.readouterr()
    assert main(["campaign", "outcomes", "loop", str(file), "--store", str(store)]) == 0
    text = capsys.readouterr().out
    assert "OUTCOME_UNKNOWN_IDS" in text and "refused (not on the list): 1" in text
    assert main(["campaign", "outcomes", "loop", str(file), "--store", str(store)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    report = tmp_path / "report.json"
    assert main(["campaign", "report", "loop", "--json", str(report), "--store",
                 str(store)]) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    for key in ("uplift_pp", "uplift_ci_low", "uplift_ci_high", "n_contact", "n_control",
                "churn_rate_contact", "churn_rate_control"):
        assert key in data
    assert data["n_contact"] + data["n_control"] == 1000
    assert data["uplift_ci_low"] < data["uplift_pp"] < data["uplift_ci_high"]
    assert len(data["by_decile"]) == 10 and len(data["qini"]) == 10
    capsys.readouterr()
    assert main(["campaign", "list", "--store", str(store)]) == 0
    assert "loop" in capsys.readouterr().out


def test_user_mistakes_exit_2_with_a_message(bundle_dir, tmp_path, capsys):
    store = tmp_path / "s.db"
    assert start(bundle_dir, tmp_path, "dup", store)[0] == 0
    capsys.readouterr()
    assert start(bundle_dir, tmp_path, "dup", store)[0] == 2
    assert "CAMPAIGN_EXISTS" in capsys.readouterr().err
    assert start(bundle_dir, tmp_path, "x", store, "--holdout", "0.9")[0] == 2
    assert "CAMPAIGN_BAD_HOLDOUT" in capsys.readouterr().err
    assert main(["campaign", "report", "missing", "--store", str(store)]) == 2
    assert "CAMPAIGN_NOT_FOUND" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("CustomerID,note\nC00001,hello\n", encoding="utf-8")
    assert main(["campaign", "outcomes", "dup", str(bad), "--store", str(store)]) == 2
    assert "OUTCOME_NO_CHURN_COLUMN" in capsys.readouterr().err
    not_db = tmp_path / "not.db"
    not_db.write_bytes(b"not a database" * 200)
    assert main(["campaign", "list", "--store", str(not_db)]) == 2
    assert "STORE_UNAVAILABLE" in capsys.readouterr().err


def test_runs_as_a_module_with_exit_codes(tmp_path):
    """The real entry point: a subprocess sees status 2 and no traceback."""
    done = subprocess.run([sys.executable, "-m", "churn_core", "campaign", "report", "none",
                           "--store", str(tmp_path / "s.db")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "CAMPAIGN_NOT_FOUND" in done.stderr and "Traceback" not in done.stderr


def test_list_of_an_empty_store(tmp_path, capsys):
    assert main(["campaign", "list", "--store", str(tmp_path / "s.db")]) == 0
    assert "no campaigns yet" in capsys.readouterr().out


def test_uplift_ranks_the_customers_for_the_next_campaign(bundle_dir, tmp_path, capsys):
    store = tmp_path / "s.db"
    rc, out = start(bundle_dir, tmp_path, "learn", store, "--holdout", "0.5")
    assert rc == 0
    ranked = tmp_path / "ranked.csv"
    args = ["campaign", "uplift", "learn", str(bundle_dir), str(SAMPLE), "--out", str(ranked),
            "--store", str(store)]
    capsys.readouterr()
    assert main(args) == 2
    assert "UPLIFT_NO_OUTCOMES" in capsys.readouterr().err
    listed = pd.read_csv(out, encoding="utf-8-sig")
    # Members are current customers: a month later, each leaves with their churn
    # probability, and the offer keeps 30 % of the contacted who would have left.
    outcome = listed[["CustomerID", "group", "churn_probability"]].copy()
    rng = np.random.default_rng(1)
    left = rng.uniform(size=len(outcome)) < outcome["churn_probability"].clip(0.05, 0.95)
    saved = (outcome["group"] == "contact") & (rng.uniform(size=len(outcome)) < 0.3)
    outcome["Churn"] = np.where(left & ~saved, "Yes", "No")
    outcome[["CustomerID", "Churn"]].to_csv(tmp_path / "o.csv", index=False)
    assert main(["campaign", "outcomes", "learn", str(tmp_path / "o.csv"), "--store",
                 str(store)]) == 0
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "learned from 1,000 members" in text and "by uplift" in text
    table = pd.read_csv(ranked, encoding="utf-8-sig")
    current = int((pd.read_csv(SAMPLE)["Churn"] != "Yes").sum())  # customers still here
    assert len(table) == current and table.columns[-1] == "expected_uplift"
    assert table["expected_uplift"].is_monotonic_decreasing
