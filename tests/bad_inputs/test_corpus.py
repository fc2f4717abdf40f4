"""Every bad input of BAD_INPUTS.md through every pipeline entry point.

The files and their expected outcomes are data (``files/`` and ``cases.json``,
written by ``make_corpus.py``). One parametrised test reads each file, checks
it, and, for the cases marked ``train``, trains, explains, picks a threshold,
exports, saves, loads and scores. Assertions are on problem codes and fields,
never on message text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from churn_core.bundle import load_bundle, load_bundle_bytes, save_bundle
from churn_core.events import build_tables, prepare_log, propose_mapping
from churn_core.events.types import ChurnDefinition
from churn_core.export import FORMULA_START, to_csv_bytes
from churn_core.model import TrainConfig
from churn_core.pipeline import export_table, fit_all, load_and_check, make_bundle
from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.table import ReadOptions, read_table
from churn_core.schema import SchemaOverrides
from churn_core.score import score_frame
from churn_core.threshold import risk_tiers

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
CASES: list[dict[str, Any]] = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
BY_ID = {c["id"]: c for c in CASES}
ROOT = HERE.parents[1]
# Small and deterministic: the corpus proves behaviour, not model quality.
SMALL = TrainConfig(cv_folds=2, side_models=False,
                    search=False, n_estimators=60, early_stopping_rounds=10,
                    device="cpu")


def matches(p: Problem, spec: dict[str, Any]) -> bool:
    """True when ``p`` has every field ``spec`` names, with the same value."""
    for key, want in spec.items():
        got = getattr(p, key)
        if isinstance(got, tuple):
            got = list(got)
        if got != want:
            return False
    return True


def assert_expected(problems: list[Problem] | tuple[Problem, ...], expect: list[dict]) -> None:
    seen = [(p.code, p.severity, p.column, p.rows, p.count, p.values) for p in problems]
    for spec in expect:
        assert any(matches(p, spec) for p in problems), f"expected {spec}, got {seen}"


def assert_well_formed(problems: list[Problem] | tuple[Problem, ...]) -> None:
    """The fields every problem must fill sensibly, whatever the case."""
    for p in problems:
        assert p.code.isupper() and p.message, p
        assert len(p.rows) <= 5 and all(isinstance(r, int) and r >= 1 for r in p.rows), p
        assert p.count >= len(p.rows), p
        assert len(p.values) <= 5, p


def options(case: dict) -> tuple[ReadOptions, SchemaOverrides]:
    return ReadOptions(**case.get("read_options", {})), SchemaOverrides(**case.get("overrides", {}))


def check_frame_facts(frame: pd.DataFrame, facts: dict[str, Any]) -> None:
    if "rows" in facts:
        assert len(frame) == facts["rows"]
    for col in facts.get("columns", []):
        assert col in frame.columns, list(frame.columns)
    for col in facts.get("numeric", []):
        assert frame[col].dtype == "float64", (col, frame[col].dtype)
    for col in facts.get("text", []):
        assert pd.api.types.is_string_dtype(frame[col]), (col, frame[col].dtype)
    for col, values in facts.get("values", {}).items():
        assert frame[col].iloc[: len(values)].tolist() == values
    for col, value in facts.get("contains", {}).items():
        assert value in set(frame[col].dropna())
    for col, n in facts.get("missing", {}).items():
        assert int(frame[col].isna().sum()) == n


@pytest.fixture(scope="module")
def base_bundle(tmp_path_factory):
    """The bundle every ``score`` case uses: trained on clean_train.csv, saved and loaded."""
    check = load_and_check(FILES / BY_ID["clean_train"]["file"])
    analysis = fit_all(check.dataset, config=SMALL, k=3)
    path = save_bundle(tmp_path_factory.mktemp("bundle") / "clean", make_bundle(analysis))
    return load_bundle(path)


def _score_or_raise(bundle, path: Path, opts: ReadOptions):
    read = read_table(path, options=opts)
    try:
        result = score_frame(bundle, read.frame)
    except ChurnDataError as exc:
        return read, None, list(read.problems) + list(exc.problems)
    return read, result, list(read.problems) + list(result.problems)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(case: dict[str, Any], request, tmp_path: Path) -> None:
    path = FILES / case["file"]
    opts, overrides = options(case)
    stage, stop = case["stage"], case["outcome"] == "stop"

    if stage == "bundle":
        for load in (lambda: load_bundle(path),
                     lambda: load_bundle_bytes(path.read_bytes(), name=path.name),
                     lambda: load_bundle_bytes(path.read_bytes())):  # no telling name
            with pytest.raises(ChurnDataError) as info:
                load()
            assert_well_formed(info.value.problems)
            assert_expected(info.value.problems, case["expect"])
        return

    if stage == "events":
        _event_case(case, path)
        return

    if stage == "read" and stop:
        for step in (lambda: read_table(path, options=opts),
                     lambda: load_and_check(path, read_options=opts)):
            with pytest.raises(ChurnDataError) as info:
                step()
            assert info.value.problems[-1].severity == "error"
            assert_well_formed(info.value.problems)
            assert_expected(info.value.problems, case["expect"])
        return

    if stage == "score":
        bundle = request.getfixturevalue("base_bundle")
        read, result, problems = _score_or_raise(bundle, path, opts)
        assert_well_formed(problems)
        assert_expected(problems, case["expect"])
        assert (result is None) == stop
        if result is not None:
            # Rows whose label says churned are left out, counted in ALREADY_CHURNED.
            gone = sum(p.count for p in problems if p.code == "ALREADY_CHURNED")
            assert len(result.table) == len(read.frame) - gone
            assert result.table["churn_probability"].between(0, 1).all()
        if "same_scores_as" in case:
            ref = BY_ID[case["same_scores_as"]]
            _, ref_result, _ = _score_or_raise(bundle, FILES / ref["file"], opts)
            np.testing.assert_array_equal(result.table["churn_probability"].to_numpy(),
                                          ref_result.table["churn_probability"].to_numpy())
        return

    read = read_table(path, options=opts)
    assert read.problems and not any(p.severity == "error" for p in read.problems)
    check_frame_facts(read.frame, case.get("frame", {}))
    if "format" in case.get("frame", {}):
        assert read.file_format == case["frame"]["format"]
    checked = load_and_check(path, read_options=opts, overrides=overrides)
    assert_well_formed(checked.problems)
    assert_expected(checked.problems, case["expect"])
    if stage == "check":
        assert checked.usable != stop, [(p.code, p.severity) for p in checked.problems]
    for col, reason in case.get("excluded", {}).items():
        assert checked.schema.excluded.get(col) == reason
        assert col not in checked.schema.features
    for kind, cols in case.get("schema", {}).items():
        assert set(cols) <= set(getattr(checked.schema, kind))
    if case.get("train"):
        _train_to_score(checked, tmp_path)


def _event_case(case: dict[str, Any], path: Path) -> None:
    """An event log: propose, stage (rows read), and for refusals build as well."""
    if case["outcome"] == "stop":
        with pytest.raises(ChurnDataError) as info:
            build_tables(path, propose_mapping(path), ChurnDefinition())
        assert_well_formed(info.value.problems)
        assert_expected(info.value.problems, case["expect"])
        return
    log = prepare_log(path, propose_mapping(path))
    assert_well_formed(log.problems)
    assert_expected(log.problems, case["expect"])
    assert log.rows_read == case["frame"]["rows_read"]


def _train_to_score(checked, tmp_path: Path) -> None:
    """train -> explain -> threshold -> export -> save -> load -> score, asserting on each."""
    ds = checked.dataset
    analysis = fit_all(ds, config=SMALL, k=3)
    r = analysis.result
    # train: one customer (same id or same profile) never sits in two folds
    for k in np.unique(r.folds):
        assert set(ds.groups[r.rows[r.folds == k]]).isdisjoint(ds.groups[r.rows[r.folds != k]])
    labelled = np.flatnonzero(ds.y.notna().to_numpy())
    assert set(r.rows) == set(labelled)
    # every row is scored; every customer to act on is explained
    assert len(analysis.scores) == len(ds.frame) and np.isfinite(analysis.scores).all()
    pop = analysis.population
    expl = analysis.explanation
    assert len(expl.reasons) == len(pop)
    assert list(expl.contributions.columns) == list(analysis.result.preprocessor.feature_names)
    assert set(expl.contributions.columns) <= set(checked.schema.features)
    # threshold
    best = analysis.curve.best_f1()
    tiers = risk_tiers(pop.scores, best.threshold)
    assert set(tiers) <= {"high", "medium", "low"}
    # export: every customer to act on, ids as text, formulas neutralised, BOM for Excel
    table = export_table(analysis, analysis.threshold.value, at_risk_only=False)
    assert len(table) == len(pop)
    data = to_csv_bytes(table)
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or _is_number(cell), cell
    excluded = {c for c, why in checked.schema.excluded.items() if why == "PERSONAL_DATA"}
    assert not excluded & set(header)
    exported_ids = sorted(r[0][1:] if r[0].startswith("'") else r[0] for r in body)
    ids = ds.ids.iloc[pop.rows]
    assert exported_ids == sorted(ids.str.replace("\x00", "", regex=False).tolist()) or \
        exported_ids == sorted(ids.str.strip().tolist())
    # save -> load -> score gives the same scores, bit for bit
    path = save_bundle(tmp_path / "bundle", make_bundle(analysis))
    loaded = load_bundle(path)
    fresh = ds.frame.iloc[pop.rows]
    scored = score_frame(loaded, fresh.drop(columns=[checked.schema.label_column]))
    expected = np.round(analysis.result.predict(analysis.X.iloc[pop.rows]), 4)
    np.testing.assert_array_equal(scored.table["churn_probability"].to_numpy(), expected)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_bad_inputs_row_has_a_case():
    """Each BAD_INPUTS.md table (reading, table, label, scoring, model files) is covered."""
    stages = {c["stage"] for c in CASES}
    assert stages == {"read", "check", "score", "bundle", "events"}
    assert len({c["file"] for c in CASES}) == len(list(FILES.iterdir()))
    assert all((FILES / c["file"]).exists() for c in CASES)


def test_bare_arrays_never_reach_the_model(base_bundle):
    """A bare array carries no column names, so scoring refuses it instead of guessing."""
    frame = read_table(FILES / BY_ID["score_ordered"]["file"]).frame
    with pytest.raises((TypeError, AttributeError, ValueError, KeyError, ChurnDataError)):
        score_frame(base_bundle, frame.to_numpy())


CLI_CASES = ["binary", "one_class", "ragged"]


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_cli_check_reports_without_traceback(case_id: str) -> None:
    case = BY_ID[case_id]
    args = [sys.executable, "-m", "churn_core", "check", str(FILES / case["file"])]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert "Traceback" not in proc.stderr + proc.stdout
    report = proc.stderr + proc.stdout  # errors go to stderr; `check` reports on stdout
    if case["outcome"] == "stop" or case_id == "ragged":  # too few rows to train: an error
        assert proc.returncode == 2, proc.stderr
        for spec in case["expect"]:
            assert spec["code"] in report
    else:
        assert proc.returncode == 0, proc.stderr
