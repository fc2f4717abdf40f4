"""Scoring in pieces writes the file the whole-file path writes."""

from __future__ import annotations

import numpy as np
import pytest

from churn_core import score_chunks
from churn_core.__main__ import main
from churn_core.bundle import load_bundle
from churn_core.export import to_csv_bytes
from churn_core.problems import ChurnDataError
from churn_core.reading.table import ReadOptions, read_table
from churn_core.score import score_frame
from tests.unit.monitor_helpers import fresh, train_bundle


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    folder, _ = train_bundle(tmp_path_factory.mktemp("b") / "bundle", n=1200)
    return folder


def _whole(bundle, path, **kw):
    read = read_table(path, options=ReadOptions().with_id(bundle.schema.id_column))
    return to_csv_bytes(score_frame(bundle, read.frame, explain_rows="at_risk", **kw).table)


@pytest.mark.parametrize("chunk_bytes", [2_000, 17_003])
def test_pieces_give_the_same_file(bundle_dir, tmp_path, chunk_bytes):
    bundle = load_bundle(bundle_dir)
    frame = fresh(900, seed=5)
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    done = score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=chunk_bytes)
    assert done.pieces > 3
    assert out.read_bytes() == _whole(bundle, path)
    expected = read_table(_whole(bundle, path), name="x.csv").frame
    assert done.rows == len(expected)
    assert done.at_risk == int((expected["at_risk"].astype(str) == "True").sum())


def test_at_risk_only_and_a_threshold_in_pieces(bundle_dir, tmp_path):
    bundle = load_bundle(bundle_dir)
    path = tmp_path / "new.csv"
    fresh(700, seed=6).to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=3_000, threshold=0.3,
                                     at_risk_only=True)
    assert out.read_bytes() == _whole(bundle, path, threshold=0.3, at_risk_only=True)


def test_pieces_where_everyone_churned_are_skipped(bundle_dir, tmp_path):
    bundle = load_bundle(bundle_dir)
    label = bundle.schema.label_column
    frame = fresh(600, seed=7)
    positive = bundle.schema.positive_label
    frame[label] = np.where(np.arange(len(frame)) < 300, positive, frame[label])
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    done = score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=2_500)
    assert out.read_bytes() == _whole(bundle, path)
    assert any(p.code == "ALREADY_CHURNED" for p in done.problems)
    frame[label] = positive
    frame.to_csv(path, index=False)
    with pytest.raises(ChurnDataError):
        score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=2_500)


def test_a_damaged_later_piece_stops_with_a_message_and_writes_nothing(bundle_dir, tmp_path):
    # the next piece is read in a background thread: its error must still reach the caller
    bundle = load_bundle(bundle_dir)
    path = tmp_path / "new.csv"
    fresh(900, seed=8).to_csv(path, index=False)
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) * 3 // 4) + 1
    path.write_bytes(data[:cut] + b"\xff\xfe\xfa" + data[cut:])  # not UTF-8, late in the file
    out = tmp_path / "scored.csv"
    with pytest.raises(ChurnDataError) as caught:
        score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=2_000)
    assert [p.code for p in caught.value.problems if p.severity == "error"] == ["UNDECODABLE"]
    assert [f.name for f in tmp_path.iterdir()] == ["new.csv"]  # no output, no temporary


def test_gzip_files_are_scored_as_a_stream_into_the_same_file(bundle_dir, tmp_path):
    import gzip

    bundle = load_bundle(bundle_dir)
    path = tmp_path / "new.csv.gz"
    path.write_bytes(gzip.compress(fresh(900, seed=9).to_csv(index=False).encode("utf-8")))
    out = tmp_path / "scored.csv"
    seen = []
    done = score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=3_000,
                                            progress=lambda f, m: seen.append(f))
    assert done.pieces > 3
    assert out.read_bytes() == _whole(bundle, path)  # the whole-file path decompresses it
    assert seen == sorted(seen) and seen[-1] == 1.0  # progress through the compressed file
    # chunked from an eighth of the plain text's size; only when the content is a CSV
    size = path.stat().st_size
    assert score_chunks.should_chunk(path, min_bytes=size * score_chunks.GZIP_RATIO)
    assert not score_chunks.should_chunk(path, min_bytes=(size + 1) * score_chunks.GZIP_RATIO)
    twice = tmp_path / "twice.csv.gz"
    twice.write_bytes(gzip.compress(path.read_bytes()))
    assert not score_chunks.should_chunk(twice, min_bytes=8)


