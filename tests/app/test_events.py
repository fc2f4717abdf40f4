"""Event log page: upload, mapping, definition with per-cutoff counts, build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.app.conftest import assert_clean
from ui.state import StateKeys


def _log(span: int = 540) -> bytes:
    rng = np.random.default_rng(0)
    n = 4000
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, span, n), unit="D")
    frame = pd.DataFrame({"customer_id": rng.integers(1, 300, n).astype(str),
                          "order_date": days.strftime("%Y-%m-%d"),
                          "amount": rng.gamma(2.0, 30.0, n).round(2)})
    return frame.to_csv(index=False).encode()


def test_events_without_upload(page):
    at = page("events.py")
    assert_clean(at)
    assert at.info


def test_event_log_to_training_table(page):
    at = page("events.py")
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload("orders.csv", _log(),
                                                            "text/csv").run()
    assert_clean(at)
    next(b for b in at.button if b.label == "Confirm the mapping").click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.EVENTS_LOG] is not None
    assert at.session_state[StateKeys.EVENTS_SUMMARY] is not None
    assert any("month ends" in box.value for box in at.info)     # auto kept month ends
    next(b for b in at.button if b.label == "Build the training table").click().run()
    assert_clean(at)
    check = at.session_state[StateKeys.CHECK]
    assert check is not None and check.dataset.schema.label_column == "churned"
    assert at.session_state[StateKeys.FEATURE_LABELS]


def test_event_log_too_short_for_the_window(page):
    at = page("events.py")
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload("orders.csv", _log(180),
                                                            "text/csv").run()
    next(b for b in at.button if b.label == "Confirm the mapping").click().run()
    assert not at.exception
    assert any("at least 271 days" in box.value for box in at.error)
    assert not any(b.label == "Build the training table" for b in at.button)


def test_exact_duplicates_left_out_unless_unticked(page):
    data = _log()
    lines = data.decode().splitlines()
    data = ("\n".join([*lines, *lines[1:4]]) + "\n").encode()      # three lines twice
    at = page("events.py")
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload("orders.csv", data, "text/csv").run()
    box = next(c for c in at.checkbox if c.label == "Leave out exact duplicate lines")
    assert box.value
    next(b for b in at.button if b.label == "Confirm the mapping").click().run()
    assert_clean(at)
    log = at.session_state[StateKeys.EVENTS_LOG]
    assert {d["code"]: d["count"] for d in log.dropped}.get("EVENTS_DUPLICATES") == 3
    used = log.rows_used
    next(c for c in at.checkbox if c.label == "Leave out exact duplicate lines").uncheck()
    next(b for b in at.button if b.label == "Confirm the mapping").click().run()
    assert_clean(at)
    log = at.session_state[StateKeys.EVENTS_LOG]
    assert "EVENTS_DUPLICATES" not in {d["code"] for d in log.dropped}
    assert log.rows_used == used + 3


def test_a_hostile_wide_log_is_refused_quickly(page):
    header = ",".join(["customer_id", "order_date"] + [f"c{i}" for i in range(49_998)])
    row = ",".join(["1", "2023-01-01"] + ["1"] * 49_998)
    at = page("events.py")
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload(
        "wide.csv", f"{header}\n{row}\n".encode(), "text/csv").run(timeout=60)
    assert_clean(at)
    problems = at.session_state[StateKeys.EVENTS_PROBLEMS]  # list[Problem], as every *_PROBLEMS
    assert [p.code for p in problems] == ["EVENTS_TOO_MANY_COLUMNS"]


def test_a_replaced_upload_is_removed_from_disk(page):
    from pathlib import Path

    at = page("events.py")
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload("a.csv", _log(), "text/csv").run()
    first = Path(at.session_state[StateKeys.EVENTS_PATH])
    assert first.exists()
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload("b.csv", _log(400),
                                                            "text/csv").run()
    assert_clean(at)
    assert not first.exists() and not first.parent.exists()
    assert Path(at.session_state[StateKeys.EVENTS_PATH]).exists()


def _built_page(page, mode: str | None):
    at = page("events.py")
    at.file_uploader(key=StateKeys.W_EVENTS_UPLOAD).upload("orders.csv", _log(),
                                                            "text/csv").run()
    next(b for b in at.button if b.label == "Confirm the mapping").click().run()
    radio = at.radio(key=StateKeys.W_VALUE_FEATURES)
    assert radio.value == "auto" and list(radio.options) == [
        "Keep them when they improve the backtest", "Always keep them", "Leave them out"]
    if mode is not None:
        radio.set_value(mode).run()
    next(b for b in at.button if b.label == "Build the training table").click().run()
    assert_clean(at)
    return at


def test_value_features_switch_auto_by_default(page):
    at = _built_page(page, None)
    result = at.session_state[StateKeys.EVENTS_BUILD]
    record = result.summary["value_features"]
    assert record["mode"] == "auto"
    assert "customer_value" in result.scoring.columns           # value added either way
    if record["with_roc_auc"] is not None:
        assert record["kept"] == (record["gain"] >= 0.002)
    assert any(record["reason"] in c.value for c in at.caption)


def test_value_features_switch_keep_and_off(page):
    at = _built_page(page, "keep")
    result = at.session_state[StateKeys.EVENTS_BUILD]
    assert result.summary["value_features"]["kept"]
    assert "bgnbd_p_alive" in at.session_state[StateKeys.CHECK].dataset.schema.features
    at = _built_page(page, "off")
    result = at.session_state[StateKeys.EVENTS_BUILD]
    assert result.summary["value_features"]["mode"] == "off"
    assert "bgnbd_p_alive" not in result.training.columns
    assert "customer_value" not in at.session_state[StateKeys.CHECK].dataset.schema.features


@pytest.fixture(scope="module")
def event_analysis(tmp_path_factory):
    """A tiny model trained on an event-log build (customer_value, BG/NBD choice 'auto')."""
    from churn_core import pipeline
    from churn_core.model import TrainConfig

    path = tmp_path_factory.mktemp("events") / "orders.csv"
    path.write_bytes(_log())
    mapping, _ = pipeline.propose_mapping_guarded(path)
    built = pipeline.build_tables(path, mapping, value=True, value_features="auto")
    checked = pipeline.check_frame(built.training,
                                   overrides=pipeline.event_overrides(built.training))
    analysis = pipeline.fit_all(checked.dataset, k=2, scoring=built.scoring,
                                as_of=built.summary["scoring_date"],
                                config=TrainConfig(cv_folds=2, search=False, n_estimators=40,
                                                   side_models=False))
    return built, checked, analysis


def test_alerts_value_defaults_to_the_builds_customer_value(page, event_analysis):
    built, checked, analysis = event_analysis
    at = page("alerts.py", check=checked, analysis=analysis)
    assert_clean(at)
    assert at.selectbox(key=StateKeys.W_VALUE_SOURCE).value == "customer_value"
    choice = at.session_state[StateKeys.VALUE_CHOICE]
    assert choice.column == "customer_value"
    assert abs(choice.values.values.sum() - built.scoring["customer_value"].sum()) < 1e-6


def test_model_page_captions_the_value_features_decision(page, event_analysis):
    built, checked, analysis = event_analysis
    at = page("model.py", check=checked, analysis=analysis, run=False)
    at.session_state[StateKeys.EVENTS_BUILD] = built
    at.session_state[StateKeys.SOURCE_FRAME] = built.training
    at.run()
    assert_clean(at)
    reason = built.summary["value_features"]["reason"]
    assert reason.startswith("BG/NBD features")
    assert any(reason in c.value for c in at.caption)


def test_the_alerts_bundle_records_the_value_features_decision(event_analysis, monkeypatch):
    """The model downloaded from Alerts after a build keeps the build's BG/NBD decision in its
    manifest, as the command line's bundle does (the decision itself is read from state as
    for the Model page's caption, tested above)."""
    from churn_core import pipeline
    from ui.flows import alerts as alerts_flow

    built, _, analysis = event_analysis
    record = built.summary["value_features"]
    monkeypatch.setattr(alerts_flow, "value_features", lambda: record)
    data = alerts_flow.bundle_zip(analysis, analysis.threshold, None)
    assert pipeline.load_bundle_bytes(data, name="m.zip").metrics["value_features"] == record
    monkeypatch.setattr(alerts_flow, "value_features", lambda: None)  # a customer table
    plain = alerts_flow.bundle_zip(analysis, analysis.threshold, 50)
    loaded = pipeline.load_bundle_bytes(plain, name="m.zip")
    assert "value_features" not in loaded.metrics
    assert loaded.threshold["detail"]["capacity"] == 50
