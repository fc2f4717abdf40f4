"""Score page: bundle upload, fresh data, problems, download."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churn_core import pipeline
from churn_core.bundle import bundle_to_zip
from churn_core.threshold import ThresholdChoice
from tests.app.conftest import assert_clean
from ui.state import StateKeys

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "customers.csv"


def _shown(markdown: str) -> str:
    """The text as the browser shows it (Markdown escapes and bold marks removed)."""
    return markdown.replace("\\", "").replace("**", "")


def test_score_without_bundle(page):
    at = page("score.py")
    assert_clean(at)
    assert at.info


def test_pickle_is_refused(page):
    at = page("score.py")
    at.file_uploader(key=StateKeys.W_BUNDLE_UPLOAD).upload("model.zip", b"\x80\x04K\x01.",
                                                            "application/zip").run()
    assert_clean(at)
    assert at.error
    # the box says which file is wrong, in words; the code waits in the details
    assert 'The model bundle "model.zip" cannot be used' in _shown(at.error[0].value)
    assert at.session_state[StateKeys.SCORE_FAILURE].file == "bundle"
    assert any(e.label.startswith("Details") for e in at.expander)
    assert all("count" not in e.value.lower() for e in at.error)


def test_a_data_file_without_the_model_columns_names_the_data_file(page, sample_analysis):
    zipped = bundle_to_zip(pipeline.make_bundle(sample_analysis))
    at = page("score.py")
    at.file_uploader(key=StateKeys.W_BUNDLE_UPLOAD).upload("model.zip", zipped,
                                                            "application/zip").run()
    at.file_uploader(key=StateKeys.W_SCORE_UPLOAD).upload("other.csv", b"a,b\n1,2\n3,4\n",
                                                           "text/csv").run()
    assert_clean(at)
    assert at.error and 'The customer file "other.csv" cannot be used' in _shown(at.error[0].value)
    assert at.session_state[StateKeys.SCORE_FAILURE].file == "data"
    assert at.session_state[StateKeys.BUNDLE] is not None  # the bundle stays loaded
    assert any("bundle can stay" in c.value for c in at.caption)


def test_score_fresh_data(page, sample_analysis):
    choice = ThresholdChoice(0.4, "test")
    zipped = bundle_to_zip(pipeline.make_bundle(sample_analysis, threshold=choice))
    at = page("score.py")
    at.file_uploader(key=StateKeys.W_BUNDLE_UPLOAD).upload("model.zip", zipped,
                                                            "application/zip").run()
    assert_clean(at)
    at.file_uploader(key=StateKeys.W_SCORE_UPLOAD).upload("fresh.csv", SAMPLE.read_bytes(),
                                                           "text/csv").run()
    assert_clean(at)
    # The sample still has its churn column: customers already gone are left out.
    current = int((pd.read_csv(SAMPLE)["Churn"] != "Yes").sum())
    assert any(m.label == "Customers scored" and m.value == f"{current:,}" for m in at.metric)
    assert any(b.key == "download_scores" for b in at.get("download_button"))
    assert at.session_state[StateKeys.SCORE_FAILURE] is None


HOSTILE_METHOD = "best F1 ![pixel](http://evil.example/p.png) [click](http://evil.example)"


def test_markdown_from_a_bundle_is_shown_as_text(page, sample_analysis):
    zipped = bundle_to_zip(pipeline.make_bundle(
        sample_analysis, threshold=ThresholdChoice(0.4, HOSTILE_METHOD)))
    at = page("score.py")
    at.file_uploader(key=StateKeys.W_BUNDLE_UPLOAD).upload("model.zip", zipped,
                                                            "application/zip").run()
    assert_clean(at)
    shown = [c.value for c in at.caption if "Threshold chosen by" in c.value]
    assert shown and "![" not in shown[0] and "](" not in shown[0]
    assert "\\[click\\]" in shown[0]


def test_a_bundle_with_a_text_metric_is_refused_with_a_message(page, sample_analysis):
    import io
    import json
    import zipfile

    from churn_core.bundle_manifest import content_digest

    parts = zipfile.ZipFile(io.BytesIO(bundle_to_zip(pipeline.make_bundle(sample_analysis))))
    model, manifest = parts.read("model.ubj"), json.loads(parts.read("manifest.json"))
    manifest["metrics"]["roc_auc"] = "excellent"
    manifest["content_sha256"] = content_digest(manifest, model)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.ubj", model)
        zf.writestr("manifest.json", json.dumps(manifest))
    at = page("score.py")
    at.file_uploader(key=StateKeys.W_BUNDLE_UPLOAD).upload("model.zip", buf.getvalue(),
                                                            "application/zip").run()
    assert_clean(at)
    assert at.error


def test_error_details_never_reach_the_browser():
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" /
                            "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
