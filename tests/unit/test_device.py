"""The device choice and the GPU code path, exercised on a machine without a GPU.

``model.detect_device`` decides between ``"cuda"`` and ``"cpu"``; training and
SHAP then differ only by the ``device`` parameter. Without a GPU the CUDA
branch is reached by making ``_cuda_works`` report True and checking that the
parameters handed to ``xgboost.train`` carry ``device="cuda"`` (the real call
then runs on the CPU).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import shap
import xgboost

from churn_core import model
from churn_core.explain import shap_contributions
from churn_core.features import transform
from churn_core.model import TrainConfig, detect_device, safe_names
from churn_core.pipeline import check_frame
from churn_core.simulate import simulate_large
from churn_core.training import train

REAL_CUDA_WORKS = model._cuda_works  # the cached probe, before any test replaces it
FAST = TrainConfig(cv_folds=2, side_models=False,
                   search=False, n_estimators=30, early_stopping_rounds=10)


@pytest.fixture(autouse=True)
def _fresh_detection(monkeypatch: pytest.MonkeyPatch):
    """Each test starts with no device override and an empty detection cache."""
    monkeypatch.delenv("CHURN_RADAR_DEVICE", raising=False)
    REAL_CUDA_WORKS.cache_clear()
    yield
    REAL_CUDA_WORKS.cache_clear()


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as a machine without an NVIDIA GPU, whatever this one has."""
    monkeypatch.setattr(model, "_gpu_present", lambda: False)


@pytest.fixture(scope="module")
def dataset():
    frame = simulate_large(3000, n_features=12, seed=3)
    checked = check_frame(frame)
    assert checked.usable
    return checked.dataset


def test_env_cpu_overrides_auto_without_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> bool:
        raise AssertionError("CHURN_RADAR_DEVICE=cpu must not probe the GPU")

    monkeypatch.setenv("CHURN_RADAR_DEVICE", "cpu")
    monkeypatch.setattr(model, "_cuda_works", probe)
    assert detect_device() == "cpu"
    assert detect_device("auto") == "cpu"


def test_explicit_cpu_wins_over_a_working_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_cuda_works", lambda: True)
    assert detect_device("cpu") == "cpu"


@pytest.mark.usefixtures("no_gpu")
def test_cuda_requested_without_gpu_falls_back_with_a_log(
        caplog: pytest.LogCaptureFixture) -> None:
    assert model._cuda_works() is False
    with caplog.at_level(logging.WARNING, logger="churn_core.model"):
        assert detect_device("cuda") == "cpu"
    assert any("cuda" in r.getMessage() and "CPU" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("no_gpu")
def test_env_cuda_without_gpu_falls_back(monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CHURN_RADAR_DEVICE", "CUDA")
    with caplog.at_level(logging.WARNING, logger="churn_core.model"):
        assert detect_device() == "cpu"
    assert caplog.records, "falling back from a requested GPU must be logged"


@pytest.mark.usefixtures("no_gpu")
def test_auto_without_gpu_is_cpu_and_silent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="churn_core.model"):
        assert detect_device("auto") == "cpu"
    assert not caplog.records


def test_unknown_device_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown device"):
        detect_device("tpu")


def test_auto_picks_cuda_when_it_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_cuda_works", lambda: True)
    assert detect_device("auto") == "cuda"
    assert detect_device("cuda") == "cuda"


def test_train_passes_cuda_to_xgboost(monkeypatch: pytest.MonkeyPatch, dataset) -> None:
    """The GPU branch of train(): every xgboost.train call gets device="cuda"."""
    real_train = xgboost.train
    seen: list[dict] = []

    def capture(params, *args, **kwargs):
        seen.append(dict(params))
        return real_train({**params, "device": "cpu"}, *args, **kwargs)

    monkeypatch.setattr(model, "_cuda_works", lambda: True)
    monkeypatch.setattr(xgboost, "train", capture)
    result = train(dataset, config=FAST)
    assert seen, "xgboost.train was never called"
    assert all(p["device"] == "cuda" for p in seen)
    assert all(p["tree_method"] == "hist" for p in seen)
    assert result.device == "cuda"
    assert result.params["device"] == "cuda"
    assert 0.5 < result.evaluation.roc_auc <= 1.0


def test_train_on_cpu_passes_cpu(monkeypatch: pytest.MonkeyPatch, dataset) -> None:
    real_train = xgboost.train
    seen: list[str] = []

    def capture(params, *args, **kwargs):
        seen.append(params["device"])
        return real_train(params, *args, **kwargs)

    monkeypatch.setenv("CHURN_RADAR_DEVICE", "cpu")
    monkeypatch.setattr(xgboost, "train", capture)
    result = train(dataset, config=FAST)
    assert seen and set(seen) == {"cpu"}
    assert result.device == "cpu"


def test_shap_explainer_and_pred_contribs_agree(monkeypatch: pytest.MonkeyPatch,
                                                dataset) -> None:
    """shap.TreeExplainer and our pred_contribs path give the same numbers (1e-4)."""
    monkeypatch.setenv("CHURN_RADAR_DEVICE", "cpu")
    result = train(dataset, config=FAST)
    X, _ = transform(result.preprocessor, dataset.frame.iloc[:500])
    ours, base = shap_contributions(result.booster, X, device="cpu")

    explainer = shap.TreeExplainer(result.booster)
    theirs = np.asarray(explainer.shap_values(X.set_axis(safe_names(X.shape[1]), axis=1)))
    assert theirs.shape == ours.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=0)
    assert base == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=1e-4)

    # Independent of both: contributions add up to the model's log-odds.
    margin = result.booster.predict(model.to_dmatrix(X), output_margin=True)
    np.testing.assert_allclose(ours.sum(axis=1, dtype=np.float64) + base, margin, atol=1e-4)


def test_scoring_computes_reasons_on_the_detected_device(monkeypatch: pytest.MonkeyPatch,
                                                         dataset) -> None:
    """score_frame hands the detected device to TreeSHAP: cuda where XGBoost can use a GPU
    (the real call then runs on the CPU here), cpu when asked for."""
    from churn_core import score as score_module
    from churn_core.pipeline import fit_all, make_bundle
    from churn_core.score import score_frame

    monkeypatch.setenv("CHURN_RADAR_DEVICE", "cpu")
    bundle = make_bundle(fit_all(dataset, config=FAST, k=2))
    real = score_module.explain
    seen: list[str] = []

    def capture(*args, device="cpu", **kwargs):
        seen.append(device)
        return real(*args, device="cpu", **kwargs)

    monkeypatch.setattr(score_module, "explain", capture)
    frame = dataset.frame.assign(customer_id=dataset.ids.to_numpy())
    monkeypatch.delenv("CHURN_RADAR_DEVICE")
    monkeypatch.setattr(model, "_cuda_works", lambda: True)
    score_frame(bundle, frame, explain_rows="all", current_only=False)
    score_frame(bundle, frame, explain_rows="all", current_only=False, device="cpu")
    assert seen == ["cuda", "cpu"]
