"""The Dask engine: train/score --engine dask on partitioned Parquet (issue 20, item 4).

A local cluster of 2 workers runs as threads of the test process (light for CI); the
command line is called as users call it. ``./dev.sh setup`` installs Dask
(requirements-dask.txt), so CI runs every test here.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churn_core.__main__ import main
from churn_core.bundle import load_bundle
from churn_core.problems import ChurnDataError
from churn_core.simulate import simulate_customers

HAVE_DASK = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="Dask is not installed "
                                "(pip install -r requirements-dask.txt)")
ROWS = 30_000
PARTS = 4


@pytest.fixture(scope="module", autouse=True)
def local_threads():
    """Local clusters of this module run their 2 workers as threads, and a bad scheduler
    address gives up after 2 s."""
    if not HAVE_DASK:
        yield
        return
    from churn_core.distributed import cluster

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cluster, "LOCAL_PROCESSES", False)
        mp.setattr(cluster, "CONNECT_TIMEOUT_S", 2)
        yield


def run(argv: list[str]) -> tuple[int, str, str]:
    """The command line's exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _as_parts(sample: pd.DataFrame, root: Path, parts: int) -> tuple[Path, Path]:
    """``sample`` as a folder of ``parts`` Parquet files in row order, and as one file."""
    folder, single = root / "new", root / "new.parquet"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(sample)), parts)):
        sample.iloc[rows].to_parquet(folder / f"p{i}.parquet", index=False)
    sample.to_parquet(single, index=False)
    return folder, single


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulate_customers(ROWS, seed=11)


@pytest.fixture(scope="module")
def parts(table, tmp_path_factory) -> Path:
    """The simulated table as a folder of 4 Parquet files."""
    folder = tmp_path_factory.mktemp("parts")
    for i, rows in enumerate(np.array_split(np.arange(len(table)), PARTS)):
        table.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def trained(parts, tmp_path_factory) -> tuple[Path, str]:
    """``train --engine dask`` on the folder: the bundle and what it printed."""
    bundle = tmp_path_factory.mktemp("model") / "bundle"
    code, out, err = run(["train", str(parts), "--engine", "dask", "--out", str(bundle)])
    assert code == 0, err
    return bundle, out


@needs_dask
def test_dask_auc_within_0005_of_single_machine_on_the_same_split(trained, table):
    from churn_core.distributed.reference import single_machine_auc

    path, out = trained
    bundle = load_bundle(path)
    assert bundle.info["engine"] == "dask" and bundle.info["workers"] == 2
    assert bundle.info["partitions"] == PARTS
    dask_auc = bundle.metrics["roc_auc"]
    single_auc, _ = single_machine_auc(table, bundle.schema, seed=bundle.info["seed"],
                                       by_id=bundle.info["split_by_id"],
                                       setting=bundle.info["setting"])
    assert abs(dask_auc - single_auc) < 0.005, (dask_auc, single_auc)
    assert dask_auc > 0.8  # the simulated table is learnable: not a pair of coin flips
    assert f"held-out ROC-AUC: {dask_auc:.4f}" in out
    # the setting: the best of the single machine's search, compared on sampled rows of the
    # training and early-stopping parts (never the held-out part)
    from churn_core.model import SEARCH_SPACE

    search = bundle.info["search"]
    aucs = [row["valid_auc"] for row in search["settings"]]
    assert len(aucs) == len(SEARCH_SPACE) and len(set(aucs)) > 1
    assert bundle.info["setting"] == SEARCH_SPACE[int(np.argmax(aucs))]
    assert bundle.info["params"]["max_depth"] == bundle.info["setting"]["max_depth"]
    assert search["train_rows"] == bundle.metrics["rows_train"]  # under 200k: every one
    assert 0 < search["valid_rows"] == bundle.metrics["rows_valid"]
    assert f"the best of {len(SEARCH_SPACE)} compared on {search['train_rows']:,}" in out
    # the held-out rows were never trained on, and no customer straddles the split
    rows = bundle.metrics
    assert rows["rows_train"] + rows["rows_valid"] + rows["rows_test"] == rows["rows_labelled"]
    assert 0.15 < rows["rows_test"] / rows["rows_labelled"] < 0.25


