"""Segments page."""

from __future__ import annotations

from tests.app.conftest import assert_clean


def test_segments_needs_model(page, sample_check):
    at = page("segments.py", check=sample_check)
    assert_clean(at)
    assert at.info


def test_segments_render(page, sample_check, sample_analysis):
    at = page("segments.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    assert at.dataframe
