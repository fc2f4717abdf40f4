"""Data page: upload, automatic decisions, overrides, problems."""

from __future__ import annotations

from pathlib import Path

from tests.app.conftest import assert_clean
from ui.state import StateKeys

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "customers.csv"


def test_data_without_table_says_what_to_do(page):
    at = page("data.py")
    assert_clean(at)
    assert any("Upload a file" in i.value for i in at.info)


def test_upload_through_file_uploader(page):
    at = page("data.py")
    at.file_uploader(key=StateKeys.W_UPLOAD).upload("customers.csv", SAMPLE.read_bytes(),
                                                     "text/csv").run()
    assert_clean(at)
    check = at.session_state[StateKeys.CHECK]
    assert check is not None and check.dataset.schema.label_column == "Churn"
    assert any(m.label == "Rows" and m.value == "4,000" for m in at.metric)


def test_unreadable_upload_shows_problem_table_not_traceback(page):
    at = page("data.py")
    at.file_uploader(key=StateKeys.W_UPLOAD).upload("empty.csv", b"", "text/csv").run()
    assert_clean(at)
    assert at.error and at.dataframe
    assert at.session_state[StateKeys.CHECK] is None


def test_label_override_takes_effect(page, sample_check):
    at = page("data.py", check=sample_check)
    assert_clean(at)
    label_box = next(s for s in at.selectbox if s.label == "Churn label column")
    label_box.set_value("Complain")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.CHECK].dataset.schema.label_column == "Complain"


def test_new_dataset_clears_the_model(page, sample_check, sample_analysis):
    at = page("data.py", check=sample_check, analysis=sample_analysis)
    assert at.session_state[StateKeys.ANALYSIS] is not None
    next(b for b in at.button if b.label == "Use the sample").click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.ANALYSIS] is None


def test_an_empty_label_column_is_a_message_not_a_traceback(page):
    corpus = Path(__file__).resolve().parents[1] / "bad_inputs" / "files"
    at = page("data.py", run=False).run()
    at.file_uploader(key=StateKeys.W_UPLOAD).upload(
        "empty_label.csv", (corpus / "empty_label.csv").read_bytes(), "text/csv").run()
    assert_clean(at)
    check = at.session_state[StateKeys.CHECK]
    assert [p.code for p in check.problems if p.severity == "error"] == ["LABEL_EMPTY"]


def test_an_id_chosen_on_the_page_is_read_exactly(page):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 200
    frame = pd.DataFrame({"acct": [f"{i:07d}" for i in range(n)],
                          "tenure": rng.integers(0, 40, n), "spend": rng.normal(80, 9, n),
                          "churn": rng.choice(["Yes", "No"], n)})
    at = page("data.py", run=False).run()
    at.file_uploader(key=StateKeys.W_UPLOAD).upload(
        "zeros.csv", frame.to_csv(index=False).encode(), "text/csv").run()
    next(s for s in at.selectbox if s.label == "Customer id column").set_value("acct")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert_clean(at)
    ids = at.session_state[StateKeys.CHECK].dataset.ids
    assert ids.iloc[:2].tolist() == ["0000000", "0000001"]