def test_a_gzip_file_cut_short_stops_with_a_message_and_writes_nothing(bundle_dir, tmp_path):
    import gzip

    bundle = load_bundle(bundle_dir)
    whole = gzip.compress(fresh(900, seed=10).to_csv(index=False).encode("utf-8"))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    out = tmp_path / "scored.csv"
    with pytest.raises(ChurnDataError) as caught:
        score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=2_000)
    assert [p.code for p in caught.value.problems] == ["UNREADABLE"]
    assert "gzip" in caught.value.problems[0].message
    assert [f.name for f in tmp_path.iterdir()] == ["cut.csv.gz"]


@pytest.mark.parametrize("top_n", [1, 97, 450, 5000])
def test_a_top_n_in_pieces_flags_the_rows_the_whole_file_flags(bundle_dir, tmp_path, top_n):
    # 30 profiles, each 30 times under other ids, shuffled: ties straddle every cut, and
    # the whole file breaks them by file order, across pieces too
    bundle = load_bundle(bundle_dir)
    base = fresh(30, seed=11)
    frame = base.iloc[np.random.default_rng(3).permutation(np.repeat(np.arange(30), 30))]
    frame = frame.reset_index(drop=True)
    frame[bundle.schema.id_column] = [f"C{i:05d}" for i in range(len(frame))]
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "scored.csv"
    done = score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=4_000, top_n=top_n)
    assert done.pieces > 3
    assert out.read_bytes() == _whole(bundle, path, top_n=top_n)
    current = int((frame[bundle.schema.label_column] != bundle.schema.positive_label).sum())
    assert done.at_risk == min(top_n, current)
    score_chunks.score_csv_in_chunks(bundle, path, out, chunk_bytes=4_000, top_n=top_n,
                                     at_risk_only=True)
    assert out.read_bytes() == _whole(bundle, path, top_n=top_n, at_risk_only=True)


def test_only_large_text_files_are_chunked(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,x\n1,2\n" * 100)
    assert score_chunks.should_chunk(path, min_bytes=100)
    assert not score_chunks.should_chunk(path, min_bytes=10**6)
    assert not score_chunks.should_chunk(tmp_path / "missing.csv", min_bytes=0)


def test_the_command_line_scores_large_files_in_pieces(bundle_dir, tmp_path, monkeypatch):
    path = tmp_path / "new.csv"
    fresh(800, seed=8).to_csv(path, index=False)
    whole, pieces = tmp_path / "whole.csv", tmp_path / "pieces.csv"
    assert main(["score", str(bundle_dir), str(path), "--out", str(whole)]) == 0
    monkeypatch.setattr(score_chunks, "CHUNK_BYTES", 4_000)
    monkeypatch.setattr("churn_core.__main__.should_chunk",
                        lambda p: score_chunks.should_chunk(p, min_bytes=1))
    called = []
    real = score_chunks.score_csv_in_chunks

    def spy(*a, **k):
        called.append(1)
        return real(*a, **{**k, "chunk_bytes": 4_000})

    monkeypatch.setattr("churn_core.__main__.score_csv_in_chunks", spy)
    assert main(["score", str(bundle_dir), str(path), "--out", str(pieces)]) == 0
    assert called and pieces.read_bytes() == whole.read_bytes()
    # --top N in pieces too (it used to need the whole file in memory)
    called.clear()
    assert main(["score", str(bundle_dir), str(path), "--top", "25", "--out",
                 str(pieces)]) == 0
    monkeypatch.undo()
    assert main(["score", str(bundle_dir), str(path), "--top", "25", "--out",
                 str(whole)]) == 0
    assert called and pieces.read_bytes() == whole.read_bytes()
