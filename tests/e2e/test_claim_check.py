"""A coder enters a claim with the keyboard alone, in a real browser, and reads the findings."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import make_user

pytestmark = pytest.mark.e2e


def sign_in(page: Page, live_server) -> None:
    client = Client()
    client.force_login(make_user())
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_a_coder_enters_a_claim_with_the_keyboard_and_reads_the_findings(
    page: Page, live_server, real_edits, assert_accessible, browser_errors
):
    sign_in(page, live_server)
    page.goto("/claim-check/")
    expect(page.get_by_text("Alt+N adds a line")).to_be_visible()
    assert_accessible(page)

    keys = page.keyboard
    page.get_by_label("Line 1 code").focus()
    keys.type("64493")
    keys.press("Alt+N")  # a new line, the cursor in its code
    expect(page.get_by_label("Line 6 code")).to_be_focused()
    keys.type("77003")
    keys.press("Tab")
    keys.type("XS")
    keys.press("Alt+N")
    keys.type("64494")
    keys.press("Tab")
    keys.press("Tab")
    keys.press("Control+A")
    keys.type("2")
    keys.press("Alt+N")
    keys.type("99999")
    keys.press("Alt+Delete")  # changed my mind: that line goes
    expect(page.get_by_label("Line 8 code")).to_have_count(0)
    expect(page.locator("input[name='line-TOTAL_FORMS']")).to_have_value("7")
    keys.press("Control+Enter")

    expect(page).to_have_url(re.compile(r"/claim-check/\d+/$"))
    findings = page.get_by_role("region", name="Findings")
    expect(findings).to_contain_text("NCCI edit 64493 / 77003 bypassed by XS on line 2")
    expect(findings).to_contain_text("64494: 2 units")
    expect(findings).to_contain_text("over its MUE of 1")
    expect(findings).to_contain_text("NCCI PTP v30.1, effective 2024-04-01")
    expect(findings).not_to_contain_text("99999")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    assert_accessible(page)
    assert browser_errors == []
