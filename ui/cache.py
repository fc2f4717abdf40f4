"""Cached wrappers over churn_core, keyed by dataset / model keys, never by big frames.

Arguments with a leading underscore are not hashed by Streamlit: the cache key
is the explicit ``key`` (dataset fingerprint + schema hash, or the model key),
so edits are never missed the way hashing a sampled 50k+ row frame could.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from churn_core import charts, charts_explain, pipeline
from churn_core.pipeline import ReadOptions, ReadResult, read_table_guarded

UPLOAD_MEMORY_MB = 6144


def digest(data: bytes) -> str:
    """sha256 of uploaded bytes (the cache key of a file)."""
    return hashlib.sha256(data).hexdigest()


@st.cache_data(max_entries=4, show_spinner="Reading the file...")
def read_file(file_digest: str, _data: bytes, name: str, options: ReadOptions | None
              ) -> ReadResult:
    """Read uploaded bytes once per (file, options), in a child process with time and
    memory limits so that a hostile or huge file cannot take the app down."""
    return read_table_guarded(_data, name=name, options=options, timeout_s=180,
                              memory_mb=UPLOAD_MEMORY_MB)


# -- exploration (keyed by dataset key) ---------------------------------------------------
@st.cache_data(max_entries=16)
def column_summary(key: str, _check: Any) -> pd.DataFrame:
    return pipeline.column_summary(_check.dataset.frame, _check.dataset.schema)


@st.cache_data(max_entries=16)
def missingness(key: str, _check: Any) -> pd.DataFrame:
    return pipeline.missingness(_check.dataset.frame)


@st.cache_data(max_entries=16)
def label_correlation(key: str, _check: Any) -> pd.DataFrame:
    ds = _check.dataset
    return pipeline.label_correlation(ds.frame, ds.y, ds.schema)


@st.cache_data(max_entries=256)
def churn_rate_by(key: str, column: str, _check: Any) -> pd.DataFrame:
    ds = _check.dataset
    return pipeline.churn_rate_by(ds.frame, ds.y, column)


@st.cache_data(max_entries=256)
def distribution_by_label(key: str, column: str, _check: Any) -> pd.DataFrame:
    ds = _check.dataset
    return pipeline.distribution_by_label(ds.frame, ds.y, column, max_points=charts.MAX_POINTS)


# -- model results (keyed by model key) ----------------------------------------------------
@st.cache_resource(max_entries=4)
def point_contributions(model_key: str, _analysis: Any) -> Any:
    """The explanation in percentage points of calibrated churn probability."""
    expl = _analysis.explanation
    return pipeline.to_points(expl.contributions, expl.base_value,
                              _analysis.result.calibration)


def _labels(analysis: Any) -> dict[str, str]:
    return {str(f): pipeline.feature_label(str(f), analysis.feature_labels or None)
            for f in analysis.explanation.contributions.columns}


@st.cache_data(max_entries=8)
def importance(model_key: str, _analysis: Any) -> pd.DataFrame:
    pts = point_contributions(model_key, _analysis)
    return pipeline.point_importance(pts, _analysis.explanation,
                                     _analysis.feature_labels or None)


@st.cache_data(max_entries=8)
def beeswarm_figure(model_key: str, features: tuple[str, ...], _analysis: Any) -> go.Figure:
    return charts_explain.beeswarm(point_contributions(model_key, _analysis).points,
                                   _analysis.explanation.values, features,
                                   labels=_labels(_analysis))


@st.cache_data(max_entries=32)
def dependence_figure(model_key: str, feature: str, _analysis: Any) -> go.Figure:
    return charts_explain.dependence(point_contributions(model_key, _analysis).points,
                                     _analysis.explanation.values, feature,
                                     label=_labels(_analysis)[feature])


@st.cache_data(max_entries=16)
def emp(model_key: str, econ: Any, _analysis: Any) -> float:
    """Expected Maximum Profit per customer of the out-of-fold scores (Model page)."""

    return pipeline.emp(_analysis, econ)
