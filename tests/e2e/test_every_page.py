"""Every page, after loading the sample and training, at 1400 and 1024 px wide.

Screenshots go to ``docs/screenshots/<page>_<width>.png`` (the README shows them); any
``stException`` element on any page fails the test, and on Alerts at 1024 px no widget
label may be cut off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.test_journeys import go_to, open_with_sample, train_quick

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
WIDTHS = (1400, 1024)
# file in pages/ -> (title in the menu, heading on the page)
PAGES = {
    "home": ("Home", "churn-radar"),
    "data": ("Data", "Data"),
    "events": ("Event log", "Event log"),
    "explore": ("Explore", "Explore"),
    "segments": ("Segments", "Segments"),
    "model": ("Model", "Model"),
    "explain": ("Explain", "Explain"),
    "score": ("Score", "Score"),
    "alerts": ("Alerts", "Alerts"),
    "campaigns": ("Campaigns", "Campaigns"),
    "monitor": ("Monitor", "Monitor"),
}
CUT_OFF = """() => [...document.querySelectorAll(
    "[data-testid='stWidgetLabel'] p, [data-testid='stBaseButton-secondary'] p, "
    + "[data-testid='stBaseButton-primary'] p, [data-testid='stMetricLabel'] p, "
    + "[data-testid='stNumberInput'] input")]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.innerText)"""


def test_every_page_is_listed():
    assert set(PAGES) == {p.stem for p in (ROOT / "pages").glob("*.py")}


def _settle(page: Page) -> None:
    # Tables, selectboxes and charts load lazily: wait until no placeholder is left.
    page.wait_for_function(
        "!document.querySelector(\"[data-testid='stSkeleton'], .stSkeleton\")",
        timeout=30_000)
    page.wait_for_timeout(1000)  # plotly animates its first draw


def test_every_page_at_two_widths(page: Page, app_url: str) -> None:
    open_with_sample(page, app_url)
    train_quick(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1200})
        for slug, (title, heading) in PAGES.items():
            go_to(page, title, heading)
            _settle(page)
            page.screenshot(path=str(SHOTS / f"{slug}_{width}.png"), full_page=True)
            errors = page.locator("[data-testid='stException']")
            if errors.count():
                problems.append(f"{slug} at {width}px: {errors.first.inner_text()[:300]}")
            if slug == "alerts" and width == 1024:
                cut = page.evaluate(CUT_OFF)
                if cut:
                    problems.append(f"alerts at 1024px: labels cut off: {cut}")
    assert not problems, "\n".join(problems)
    shots = {p.name for p in SHOTS.glob("*_*.png")}
    assert {f"{s}_{w}.png" for s in PAGES for w in WIDTHS} <= shots
