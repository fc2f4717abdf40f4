"""churn-radar dashboard: the router (page config, state defaults, navigation).

Run ``streamlit run app.py`` (add ``-- --sample`` to open the bundled sample data).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from ui.flows import data as data_flow
from ui.state import StateKeys, get, init_state, put

# The icon is a file in the repository: nothing is fetched from the internet (works offline).
ICON = Path(__file__).resolve().parent / "ui" / "assets" / "icon.png"
st.set_page_config(page_title="churn-radar", page_icon=str(ICON), layout="wide")
init_state()

if "--sample" in sys.argv[1:] and not get(StateKeys.SAMPLE_AUTOLOADED):
    put(StateKeys.SAMPLE_AUTOLOADED, True)
    if get(StateKeys.CHECK) is None:
        data_flow.load_sample()

pages = {
    "Start": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
        st.Page("pages/events.py", title="Event log", icon=":material/receipt_long:"),
    ],
    "Understand": [
        st.Page("pages/explore.py", title="Explore", icon=":material/query_stats:"),
        st.Page("pages/segments.py", title="Segments", icon=":material/scatter_plot:"),
    ],
    "Predict": [
        st.Page("pages/model.py", title="Model", icon=":material/model_training:"),
        st.Page("pages/explain.py", title="Explain", icon=":material/psychology:"),
        st.Page("pages/score.py", title="Score", icon=":material/checklist:"),
    ],
    "Act": [
        st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications_active:"),
        st.Page("pages/campaigns.py", title="Campaigns", icon=":material/campaign:"),
        st.Page("pages/monitor.py", title="Monitor", icon=":material/monitor_heart:"),
    ],
}
st.navigation(pages).run()
