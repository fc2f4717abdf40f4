"""Home page and the router."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import TIMEOUT, assert_clean
from ui.state import StateKeys

ROOT = Path(__file__).resolve().parents[2]


def test_home_without_data(page):
    at = page("home.py")
    assert_clean(at)
    assert any("No table loaded" in m.value for m in at.markdown)


def test_home_sample_button_loads_data(page):
    at = page("home.py")
    at.button[0].click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.CHECK] is not None
    assert any(m.label == "Customers" and m.value == "4,000" for m in at.metric)


def test_home_with_model(page, sample_check, sample_analysis):
    at = page("home.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    assert any(m.label == "ROC-AUC (out of fold)" for m in at.metric)
    assert any(m.label == "Customers to act on" for m in at.metric)


def test_router_runs_and_sample_flag(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "argv", ["app.py", "--sample"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert_clean(at)
    assert at.session_state[StateKeys.CHECK] is not None
    assert at.session_state[StateKeys.SAMPLE_AUTOLOADED] is True
    at.switch_page("pages/explore.py").run()
    assert_clean(at)