@needs_dask
def test_histogram_auc_matches_the_exact_auc_of_the_held_out_rows(trained, table):
    from churn_core.distributed.parts import TEST, row_split
    from churn_core.labels import encode_label
    from churn_core.score import predict_frame

    bundle = load_bundle(trained[0])
    test = table[row_split(table, bundle.schema, bundle.info["seed"],
                           by_id=bundle.info["split_by_id"]) == TEST]
    y = encode_label(test[bundle.schema.label_column], bundle.schema).to_numpy()
    exact = roc_auc_score(y, predict_frame(bundle, test))
    assert bundle.metrics["rows_test"] == len(test)
    assert abs(bundle.metrics["roc_auc"] - exact) < 1e-3


@needs_dask
def test_dask_bundle_scores_identically_through_the_ordinary_score(trained, table, tmp_path):
    sample = table.iloc[:3000]
    folder, single_file = _as_parts(sample, tmp_path, 3)
    bundle = str(trained[0])
    code, _, err = run(["score", bundle, str(single_file), "--out", str(tmp_path / "a.csv")])
    assert code == 0, err
    code, out, err = run(["score", bundle, str(folder), "--engine", "dask",
                          "--out", str(tmp_path / "scored")])
    assert code == 0, err
    ordinary = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    files = sorted((tmp_path / "scored").glob("*.parquet"))
    assert len(files) == 3  # one output file per input partition
    dask_out = pd.read_parquet(tmp_path / "scored")
    # the ordinary score's columns: segments, reasons, actions and values included
    assert list(dask_out.columns) == list(ordinary.columns)
    assert {"segment", "reason_1", "suggested_action", "value_at_risk"} <= set(dask_out.columns)
    assert load_bundle(bundle).segments is not None and (dask_out["segment"] != "").all()
    merged = ordinary.merge(dask_out, on="CustomerID", suffixes=("", "_dask"))
    assert len(merged) == len(ordinary) == len(dask_out)  # churned rows left out by both
    for col in ("churn_probability", "customer_value", "value_at_risk"):
        np.testing.assert_allclose(merged[col].astype(float), merged[f"{col}_dask"], rtol=0,
                                   atol=1e-12, err_msg=col)
    for col in ("risk_tier", "segment", "reason_1", "reason_2", "reason_3",
                "suggested_action"):
        assert (merged[col] == merged[f"{col}_dask"].astype(str)).all(), col
    assert (merged["at_risk"] == merged["at_risk_dask"].astype(str)).all()
    at_risk = merged["at_risk_dask"].astype(bool)
    assert at_risk.any() and (merged.loc[at_risk, "reason_1_dask"] != "").all()
    churned = set(sample.loc[sample["Churn"] == "Yes", "CustomerID"])
    assert churned and not churned & set(dask_out["CustomerID"])  # customers already gone
    assert f"scored {len(dask_out):,} customers; {int(dask_out['at_risk'].sum()):,} at risk" \
        in out


@needs_dask
def test_categories_are_fitted_on_training_rows_only(table):
    import dask.dataframe as dd

    from churn_core.distributed.parts import TEST, TRAIN, row_split
    from churn_core.distributed.stats import fit_preprocessor_dask
    from churn_core.pipeline import check_frame

    frame = table.iloc[:4000].copy()
    schema = check_frame(frame).schema
    assert "PreferedOrderCat" in schema.categorical
    # the split hashes each row's profile: the rows that are held out once they hold the
    # odd level get it
    odd = frame.assign(PreferedOrderCat="Only in test")
    chosen = np.flatnonzero(row_split(odd, schema, 42, by_id=False) == TEST)[:5]
    frame.iloc[chosen, frame.columns.get_loc("PreferedOrderCat")] = "Only in test"
    split = row_split(frame, schema, 42, by_id=False)
    assert chosen.size == 5 and (split[chosen] == TEST).all()
    pre, _, counts = fit_preprocessor_dask(dd.from_pandas(frame, npartitions=3), schema,
                                           seed=42, by_id=False)
    assert "Only in test" not in pre.seen_levels["PreferedOrderCat"]
    assert "Only in test" not in pre.categories["PreferedOrderCat"]
    assert set(pre.categories["PreferedOrderCat"]) == set(
        frame.loc[split == TRAIN, "PreferedOrderCat"].dropna().str.strip())
    assert counts.train == int((split == TRAIN).sum())


