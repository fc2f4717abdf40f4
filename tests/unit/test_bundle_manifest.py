"""Issue 14: bundles are authenticated as a whole (manifest + model), and a malformed
manifest is a message with a code (library, command line), never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn_core.bundle import load_bundle, save_bundle
from churn_core.bundle_manifest import content_digest
from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check, make_bundle
from churn_core.problems import ChurnDataError

ROOT = Path(__file__).resolve().parents[2]
SMALL = TrainConfig(cv_folds=2, side_models=False, search=False, n_estimators=20,
                    early_stopping_rounds=5, device="cpu")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    rng = np.random.default_rng(5)
    n = 300
    churn = rng.random(n) < 0.3
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                          "tenure": rng.integers(0, 40, n) - 8 * churn,
                          "spend": rng.normal(90, 25, n).round(1),
                          "visits": rng.poisson(3, n) + 2 * churn,
                          "churn": np.where(churn, "Yes", "No")})
    data = folder / "customers.csv"
    frame.to_csv(data, index=False)
    bundle = make_bundle(fit_all(load_and_check(data).dataset, config=SMALL, k=None))
    return save_bundle(folder / "bundle", bundle), data


def _copy(saved_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "b"
    out.mkdir()
    for f in saved_dir.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    return out


def _manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def _write(path: Path, manifest: dict, *, reseal: bool) -> None:
    if reseal:  # a forger who recomputes the hash: the field checks must still hold
        manifest["content_sha256"] = content_digest(manifest, (path / "model.ubj").read_bytes())
    (path / "manifest.json").write_text(json.dumps(manifest))


def _refused(path: Path) -> str:
    with pytest.raises(ChurnDataError) as info:
        load_bundle(path)
    assert info.value.problems[0].severity == "error"
    return info.value.problems[0].code


def test_swapping_the_feature_order_is_refused(saved, tmp_path):
    path = _copy(saved[0], tmp_path)
    m = _manifest(path)
    m["features"] = m["features"][::-1]
    m["preprocessing"]["feature_names"] = m["preprocessing"]["feature_names"][::-1]
    _write(path, m, reseal=False)
    assert _refused(path) == "BUNDLE_TAMPERED"


@pytest.mark.parametrize("field, value", [("threshold", {"value": 0.01, "method": "x"}),
                                          ("model_kind", "calibrated"),
                                          ("leaderboard", [{"model": "xgboost"}])])
def test_any_changed_or_added_manifest_field_is_refused(saved, tmp_path, field, value):
    path = _copy(saved[0], tmp_path)
    m = _manifest(path)
    m[field] = value
    _write(path, m, reseal=False)
    assert _refused(path) == "BUNDLE_TAMPERED"


def test_new_fields_are_covered_when_saved_with_them(saved, tmp_path):
    path = _copy(saved[0], tmp_path)
    m = _manifest(path)
    m["calibration"] = {"method": "isotonic"}
    _write(path, m, reseal=True)
    assert load_bundle(path).threshold == load_bundle(saved[0]).threshold


@pytest.mark.parametrize("version", [1, "2", 2.0, None, 99])
def test_other_bundle_versions_are_refused(saved, tmp_path, version):
    path = _copy(saved[0], tmp_path)
    m = _manifest(path)
    m["bundle_version"] = version
    _write(path, m, reseal=True)
    assert _refused(path) == "BUNDLE_VERSION"


def _deep(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("change", [
    "threshold_list", "threshold_nan", "threshold_huge", "threshold_text", "metrics_text",
    "features_ints", "schema_list", "deep", "detail_list", "labels_list"])
def test_malformed_manifests_are_refused_with_a_code(saved, tmp_path, change):
    path = _copy(saved[0], tmp_path)
    m = _manifest(path)
    if change == "threshold_list":
        m["threshold"] = [0.5]
    elif change == "threshold_nan":
        m["threshold"]["value"] = float("nan")
    elif change == "threshold_huge":
        m["threshold"]["value"] = 1e308
    elif change == "threshold_text":
        m["threshold"]["value"] = "0.5"
    elif change == "metrics_text":
        m["metrics"]["roc_auc"] = "excellent"
    elif change == "features_ints":
        m["preprocessing"]["feature_names"] = list(range(len(m["preprocessing"]
                                                                ["feature_names"])))
    elif change == "schema_list":
        m["schema"] = []
    elif change == "deep":
        m["info"]["x"] = _deep(5000)
    elif change == "detail_list":
        m["threshold"]["detail"] = [1, 2]
    elif change == "labels_list":
        m["feature_labels"] = ["a"]
    if change == "threshold_nan":
        m["content_sha256"] = "x"
        (path / "manifest.json").write_text(json.dumps(m))  # NaN: not even valid JSON
    elif change == "deep":
        text = json.dumps({k: v for k, v in m.items() if k != "info"})
        (path / "manifest.json").write_text(
            text[:-1] + ', "info": {"x": ' + "[" * 5000 + "1" + "]" * 5000 + "}}")
    else:
        _write(path, m, reseal=True)
    assert _refused(path) == "BUNDLE_BAD_MANIFEST"


def test_cli_score_with_a_malformed_manifest_exits_2(saved, tmp_path):
    path = _copy(saved[0], tmp_path)
    m = _manifest(path)
    m["threshold"] = [0.5]
    _write(path, m, reseal=True)
    proc = subprocess.run([sys.executable, "-m", "churn_core", "score", str(path),
                           str(saved[1]), "--out", str(tmp_path / "s.csv")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "BUNDLE_BAD_MANIFEST" in proc.stderr
