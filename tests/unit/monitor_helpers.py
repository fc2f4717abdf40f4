"""A small trained bundle and fresh tables for the monitoring tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churn_core.bundle import save_bundle
from churn_core.model import TrainConfig
from churn_core.pipeline import Analysis, check_frame, fit_all, make_bundle
from churn_core.simulate import simulate_customers

FAST = TrainConfig(cv_folds=2, search=False, n_estimators=80, side_models=False)


def train_analysis(*, n: int = 1500, seed: int = 1) -> tuple[Analysis, pd.DataFrame]:
    """A quick analysis of synthetic customers and its training table."""
    frame = simulate_customers(n, seed=seed, mess=False)
    return fit_all(check_frame(frame).dataset, config=FAST, k=2), frame


def train_bundle(folder: Path, *, n: int = 1500, seed: int = 1) -> tuple[Path, pd.DataFrame]:
    """Train on synthetic customers; return the bundle folder and the training table."""
    analysis, frame = train_analysis(n=n, seed=seed)
    return save_bundle(folder, make_bundle(analysis)), frame


def fresh(n: int = 1500, *, seed: int = 2) -> pd.DataFrame:
    """Another draw of customers from the same distribution (ids overlap the training's)."""
    return simulate_customers(n, seed=seed, mess=False)