@needs_dask
def test_score_glob_and_threshold(trained, parts, tmp_path):
    code, out, err = run(["score", str(trained[0]), str(parts / "part-[01].parquet"),
                          "--engine", "dask", "--threshold", "0.5",
                          "--out", str(tmp_path / "scored")])
    assert code == 0, err
    scored = pd.read_parquet(tmp_path / "scored")
    assert len(list((tmp_path / "scored").iterdir())) == 2
    assert (scored["at_risk"] == (scored["churn_probability"] >= 0.5)).all()
    assert "at threshold 0.5000" in out
    code, out, err = run(["score", str(trained[0]), str(parts / "part-0.parquet"),
                          "--engine", "dask", "--at-risk-only", "--explain", "all",
                          "--value", "50", "--out", str(tmp_path / "risky")])
    assert code == 0, err
    risky = pd.read_parquet(tmp_path / "risky")
    assert "at_risk" not in risky.columns and len(risky)
    assert (risky["churn_probability"] >= load_bundle(trained[0]).threshold["value"]).all()
    assert (risky["customer_value"] == 50).all()
    assert f"scored {len(risky):,} customers; {len(risky):,} at risk" in out


@needs_dask
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "no-such-host:1"])
def test_bad_scheduler_address_is_a_message_not_a_traceback(parts, tmp_path, address):
    code, _, err = run(["train", str(parts), "--engine", "dask", "--scheduler", address,
                        "--out", str(tmp_path / "b")])
    assert code == 2
    assert "DASK_SCHEDULER_UNREACHABLE" in err and address in err
    assert "Traceback" not in err
    assert not (tmp_path / "b" / "model.ubj").exists()


@needs_dask
def test_missing_columns_and_no_parquet_are_refused(trained, table, tmp_path):
    bundle = str(trained[0])
    folder = tmp_path / "short"
    folder.mkdir()
    table.iloc[:100].drop(columns=["Tenure"]).to_parquet(folder / "a.parquet")
    code, _, err = run(["score", bundle, str(folder), "--engine", "dask",
                        "--out", str(tmp_path / "o")])
    assert code == 2 and "MISSING_COLUMNS" in err and "Tenure" in err
    code, _, err = run(["score", bundle, str(tmp_path / "nothing-*.parquet"), "--engine",
                        "dask", "--out", str(tmp_path / "o")])
    assert code == 2 and "DASK_NO_PARQUET" in err
    code, _, err = run(["score", bundle, str(folder), "--engine", "dask",
                        "--out", str(folder)])
    assert code == 2 and "OUTPUT_IS_INPUT" in err


def test_options_only_the_local_engine_does_are_refused(tmp_path):
    code, _, err = run(["score", "b", "d", "--engine", "dask", "--encoding", "cp1252", "--out",
                        str(tmp_path / "o")])
    assert code == 2 and "DASK_OPTION_UNSUPPORTED" in err and "--encoding" in err
    code, _, err = run(["train", "d", "--engine", "dask", "--cv", "3", "--actions", "a.csv",
                        "--out", str(tmp_path / "o")])
    assert code == 2 and "--cv, --actions" in err
    code, _, err = run(["train", "d", "--scheduler", "tcp://x:1", "--out", str(tmp_path / "o")])
    assert code == 2 and "--scheduler needs --engine dask" in err


@needs_dask
def test_dask_train_takes_segments_class_weight_and_no_search(parts, table, tmp_path):
    bundle = tmp_path / "b"
    code, out, err = run(["train", str(parts), "--engine", "dask", "--segments", "3",
                          "--class-weight", "--no-search", "--out", str(bundle)])
    assert code == 0, err
    model = load_bundle(bundle)
    assert model.segments is not None and model.segments.k == 3
    assert not len(model.segments.choice)  # k was the user's, not chosen
    churn = (table["Churn"] == "Yes").mean()
    weight = model.info["params"]["scale_pos_weight"]  # stayers per churner of the training part
    assert abs(weight - (1 - churn) / churn) < 0.1 * (1 - churn) / churn
    assert "segments: 3 on" in out and "scale_pos_weight=" in out
    from churn_core.model import SEARCH_SPACE

    assert "the middle setting, no search" in out and model.info["search"] is None
    assert model.info["setting"] == SEARCH_SPACE[1]
    # weighted churners push raw probabilities up; the Platt map brings them back to rates
    from churn_core.features import transform
    from churn_core.model import predict_X

    X, _ = transform(model.preprocessor, simulate_customers(5000, seed=98))
    raw, calibrated = predict_X(model.booster, X).mean(), model.predict(X).mean()
    assert model.calibration.used and "calibration: Platt scaling" in out
    assert raw > 1.3 * churn and abs(calibrated - churn) < abs(raw - churn) / 3, \
        (raw, calibrated, churn)


