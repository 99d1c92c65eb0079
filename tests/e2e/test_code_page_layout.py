"""The code page as a coder sees it on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def test_code_page_fits_a_phone_screen_without_sideways_scrolling(
    page: Page, demo_content, browser_errors
):
    page.set_viewport_size(PHONE)
    page.goto("/cpt/64494/")
    expect(page.get_by_role("heading", name="Common Language Description")).to_be_visible()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a {PHONE['width']}px phone"
    assert browser_errors == []
