"""churn_core: the churn-radar library (no UI code; never imports streamlit)."""

__version__ = "0.1.0"
