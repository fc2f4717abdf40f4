"""Explore: churn rate by feature, distributions by outcome, missing values, association."""

from __future__ import annotations

import streamlit as st

from churn_core import charts, charts_segments
from ui import cache
from ui.flows import explore as explore_flow
from ui.guards import require_dataset, require_label
from ui.state import StateKeys, get
from ui.widgets import show_problems

K = StateKeys

st.title("Explore")
check = require_dataset()
require_label(check)
ds = check.dataset
key = get(K.DATASET_KEY)
schema = ds.schema
features = list(schema.features)
if not features:
    st.info("The table has no feature columns; change the column types on the Data page.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/upload_file:")
    st.stop()
overall = float(ds.y.mean())

corr = cache.label_correlation(key, check)
default = str(corr["column"].iloc[0]) if len(corr) else features[0]
if st.session_state.get(K.W_EXPLORE_COLUMN) not in features:
    st.session_state[K.W_EXPLORE_COLUMN] = default if default in features else features[0]
column = st.selectbox("Feature", features, key=K.W_EXPLORE_COLUMN)
numeric = column in schema.numeric or column in schema.datetime

left, right = st.columns(2)
with left:
    rates = cache.churn_rate_by(key, column, check)
    st.plotly_chart(charts.churn_rate_by(rates, str(column), overall=overall, numeric=numeric),
                    width="stretch")
with right:
    dist = cache.distribution_by_label(key, column, check)
    st.plotly_chart(charts.distribution_by_label(dist, str(column)), width="stretch")
with st.expander("Churn rate table"):
    st.dataframe(rates, hide_index=True, width="stretch",
                 column_config={"rate": st.column_config.NumberColumn(format="percent"),
                                "lo": st.column_config.NumberColumn(format="percent"),
                                "hi": st.column_config.NumberColumn(format="percent")})

# one above the other: side by side, their long column names leave the bars no room
st.plotly_chart(charts.label_correlation(corr), width="stretch")
miss = cache.missingness(key, check)
if int(miss["missing"].sum()) == 0:
    st.success("No missing values in any column.")
else:
    st.plotly_chart(charts.missingness(miss), width="stretch")
st.caption(f"{len(ds.frame):,} customers, {int(ds.labelled.sum()):,} with a label; "
           f"overall churn rate {overall:.1%}.")

if st.toggle("Break churn down by segment", key=K.W_EXPLORE_SEGMENTS,
             help="The segments of the Segments page: customer groups by behaviour."):
    with st.spinner("Forming segments..."):
        segments = explore_flow.segment_breakdown()
    if segments is None:
        show_problems(get(K.SEGMENT_PROBLEMS), title="The segments could not be formed",
                      key="explore_segment_problems")
    else:
        st.plotly_chart(charts_segments.churn_by_segment(segments.summary, overall),
                        width="stretch", key="chart_explore_segments")
        st.page_link("pages/segments.py", label="Segment profiles and suggested actions",
                     icon=":material/scatter_plot:")
