"""AppTest fixtures: one small trained analysis per test session, seeded into page state."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from churn_core import pipeline
from churn_core.model import TrainConfig
from ui import state as ui_state
from ui.flows.data import table_state
from ui.flows.model import analysis_state
from ui.state import StateKeys

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "customers.csv"
TIMEOUT = 120


@pytest.fixture(scope="session")
def sample_check() -> pipeline.CheckResult:
    return pipeline.load_and_check(SAMPLE.read_bytes(), name=SAMPLE.name)


@pytest.fixture(scope="session")
def sample_analysis(sample_check: pipeline.CheckResult) -> pipeline.Analysis:
    # Few trees and a fixed k keep the session fixture fast on a busy 2-core machine.
    config = TrainConfig(cv_folds=2, search=False, n_estimators=150, side_models=False)
    return pipeline.fit_all(sample_check.dataset, config=config, k=3)


def _seed(at: AppTest, check=None, analysis=None) -> AppTest:
    for key, value in ui_state.DEFAULTS.items():
        at.session_state[key] = value
    if check is not None:
        at.session_state[StateKeys.SOURCE_BYTES] = SAMPLE.read_bytes()
        at.session_state[StateKeys.SOURCE_NAME] = SAMPLE.name
        at.session_state[StateKeys.SOURCE_ID] = "sample"
        for key, value in table_state(check).items():  # what loading the table writes
            at.session_state[key] = value
    if analysis is not None:  # what training writes
        for key, value in analysis_state(analysis, f"{ui_state.dataset_key(check)}:test").items():
            at.session_state[key] = value
    return at


@pytest.fixture
def page():
    """``page("data.py", check=..., analysis=...)`` -> the app opened on that page, run once.

    Pages are opened through ``app.py`` (the router) because ``st.page_link`` needs
    the pages registered by ``st.navigation``.
    """

    def make(name: str, *, check=None, analysis=None, run: bool = True) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        _seed(at, check, analysis)
        at.switch_page(f"pages/{name}")
        return at.run() if run else at

    return make


def assert_clean(at: AppTest) -> None:
    """No exception element and no uncaught error in the run."""
    assert not at.exception, [e.value for e in at.exception]
