"""Small Streamlit helpers shared by the pages: problem tables, safe text, downloads."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pandas as pd
import streamlit as st

from churn_core.pipeline import ChurnDataError, Problem, problems_frame

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Escape user text (column names, values, file names) for a Markdown label.

    Streamlit labels and ``st.markdown`` interpret Markdown; uploaded names must
    show as typed, never as links, images or formatting (HTML is never enabled).
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


SHOWN_PROBLEMS = 5
_BOX = {"error": st.error, "warning": st.warning, "info": st.info}
_ICON = {"error": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}
_ORDER = {"error": 0, "warning": 1, "info": 2}


def problem_sentence(problem: Problem) -> str:
    """The sentence a person reads first: the message, ending with a full stop.

    Codes, counts, rows and values are details (:func:`problem_details`); a message
    that is empty falls back to the column so a box is never blank.
    """
    text = " ".join(str(problem.message or "").split())
    if not text:
        text = (f"Something is wrong with {problem.column}" if problem.column
                else "Something is wrong")
    return text if text[-1] in ".!?" else text + "."


def problem_details(problem: Problem) -> dict[str, str]:
    """The details behind a sentence, label -> text; a count of zero is left out."""
    details: dict[str, str] = {}
    if problem.column:
        details["Column"] = str(problem.column)
    if problem.count > 0:
        details["How many"] = f"{problem.count:,}"
    if problem.rows:
        details["Example rows"] = ", ".join(str(r) for r in problem.rows)
    if problem.values:
        details["Example values"] = ", ".join(problem.values)
    if problem.action:
        details["What was done"] = problem.action
    details["Code"] = problem.code
    return details


def details_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Problems as a table led by the sentence; ``count`` is blank where it is zero."""
    frame = problems_frame(problems)
    if frame.empty:
        return frame
    frame["count"] = [f"{c:,}" if c > 0 else "" for c in frame["count"]]
    first = ["message", "severity", "column", "count", "rows", "values", "action", "code"]
    return frame[first]


def problems_table(problems: Iterable[Problem], *, key: str | None = None) -> None:
    """Every problem as a sortable table (errors first) in a "Details" expander."""
    frame = details_frame(problems)
    if frame.empty:
        return
    with st.expander(f"Details ({len(frame):,} finding{'s' if len(frame) != 1 else ''})"):
        st.dataframe(frame, hide_index=True, width="stretch", key=key,
                     column_config={"message": st.column_config.TextColumn(width="large")})


def show_problems(problems: Iterable[Problem] | None, *, title: str = "Problems found",
                  key: str | None = None) -> None:
    """Each problem as its plain sentence in a coloured box, the details in an expander.

    The first box names the step (``title``); at most :data:`SHOWN_PROBLEMS` boxes are
    drawn, the rest are counted and listed in the details table.
    """
    problems = sorted(problems or [], key=lambda p: _ORDER.get(p.severity, 3))
    if not problems:
        return
    for i, problem in enumerate(problems[:SHOWN_PROBLEMS]):
        lead = f"**{plain(title)}:** " if i == 0 and title else ""
        _BOX[problem.severity](lead + plain(problem_sentence(problem)),
                               icon=_ICON[problem.severity])
    more = len(problems) - SHOWN_PROBLEMS
    if more > 0:
        st.caption(f"{more:,} more finding{'s' if more != 1 else ''} in the details below.")
    problems_table(problems, key=key)


def show_data_error(exc: ChurnDataError, *, title: str = "The data cannot be used") -> None:
    """Render a ChurnDataError: its sentences first, details in an expander (never a traceback)."""
    if exc.problems:
        show_problems(exc.problems, title=title)
    else:
        st.error(plain(title), icon=":material/error:")


def download_csv(label: str, make: Callable[[], bytes], *, file_name: str,
                 key: str | None = None) -> None:
    """One-click CSV download; the bytes are produced only when the user clicks."""
    st.download_button(label, data=make, file_name=file_name, mime="text/csv",
                       on_click="ignore", icon=":material/download:", key=key, type="primary")


MAX_METRICS_PER_ROW = 4  # more tiles than this cut their labels off at 1024 px wide


def metric_rows(n: int, most: int = MAX_METRICS_PER_ROW) -> list[int]:
    """Tiles per row for ``n`` metrics: rows of at most ``most``, as even as possible."""
    if n <= 0:
        return []
    rows = -(-n // most)
    base, extra = divmod(n, rows)
    return [base + (1 if i < extra else 0) for i in range(rows)]


def metric_row(values: dict[str, str]) -> None:
    """``st.metric`` tiles from label -> formatted value, at most four to a row."""
    items = list(values.items())
    start = 0
    for width in metric_rows(len(items)):
        for col, (label, value) in zip(st.columns(width), items[start:start + width],
                                       strict=True):
            col.metric(label, value)
        start += width


def head(frame: pd.DataFrame, n: int = 1000) -> pd.DataFrame:
    """The first ``n`` rows (tables in the browser stay light at any data size)."""
    return frame.head(n)
