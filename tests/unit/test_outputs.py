"""Issue 14, 'interrupted and concurrent runs' and 'careless use': output paths, atomic
writes, one writer at a time, threshold and --top checks (library and command line)."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn_core import outputs
from churn_core.bundle import MANIFEST_FILE, MODEL_FILE, load_bundle, save_bundle
from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check, make_bundle
from churn_core.problems import ChurnDataError
from churn_core.score import score_frame

ROOT = Path(__file__).resolve().parents[2]
SMALL = TrainConfig(cv_folds=2, side_models=False, search=False, n_estimators=20,
                    early_stopping_rounds=5, device="cpu")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churn_core", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A customers CSV and a bundle trained on it."""
    folder = tmp_path_factory.mktemp("trained")
    rng = np.random.default_rng(0)
    n = 300
    churn = rng.random(n) < 0.3
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                          "tenure": rng.integers(0, 40, n) - 8 * churn,
                          "spend": rng.normal(90, 25, n).round(1),
                          "churn": np.where(churn, "Yes", "No")})
    data = folder / "customers.csv"
    frame.to_csv(data, index=False)
    analysis = fit_all(load_and_check(data).dataset, config=SMALL, k=None)
    bundle = make_bundle(analysis)
    path = save_bundle(folder / "bundle", bundle)
    return data, path, bundle


