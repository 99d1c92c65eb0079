"""A coder prices a code in their Medicare locality, in a real browser, with and without
JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.factories import make_user

pytestmark = pytest.mark.e2e

PASSWORD = "lumbar-facet-second-level"


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Account", exact=True)).to_contain_text(email)


def pick_manhattan(page: Page) -> None:
    page.goto("/cpt/99214/?dos=2025-06-15")
    page.get_by_label("Price in another locality").fill("Manhattan")
    page.get_by_role("button", name="Find").click()
    page.get_by_label(re.compile("localit(y|ies) matching")).select_option("13202-01")
    page.get_by_role("button", name="Use this locality").click()


def test_a_coder_picks_manhattan_and_sees_the_hand_worked_payment(
    page: Page, demo_content, assert_accessible, browser_errors
):
    user = make_user(password=PASSWORD)
    log_in(page, user.email)

    pick_manhattan(page)

    section = page.locator("#payment")
    expect(
        section.get_by_role("heading", name="Medicare payment in NY — MANHATTAN")
    ).to_be_visible()
    expect(section).to_contain_text("$142.07")
    expect(section).to_contain_text("$105.48")
    assert_accessible(page)
    page.goto("/cpt/99214/?dos=2025-06-15&locality_q=new+york")
    assert_accessible(page)
    assert browser_errors == []


def test_the_locality_picker_works_without_javascript(browser: Browser, live_server, demo_content):
    user = make_user(password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(5_000)
    page = context.new_page()
    try:
        log_in(page, user.email)
        pick_manhattan(page)
        expect(page.locator("#payment")).to_contain_text("$142.07")
        page.goto("/cpt/99214/?dos=2025-06-15")  # remembered for the account
        expect(page.locator("#payment")).to_contain_text("Medicare payment in NY — MANHATTAN")
    finally:
        context.close()
