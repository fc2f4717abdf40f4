"""Small Streamlit helpers shared by the pages: problem tables, safe text, downloads."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pandas as pd
import streamlit as st

from churn_core.pipeline import ChurnDataError, Problem, has_errors, problems_frame

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Escape user text (column names, values, file names) for a Markdown label.

    Streamlit labels and ``st.markdown`` interpret Markdown; uploaded names must
    show as typed, never as links, images or formatting (HTML is never enabled).
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def problems_table(problems: Iterable[Problem], *, key: str | None = None) -> None:
    """Show problems as a sortable table (errors first); nothing when there are none."""
    frame = problems_frame(problems)
    if frame.empty:
        return
    st.dataframe(frame, hide_index=True, width="stretch", key=key,
                 column_config={"message": st.column_config.TextColumn(width="large")})


def show_problems(problems: Iterable[Problem] | None, *, title: str = "Problems found",
                  key: str | None = None) -> None:
    """An ``st.error`` (errors) or ``st.warning`` headline plus the problem table."""
    problems = list(problems or [])
    if not problems:
        return
    errors = [p for p in problems if p.severity == "error"]
    if has_errors(problems):
        st.error(f"{title}: {len(errors)} error(s) must be fixed before going on.",
                 icon=":material/error:")
    problems_table(problems, key=key)


def show_data_error(exc: ChurnDataError, *, title: str = "The data cannot be used") -> None:
    """Render a ChurnDataError as an error box and its problem table (never a traceback)."""
    st.error(title, icon=":material/error:")
    problems_table(exc.problems)


def download_csv(label: str, make: Callable[[], bytes], *, file_name: str,
                 key: str | None = None) -> None:
    """One-click CSV download; the bytes are produced only when the user clicks."""
    st.download_button(label, data=make, file_name=file_name, mime="text/csv",
                       on_click="ignore", icon=":material/download:", key=key, type="primary")


def metric_row(values: dict[str, str]) -> None:
    """A row of ``st.metric`` tiles from label -> formatted value."""
    for col, (label, value) in zip(st.columns(len(values)), values.items(), strict=True):
        col.metric(label, value)


def head(frame: pd.DataFrame, n: int = 1000) -> pd.DataFrame:
    """The first ``n`` rows (tables in the browser stay light at any data size)."""
    return frame.head(n)
