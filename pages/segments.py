"""Segments: customer groups from K-Means, their size, churn rate, profile and map."""

from __future__ import annotations

import streamlit as st

from churn_core import charts
from ui import cache
from ui.flows import segments as segments_flow
from ui.guards import require_analysis
from ui.state import StateKeys, get

K = StateKeys

st.title("Segments")
analysis = require_analysis()
if analysis.segments is None:
    st.info("No segments could be formed for this table (no column varies enough).")
    st.stop()
seg = analysis.segments
model_key = get(K.MODEL_KEY)

with st.form("form_segments_k"):
    options = ["choose automatically", *range(2, 11)]
    choice = st.selectbox("Number of segments", options, key=K.W_SEGMENT_K,
                          help="Automatic = the k with the best silhouette score.")
    if st.form_submit_button("Re-segment"):
        with st.spinner("Fitting segments..."):
            segments_flow.resegment(None if choice == options[0] else int(choice))
        st.rerun()

summary, profile, points = cache.segment_tables(model_key, analysis)
overall = float(analysis.dataset.y.mean())
left, right = st.columns(2)
with left:
    st.plotly_chart(charts.segment_sizes(summary, overall), width="stretch")
with right:
    if len(seg.silhouette):
        st.plotly_chart(charts.silhouette(seg.silhouette, seg.k), width="stretch")
    else:
        st.info(f"k = {seg.k} was chosen by hand; no silhouette curve.")
st.dataframe(summary, hide_index=True, width="stretch",
             column_config={"share": st.column_config.NumberColumn(format="percent"),
                            "churn_rate": st.column_config.NumberColumn(format="percent")})
st.plotly_chart(charts.segment_profile(profile), width="stretch")
st.plotly_chart(charts.segment_projection(points), width="stretch")
if len(points) < len(analysis.X):
    st.caption(f"Map shows a random {len(points):,} of {len(analysis.X):,} customers.")
