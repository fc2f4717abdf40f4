"""Property-based tests (hypothesis) of the promises in BAD_INPUTS.md.

- reading any bytes returns a table or raises ChurnDataError, nothing else;
- rows in = rows kept + rows reported (ragged rows, skipped title lines);
- scoring does not depend on the column order;
- save -> load -> score is bit-identical;
- no exported text cell starts with = + - @, tab, CR or NUL;
- ids survive read -> export -> read as text (``007`` stays ``007``).
"""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churn_core.bundle import bundle_to_zip, load_bundle, load_bundle_bytes, save_bundle
from churn_core.export import FORMULA_START, at_risk_table, escape_formulas, to_csv_bytes
from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check, make_bundle
from churn_core.problems import ChurnDataError
from churn_core.reading.table import DEFAULT_NA_TOKENS, ReadResult, read_table
from churn_core.score import score_frame

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs" / "files"
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NAMES = st.sampled_from(["upload", "x.csv", "x.tsv", "x.xlsx", "x.parquet", "x.csv.gz", "x.txt"])


def _read_or_refuse(data: bytes, name: str) -> ReadResult | None:
    try:
        result = read_table(data, name=name)
    except ChurnDataError as exc:
        assert exc.problems and exc.problems[-1].severity == "error"
        return None
    assert isinstance(result, ReadResult)
    assert len(result.frame) > 0
    assert not any(p.severity == "error" for p in result.problems)
    return result


@FAST
@given(data=st.binary(max_size=3000), name=NAMES)
def test_any_bytes_give_a_table_or_a_data_error(data: bytes, name: str) -> None:
    _read_or_refuse(data, name)


CSV_CHARS = ",;\t|\"'\r\n =+-.%¥€0123456789abcXYZ流失\x00\ufeff"
CSVISH = st.text(alphabet=st.sampled_from(list(CSV_CHARS)), max_size=400)


@FAST
@given(text=CSVISH, encoding=st.sampled_from(["utf-8", "utf-16", "gb18030", "utf-8-sig"]))
def test_any_delimited_text_gives_a_table_or_a_data_error(text: str, encoding: str) -> None:
    _read_or_refuse(text.encode(encoding, errors="ignore"), "upload.csv")


@FAST
@given(seed=st.sampled_from(sorted(p.name for p in CORPUS.iterdir())), cut=st.integers(0, 5000),
       flip=st.integers(0, 255))
def test_damaged_corpus_files_give_a_table_or_a_data_error(seed: str, cut: int, flip: int) -> None:
    data = bytearray((CORPUS / seed).read_bytes())
    if data:
        data[cut % len(data)] ^= flip
    _read_or_refuse(bytes(data[: max(cut, len(data) // 2)]), seed)


CELL = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=4)


@FAST
@given(width=st.integers(2, 5),
       rows=st.lists(st.integers(1, 7), min_size=1, max_size=30),
       seed=st.integers(0, 10**6))
def test_rows_in_equal_rows_kept_plus_rows_reported(width: int, rows: list[int], seed: int
                                                    ) -> None:
    rng = np.random.default_rng(seed)
    letters = np.array(list(string.ascii_lowercase))

    def cells(n: int) -> str:
        return ",".join("".join(rng.choice(letters, 3)) + str(i) for i in range(n))

    lines = [",".join(f"h{i}" for i in range(width))] + [cells(n) for n in rows]
    try:
        result = read_table(("\n".join(lines) + "\n").encode(), name="r.csv")
    except ChurnDataError as exc:
        assert [p.code for p in exc.problems if p.severity == "error"] == ["NO_DATA_ROWS"]
        return
    reported = sum(p.count for p in result.problems
                   if p.code in ("RAGGED_ROWS", "HEADER_SKIPPED_LINES"))
    assert len(lines) == 1 + len(result.frame) + reported


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    check = load_and_check(CORPUS / "clean_train.csv")
    config = TrainConfig(cv_folds=2, side_models=False, search=False, n_estimators=60,
                         early_stopping_rounds=10, device="cpu")
    analysis = fit_all(check.dataset, config=config, k=3)
    bundle = make_bundle(analysis)
    loaded = load_bundle(save_bundle(tmp_path_factory.mktemp("b") / "bundle", bundle))
    # Fresh data to score has no churn column (rows labelled churned would be left out).
    return bundle, loaded, check.dataset.frame.drop(columns=[check.schema.label_column])


def _scores(bundle, frame: pd.DataFrame) -> np.ndarray:
    # threshold 1 (the highest allowed): nothing is flagged, so nothing is explained (fast)
    result = score_frame(bundle, frame, threshold=1.0, explain_rows="at_risk")
    return result.table["churn_probability"].to_numpy()


@SLOW
@given(data=st.data())
def test_scores_do_not_depend_on_column_order(trained, data) -> None:
    bundle, _, frame = trained
    order = data.draw(st.permutations(list(frame.columns)))
    np.testing.assert_array_equal(_scores(bundle, frame[order]), _scores(bundle, frame))


@SLOW
@given(rows=st.lists(st.integers(0, 399), min_size=1, max_size=50))
def test_save_load_score_is_bit_identical(trained, rows: list[int]) -> None:
    bundle, loaded, frame = trained
    part = frame.iloc[rows]
    expected = _scores(bundle, part)
    np.testing.assert_array_equal(_scores(loaded, part), expected)
    from_zip = load_bundle_bytes(bundle_to_zip(loaded), name="b.zip")
    np.testing.assert_array_equal(_scores(from_zip, part), expected)


def _is_plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and any(c.isdigit() for c in text)


ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
RISKY = st.builds(lambda a, b: a + b, st.sampled_from(list(FORMULA_START) + ["", " "]), ANY_TEXT)


@FAST
@given(ids=st.lists(RISKY, min_size=1, max_size=15), reason=RISKY, seg=RISKY)
def test_no_exported_text_cell_starts_a_formula(ids: list[str], reason: str, seg: str) -> None:
    n = len(ids)
    table = at_risk_table(ids, np.linspace(0, 1, n), ["high"] * n, [seg] * n,
                          [[reason, "", ""]] * n, [reason] * n, id_name=seg or "id")
    table["note"] = pd.Series(ids, dtype="str")
    text = to_csv_bytes(table).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert "\x00" not in cell
            assert not cell.startswith(FORMULA_START) or _is_plain_number(cell), repr(cell)
    assert escape_formulas(table).shape == table.shape


ID = st.from_regex(r"\A(0[0-9]{1,8}|[0-9]{1,4}[eE][0-9]{1,12}|[A-Z]{0,2}0[0-9]{2,6})\Z")
_TOKENS = {t.lower() for t in DEFAULT_NA_TOKENS}


@FAST
@given(ids=st.lists(ID, min_size=1, max_size=20, unique=True).filter(
    lambda ids: not any(i.lower() in _TOKENS for i in ids)))
def test_ids_survive_read_and_export_as_text(ids: list[str]) -> None:
    source = "customer_id,spend\n" + "".join(f"{v},{k}.5\n" for k, v in enumerate(ids))
    frame = read_table(source.encode(), name="ids.csv").frame
    assert frame["customer_id"].tolist() == ids
    n = len(ids)
    table = at_risk_table(frame["customer_id"], np.full(n, 0.5), ["low"] * n, None, None,
                          None, id_name="customer_id", keep_order=True)
    again = read_table(to_csv_bytes(table), name="export.csv").frame
    assert again["customer_id"].tolist() == ids
