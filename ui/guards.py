"""Page guards: stop a page, say what is missing and link to the page that provides it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.state import StateKeys, get

_TO_DATA = ("pages/data.py", "Go to Data", ":material/upload_file:")


def _stop(message: str, page: str, label: str, icon: str) -> None:
    """Say what is missing, link to the page that provides it, and stop this page."""
    st.info(message)
    st.page_link(page, label=label, icon=icon)
    st.stop()


def require_dataset() -> Any:
    """Return the current CheckResult, or tell the user to load data and stop the page."""
    check = get(StateKeys.CHECK)
    if check is None:
        _stop("No customer table is loaded yet. Upload one (or open the sample) first.",
              *_TO_DATA)
    return check


def require_label(check: Any) -> None:
    """Stop the page when the table has no usable churn label."""
    if check.dataset.schema.label_column is None or not check.dataset.schema.label_mapping:
        _stop("This table has no usable churn column. Choose the label column on the "
              "Data page.", *_TO_DATA)


def require_analysis() -> Any:
    """Return the trained Analysis, or tell the user to train and stop the page."""
    require_dataset()
    analysis = get(StateKeys.ANALYSIS)
    if analysis is None:
        _stop("No model is trained on this table yet. Train one on the Model page.",
              "pages/model.py", "Go to Model", ":material/model_training:")
    return analysis
