"""End-to-end journeys in headless chromium against `streamlit run app.py`."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import READY

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "customers.csv"
TRAIN_MS = 600_000


def ready(page: Page, timeout: float = 120_000) -> None:
    """Wait until the script run triggered by the last action has finished."""
    page.wait_for_selector(READY, timeout=timeout)


def go_to(page: Page, title: str, expect_text: str) -> None:
    page.locator("[data-testid='stSidebarNavLink']", has_text=re.compile(rf"{title}\s*$")).click()
    expect(page.get_by_role("heading", name=expect_text).first).to_be_visible(timeout=60_000)
    ready(page)


def shot(page: Page, name: str) -> None:
    """Wait until the page has settled and fail on an exception element.

    The README's screenshots come from tests/e2e/test_every_page.py (every page, two widths).
    """
    # Tables, selectboxes and charts load lazily: wait until no placeholder is left.
    page.wait_for_function(
        "!document.querySelector(\"[data-testid='stSkeleton'], .stSkeleton\")",
        timeout=30_000)
    assert not page.locator("[data-testid='stException']").count(), f"exception on {name}"


def metric(page: Page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def open_with_sample(page: Page, app_url: str) -> None:
    """Open the app at 1400 px and load the bundled sample from the Home page."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url)
    ready(page)
    page.get_by_role("button", name="Load the sample data").click()
    expect(page.get_by_text("customers.csv").first).to_be_visible(timeout=60_000)
    ready(page)


def train_quick(page: Page) -> None:
    go_to(page, "Model", "Model")
    page.get_by_text("Quick training").click()
    page.get_by_role("button", name="Train the model").click()
    expect(page.get_by_text("Model quality").first).to_be_visible(timeout=TRAIN_MS)
    ready(page, TRAIN_MS)


def test_sample_train_threshold_download(page: Page, app_url: str, tmp_path: Path) -> None:
    open_with_sample(page, app_url)
    shot(page, "home")
    go_to(page, "Data", "Data")
    shot(page, "data")
    go_to(page, "Explore", "Explore")
    shot(page, "explore")

    train_quick(page)
    expect(page.get_by_text("ROC-AUC (out of fold)").first).to_be_visible()
    shot(page, "model")
    go_to(page, "Segments", "Segments")
    shot(page, "segments")
    go_to(page, "Explain", "Explain")
    shot(page, "explain")

    go_to(page, "Alerts", "Alerts")
    before = metric(page, "On the list")
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(page.locator("[data-testid='stMetric']", has_text="On the list").first
           ).not_to_have_text(re.compile(re.escape(before)), timeout=30_000)
    ready(page)
    after = metric(page, "On the list")
    flagged = int(after.replace(",", ""))
    shot(page, "alerts")

    button = page.get_by_role("button", name=re.compile("Download the at-risk list"))
    with page.expect_download(timeout=60_000) as info:
        button.click()
    target = tmp_path / "at_risk.csv"
    info.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    header = rows[0]
    assert header[0] == "CustomerID"
    assert {"churn_probability", "reason_1", "suggested_action", "value_at_risk"} <= set(header)
    assert len(rows) - 1 == flagged
    # Whom to call tomorrow: never a customer who already left, each customer once.
    with SAMPLE.open(encoding="utf-8") as f:
        gone = {r["CustomerID"] for r in csv.DictReader(f) if r["Churn"] == "Yes"}
    ids = [r[0] for r in rows[1:]]
    assert gone and not gone & set(ids) and len(set(ids)) == len(ids)

    start_campaign_and_read_effect(page, tmp_path)

    go_to(page, "Score", "Score")
    shot(page, "score")
    go_to(page, "Event log", "Event log")
    shot(page, "events")


def start_campaign_and_read_effect(page: Page, tmp_path: Path) -> None:
    """The retention loop: a campaign from the Alerts list, its outcomes, its effect."""
    page.get_by_text("Start a campaign with a control group").click()
    page.get_by_label("Campaign name").fill("e2e win-back")
    page.get_by_role("button", name="Start campaign").click()
    expect(page.get_by_text(re.compile("Campaign 'e2e win-back' started")).first
           ).to_be_visible(timeout=60_000)
    ready(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=re.compile("Download the campaign list")).click()
    listed = tmp_path / "campaign.csv"
    info.value.save_as(listed)
    rows = list(csv.DictReader(io.StringIO(listed.read_text(encoding="utf-8-sig"))))
    groups = {r["group"] for r in rows}
    assert groups == {"contact", "control"}
    # Outcomes a month later: the offer worked, so contacted customers left less often.
    outcome = tmp_path / "outcomes.csv"
    with outcome.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["CustomerID", "churned"])
        for i, r in enumerate(rows):
            rate = 5 if r["group"] == "contact" else 2  # every 5th vs every 2nd churns
            w.writerow([r["CustomerID"].lstrip("'"), "Yes" if i % rate == 0 else "No"])
    go_to(page, "Campaigns", "Campaigns")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        str(outcome))
    ready(page)
    page.get_by_role("button", name="Record outcomes").click()
    expect(page.get_by_text("Retention uplift").first).to_be_visible(timeout=60_000)
    ready(page)
    assert metric(page, "Match rate").startswith("100")
    shot(page, "campaigns")


def test_upload_ecommerce_workbook(page: Page, app_url: str, ecom_xlsx: Path) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url)
    ready(page)
    go_to(page, "Data", "Data")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        str(ecom_xlsx))
    expect(page.get_by_text("E Commerce Dataset.xlsx").first).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Ready to train").first).to_be_visible(timeout=120_000)
    ready(page)
    shot(page, "data_ecommerce")
    train_quick(page)
    value = metric(page, "ROC-AUC (out of fold)")
    assert 0.5 < float(value) <= 1.0