@contextlib.contextmanager
def _other_writer(path: Path):
    """Another process holding the writer lock of ``path`` until the block ends."""
    code = ("import sys, time\nfrom churn_core.outputs import writer_lock\n"
            "with writer_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield
    finally:
        proc.kill()
        proc.wait()


def _codes(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stderr


@pytest.mark.parametrize("where, code", [
    ("input", "OUTPUT_IS_INPUT"),
    ("under_file", "OUTPUT_UNDER_FILE"),
    ("folder", "OUTPUT_IS_FOLDER"),
    ("no_folder", "OUTPUT_NO_FOLDER"),
])
def test_score_out_mistakes_exit_2_and_leave_the_input(trained, tmp_path, where, code):
    data, bundle_dir, _ = trained
    before = data.read_bytes()
    out = {"input": data, "under_file": data / "scores.csv", "folder": tmp_path,
           "no_folder": tmp_path / "nope" / "scores.csv"}[where]
    assert code in _codes(_cli("score", str(bundle_dir), str(data), "--out", str(out)))
    assert data.read_bytes() == before


@pytest.mark.parametrize("flag, value", [("--threshold", "nan"), ("--threshold", "-1"),
                                         ("--threshold", "2"), ("--threshold", "inf"),
                                         ("--top", "-5"), ("--top", "0")])
def test_score_refuses_impossible_cutoffs(trained, tmp_path, flag, value):
    data, bundle_dir, _ = trained
    proc = _cli("score", str(bundle_dir), str(data), "--out", str(tmp_path / "s.csv"), flag,
                value)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"argument {flag}" in proc.stderr
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("kwargs, code", [({"threshold": float("nan")}, "BAD_THRESHOLD"),
                                          ({"threshold": 1.5}, "BAD_THRESHOLD"),
                                          ({"threshold": -0.1}, "BAD_THRESHOLD"),
                                          ({"top_n": -5}, "BAD_TOP_N")])
def test_library_scoring_refuses_impossible_cutoffs(trained, kwargs, code):
    data, _, bundle = trained
    with pytest.raises(ChurnDataError) as info:
        score_frame(bundle, pd.read_csv(data), **kwargs)
    assert [p.code for p in info.value.problems] == [code]


def test_train_out_under_a_file_or_onto_the_input(trained, tmp_path):
    data, _, _ = trained
    assert "OUTPUT_UNDER_FILE" in _codes(_cli("train", str(data), "--out", str(data / "b")))
    assert "OUTPUT_NOT_FOLDER" in _codes(_cli("train", str(data), "--out", str(data)))
    assert data.is_file()


def test_full_disk_is_a_message_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "scores.csv"
    target.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full)
    with pytest.raises(ChurnDataError) as info:
        outputs.write_file(target, b"new")
    assert info.value.problems[0].code == "OUTPUT_WRITE_FAILED"
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_interrupted_bundle_save_keeps_the_previous_bundle(trained, tmp_path, monkeypatch):
    _, _, bundle = trained
    path = save_bundle(tmp_path / "b", bundle)
    before = {n: (path / n).read_bytes() for n in (MODEL_FILE, MANIFEST_FILE)}
    real = Path.write_text

    def killed(self, *args, **kwargs):  # dies between model.ubj and manifest.json
        if self.name == MANIFEST_FILE:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", killed)
    with pytest.raises(KeyboardInterrupt):
        save_bundle(path, dataclasses.replace(
            bundle, threshold={"value": 0.9, "method": "manual", "detail": {}}))
    monkeypatch.undo()
    assert {n: (path / n).read_bytes() for n in (MODEL_FILE, MANIFEST_FILE)} == before
    assert load_bundle(path).threshold["value"] == bundle.threshold["value"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_second_writer_is_refused_while_the_first_holds_the_lock(trained, tmp_path):
    _, _, bundle = trained
    with _other_writer(tmp_path / "b"), pytest.raises(ChurnDataError) as info:
        save_bundle(tmp_path / "b", bundle)
    assert info.value.problems[0].code == "OUTPUT_BUSY"
    save_bundle(tmp_path / "b", bundle)  # free again once the first is done
    assert load_bundle(tmp_path / "b").threshold == bundle.threshold


def test_bundle_folder_with_other_files_is_not_replaced(trained, tmp_path):
    _, _, bundle = trained
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ChurnDataError) as info:
        save_bundle(tmp_path, bundle)
    assert info.value.problems[0].code == "OUTPUT_NOT_OURS"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_built_table_without_or_with_a_stale_summary_is_refused(tmp_path):
    from churn_core.events.modeling import read_summary

    rng = np.random.default_rng(1)
    table = pd.DataFrame({"customer_id": ["a", "b"] * 20, "cutoff": ["2024-01-31"] * 40,
                          "x": rng.random(40), "churned": [0, 1] * 20})
    out = tmp_path / "built"
    out.mkdir()
    table.to_parquet(out / "training.parquet", index=False)
    with pytest.raises(ChurnDataError) as info:
        read_summary(out / "training.parquet", required=True)
    assert info.value.problems[0].code == "EVENTS_NO_SUMMARY"
    summary = {"definition": {"window_days": 30},
               "tables": {"training.parquet": "0" * 64}}
    (out / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ChurnDataError) as info:
        read_summary(out / "training.parquet")
    assert info.value.problems[0].code == "EVENTS_SUMMARY_MISMATCH"
    proc = _cli("train", str(out / "training.parquet"), "--out", str(tmp_path / "b"))
    assert "EVENTS_SUMMARY_MISMATCH" in _codes(proc)


def _small_log(path: Path) -> Path:
    rng = np.random.default_rng(8)
    n = 3000
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    pd.DataFrame({"customer_id": rng.integers(1, 200, n), "order_date":
                  days.strftime("%Y-%m-%d"), "amount": rng.random(n)}).to_csv(path, index=False)
    return path


def test_a_build_killed_before_its_summary_never_leaves_the_old_one(tmp_path, monkeypatch):
    from churn_core.events import build, build_tables, propose_mapping
    from churn_core.events.modeling import read_summary
    from churn_core.events.types import ChurnDefinition

    log = _small_log(tmp_path / "log.csv")
    out = tmp_path / "built"
    build_tables(log, propose_mapping(log), ChurnDefinition(window_days=30), out_dir=out)
    old = json.loads((out / "summary.json").read_text())
    assert old["definition"]["window_days"] == 30

    def killed(path, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "write_file", killed)
    with pytest.raises(KeyboardInterrupt):
        build_tables(log, propose_mapping(log), ChurnDefinition(window_days=60), out_dir=out)
    monkeypatch.undo()
    assert not (out / "summary.json").exists()
    with pytest.raises(ChurnDataError) as info:
        read_summary(out / "training.parquet", required=True)
    assert info.value.problems[0].code == "EVENTS_NO_SUMMARY"
    with _other_writer(out), pytest.raises(ChurnDataError) as busy:
        build_tables(log, propose_mapping(log), ChurnDefinition(window_days=30), out_dir=out)
    assert busy.value.problems[0].code == "OUTPUT_BUSY"


def test_a_second_train_into_the_same_out_is_refused_at_once(trained, tmp_path):
    data, _, _ = trained
    with _other_writer(tmp_path / "b"):  # a first run, still working
        proc = _cli("train", str(data), "--out", str(tmp_path / "b"), "--cv", "2")
    assert "OUTPUT_BUSY" in _codes(proc)
    assert not (tmp_path / "b").exists()


def test_a_lock_taken_again_does_not_block_a_nested_lock_of_another_path(tmp_path):
    """A command holds its output's lock around a save that takes it again; inside, a
    lock of another path (a build's partitioned folders) must not wait forever."""
    import threading

    def nested():
        with outputs.writer_lock(tmp_path / "out"), outputs.writer_lock(tmp_path / "out"), \
                outputs.writer_lock(tmp_path / "out" / "training"):
            pass

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()


def test_an_existing_output_file_may_be_written_over(tmp_path):
    # a plain file has no execute bit: only folders need one to be written into
    out = tmp_path / "scored.csv"
    out.write_text("old\n")
    out.chmod(0o644)
    assert outputs.output_path(out) == out
    outputs.write_file(out, b"new\n")
    assert out.read_bytes() == b"new\n"
