"""Streamlit-only helpers of the dashboard (state keys, guards, cached wrappers, widgets)."""