@needs_dask
@pytest.mark.parametrize("top", ["1", "40", "5000"])
def test_dask_top_n_flags_the_rows_the_ordinary_top_n_flags(trained, table, tmp_path, top):
    # duplicated profiles under other ids: ties straddle the cut, across partitions too
    sample = table.iloc[np.random.default_rng(4).permutation(np.repeat(np.arange(60), 20))]
    sample = sample.reset_index(drop=True)
    sample["CustomerID"] = [f"T{i:05d}" for i in range(len(sample))]
    folder, single = _as_parts(sample, tmp_path, 3)
    bundle = str(trained[0])
    code, _, err = run(["score", bundle, str(single), "--top", top, "--out",
                        str(tmp_path / "a.csv")])
    assert code == 0, err
    code, out, err = run(["score", bundle, str(folder), "--engine", "dask", "--top", top,
                          "--out", str(tmp_path / "scored")])
    assert code == 0, err
    ordinary = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    dask_out = pd.read_parquet(tmp_path / "scored")
    merged = ordinary.merge(dask_out, on="CustomerID", suffixes=("", "_dask"))
    assert len(merged) == len(ordinary) == len(dask_out)
    for col in ("risk_tier", "reason_1", "suggested_action"):
        assert (merged[col] == merged[f"{col}_dask"].astype(str)).all(), col
    assert (merged["at_risk"] == merged["at_risk_dask"].astype(str)).all()
    current = len(ordinary)
    assert int(dask_out["at_risk"].sum()) == min(int(top), current)
    assert f"{min(int(top), current):,} at risk" in out


@needs_dask
def test_dask_score_writes_the_ordinary_pseudonyms(trained, table, tmp_path, monkeypatch):
    sample = table.iloc[:2000]
    folder, single = _as_parts(sample, tmp_path, 2)
    bundle = str(trained[0])
    argv = ["score", bundle, str(folder), "--engine", "dask", "--pseudonymise",
            "--out", str(tmp_path / "scored")]
    monkeypatch.delenv("CHURN_RADAR_ID_SECRET", raising=False)
    code, _, err = run(argv)  # no key: refused before any work
    assert code == 2 and "ID_SECRET_MISSING" in err and not (tmp_path / "scored").exists()
    monkeypatch.setenv("CHURN_RADAR_ID_SECRET", "a secret of more than sixteen characters")
    code, _, err = run(argv)
    assert code == 0, err
    code, _, err = run(["score", bundle, str(single), "--pseudonymise",
                        "--out", str(tmp_path / "a.csv")])
    assert code == 0, err
    ordinary = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    dask_out = pd.read_parquet(tmp_path / "scored")
    ids = set(dask_out["CustomerID"])
    assert ids == set(ordinary["CustomerID"]) and len(ids) == len(dask_out)
    assert not ids & set(sample["CustomerID"].astype(str))  # no real id written


@needs_dask
def test_dask_bundle_carries_the_drift_reference_monitor_uses(trained, tmp_path):
    from churn_core.monitor.service import manifest_reference

    path = trained[0]
    bundle = load_bundle(path)
    profile = manifest_reference(path)
    assert profile is not None and profile["score"] is not None
    assert set(profile["columns"]) == set(bundle.preprocessor.feature_names)
    assert profile["rows"] == bundle.metrics["rows_test"]  # the held-out rows (all, < 200k)
    fresh = simulate_customers(3000, seed=99)  # the same population, never trained on
    fresh.to_csv(tmp_path / "fresh.csv", index=False)
    column = bundle.preprocessor.numeric[0]
    fresh[column] = fresh[column] * 3 + 50
    fresh.to_csv(tmp_path / "shifted.csv", index=False)
    store = str(tmp_path / "runs.db")
    code, out, err = run(["monitor", str(path), str(tmp_path / "fresh.csv"), "--store", store])
    assert code == 0, out + err
    report = tmp_path / "r.md"
    code, out, err = run(["monitor", str(path), str(tmp_path / "shifted.csv"), "--store", store,
                          "--report", str(report)])
    assert code == 3, out + err
    assert f"drift in {column}" in report.read_text()


