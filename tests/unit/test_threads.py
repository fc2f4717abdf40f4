"""Thread counts are detected from the machine, and the environment overrides them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core import threads
from churn_core.model import BASE_PARAMS, _fit


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    for name in ("CHURN_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)


def test_busy_machine_gets_one_thread_idle_gets_every_core():
    assert threads.compute_threads(load=5.0, cpus=2) == 1
    assert threads.compute_threads(load=1.0, cpus=2) == 2
    assert threads.compute_threads(load=0.0, cpus=8) == 8
    assert threads.compute_threads(load=3.2, cpus=8) == 6
    assert threads.compute_threads(load=40.0, cpus=8) == 1


def test_the_environment_overrides_detection(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.compute_threads(load=9.0, cpus=2) == 3
    monkeypatch.setenv("CHURN_THREADS", "2")
    assert threads.compute_threads(load=0.0, cpus=16) == 2
    monkeypatch.setenv("CHURN_THREADS", "zero")
    assert threads.compute_threads(load=0.0, cpus=16) == 3


def test_available_cpus_is_at_least_one_and_at_most_the_affinity():
    import os

    assert 1 <= threads.available_cpus() <= len(os.sched_getaffinity(0))


def test_training_uses_the_detected_threads(monkeypatch):
    monkeypatch.setenv("CHURN_THREADS", "1")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((300, 3)), columns=["a", "b", "c"])
    y = (X["a"] > 0.5).to_numpy(float)
    bst = _fit({**BASE_PARAMS, "max_depth": 2}, X, y, None, None, rounds=3,
               early_stopping=None)
    import json

    config = json.loads(bst.save_config())
    assert config["learner"]["generic_param"]["nthread"] == "1"
