"""Messages lead with the sentence a person reads; codes, counts and rows are details."""

from __future__ import annotations

from datetime import date

from churn_core.pipeline import Problem
from ui.flows.score import FileFailure, scores_file_name
from ui.widgets import details_frame, problem_details, problem_sentence


def test_the_sentence_comes_from_the_message_and_ends_with_a_full_stop():
    p = Problem("LABEL_ONE_CLASS", "error", "The label column 'Churn' has only one value")
    assert problem_sentence(p) == "The label column 'Churn' has only one value."
    assert problem_sentence(Problem("X", "info", "Done!")) == "Done!"
    assert problem_sentence(Problem("X", "warning", "  ", column="Age")) == \
        "Something is wrong with Age."


def test_details_hold_code_rows_and_values_and_never_a_zero_count():
    p = Problem("NOT_NUMBERS", "warning", "3 values in Age are not numbers.", column="Age",
                rows=(2, 5, 9), count=3, values=("ten", "?", "n/a"), action="treated as missing")
    details = problem_details(p)
    assert details == {"Column": "Age", "How many": "3", "Example rows": "2, 5, 9",
                       "Example values": "ten, ?, n/a", "What was done": "treated as missing",
                       "Code": "NOT_NUMBERS"}
    bare = problem_details(Problem("EMPTY_FILE", "error", "The file is empty."))
    assert bare == {"Code": "EMPTY_FILE"}
    assert "How many" not in bare


def test_details_table_leads_with_the_message_and_leaves_zero_counts_blank():
    frame = details_frame([Problem("A", "warning", "first", count=0),
                           Problem("B", "error", "second", count=1200)])
    assert list(frame.columns)[0] == "message"
    assert frame["message"].tolist() == ["second", "first"]  # errors first
    assert frame["count"].tolist() == ["1,200", ""]
    assert "0" not in frame["count"].tolist()


def test_score_page_names_the_file_that_is_wrong():
    bundle = FileFailure("bundle", "model.zip")
    data = FileFailure("data", "fresh.csv")
    assert bundle.headline == 'The model bundle "model.zip" cannot be used'
    assert data.headline == 'The customer file "fresh.csv" cannot be used'
    assert "Alerts" in bundle.fix and "bundle can stay" in data.fix


def test_scores_download_is_named_with_date_and_threshold():
    assert scores_file_name(0.4, date(2026, 12, 6)) == \
        "churn_scores_2026-12-06_threshold_0.40.csv"


def test_metric_tiles_wrap_at_four_a_row():
    from ui.widgets import metric_rows

    assert metric_rows(3) == [3]
    assert metric_rows(4) == [4]
    assert metric_rows(6) == [3, 3]
    assert metric_rows(7) == [4, 3]
    assert metric_rows(0) == []