def test_without_dask_the_message_says_what_to_install(monkeypatch, tmp_path):
    from churn_core.distributed import cluster

    real = importlib.import_module

    def no_distributed(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(cluster.importlib, "import_module", no_distributed)
    with pytest.raises(ChurnDataError) as caught:
        cluster.require_dask()
    assert caught.value.problems[0].code == "DASK_NOT_INSTALLED"
    assert "requirements-dask.txt" in caught.value.problems[0].action
    data = tmp_path / "d"
    data.mkdir()
    code, _, err = run(["train", str(data), "--engine", "dask", "--out", str(tmp_path / "b")])
    assert code == 2 and "DASK_NOT_INSTALLED" in err and "requirements-dask.txt" in err
    assert "Traceback" not in err


def test_ci_installs_dask_so_these_tests_run():
    """./dev.sh setup installs requirements-dask.txt (and re-installs when it changes), so
    in CI nothing here is skipped."""
    root = Path(__file__).resolve().parents[2]
    dev = (root / "dev.sh").read_text(encoding="utf-8")
    stamp = next(line for line in dev.splitlines() if "want=$(cat" in line)
    assert "requirements-dask.txt" in stamp
    assert "-r requirements-dask.txt" in dev
    pins = (root / "requirements-dask.txt").read_text(encoding="utf-8")
    assert "dask[dataframe]==" in pins and "distributed==" in pins
    if os.environ.get("CI") == "true":
        assert HAVE_DASK, "CI must install requirements-dask.txt (./dev.sh setup)"


def _event_log(path: Path, customers: int = 400, seed: int = 3) -> Path:
    """Orders of customers with their own rates; a third stop ordering at a random date."""
    rng = np.random.default_rng(seed)
    start = date(2022, 1, 1)
    lines = ["customer,order_date,amount"]
    for c in range(customers):
        rate = rng.uniform(2, 20)  # days between orders
        stop = rng.integers(200, 730) if rng.random() < 0.35 else 730
        day = float(rng.uniform(0, rate))
        while day < stop:
            lines.append(f"C{c:04d},{start + timedelta(days=int(day))},"
                         f"{rng.gamma(2, 20):.2f}")
            day += rng.exponential(rate)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@needs_dask
def test_build_partitioned_feeds_the_dask_engine(tmp_path):
    log = _event_log(tmp_path / "orders.csv")
    out = tmp_path / "built"
    code, stdout, err = run(["build", str(log), "--out", str(out), "--window", "60",
                             "--partitioned"])
    assert code == 0, err
    training = pd.read_parquet(out / "training.parquet")
    files = sorted((out / "training").glob("part.*.parquet"))
    assert len(files) == training["cutoff"].nunique()  # one file per cutoff
    import dask.dataframe as dd

    parts = dd.read_parquet(str(out / "training")).compute()
    key = ["cutoff", "customer_id"]
    pd.testing.assert_frame_equal(
        parts.sort_values(key, ignore_index=True).astype(training.dtypes.to_dict()),
        training.sort_values(key, ignore_index=True), check_index_type=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partitioned"]["training"] == len(files)
    code, stdout, err = run(["train", str(out / "training"), "--engine", "dask",
                             "--out", str(tmp_path / "bundle")])
    assert code == 0, err
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.info["split_by_id"] and "cutoff" not in bundle.preprocessor.feature_names
    assert bundle.feature_labels  # the build's plain-words names came along
    code, stdout, err = run(["score", str(tmp_path / "bundle"), str(out / "scoring"),
                             "--engine", "dask", "--out", str(tmp_path / "scores")])
    assert code == 0, err
    scores = pd.read_parquet(tmp_path / "scores")
    scoring = pd.read_parquet(out / "scoring.parquet")
    assert sorted(scores["customer_id"]) == sorted(scoring["customer_id"])
    # a later build without --partitioned removes the folders that no longer match
    code, _, err = run(["build", str(log), "--out", str(out), "--window", "60"])
    assert code == 0, err
    assert not (out / "training").exists() and not (out / "scoring").exists()
