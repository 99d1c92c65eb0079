"""CasePilot in a real browser: a guest asks on a code page with the keyboard alone, an account
asks a follow-up in its conversation, and axe finds nothing to fix."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_user

pytestmark = pytest.mark.e2e


def _tab_to(page: Page, element_id: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never took the focus")


def test_a_guest_asks_on_the_code_page_with_the_keyboard_and_sees_a_cited_answer(
    page: Page, demo_content, assert_accessible, browser_errors
):
    page.goto("/cpt/64494/")
    box = page.get_by_role("region", name="Have a question about CPT® code 64494?")
    expect(box).to_contain_text("3 of 3 questions left today")
    assert_accessible(page)

    _tab_to(page, "id_question")
    page.keyboard.type("what modifiers?")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/casepilot/c/[0-9a-f-]+/#q\d+$"))
    answer = page.get_by_role("article", name="Modifiers for 64494")
    expect(answer).to_contain_text("Bilateral procedure")
    source = answer.get_by_role("link", name="CPT 64494")
    expect(source).to_have_attribute("href", "/cpt/64494/")
    expect(answer).to_contain_text("CPT 2026")  # the edition
    expect(page.get_by_text("2 of 3 questions left today")).to_be_visible()
    assert_accessible(page)
    assert browser_errors == []


def test_an_account_asks_a_follow_up_that_keeps_the_code(
    page: Page, demo_content, assert_accessible, browser_errors
):
    make_user("casepilot.member@example.com", password="lumbar-facet-second-level")
    page.goto("/accounts/login/?next=/cpt/64494/")
    page.get_by_label("Email").fill("casepilot.member@example.com")
    page.get_by_label(re.compile(r"^Password")).fill("lumbar-facet-second-level")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/cpt/64494/$"))

    page.get_by_label("Your question about 64494").fill("is it covered by Medicare?")
    page.get_by_role("button", name="Ask CasePilot").click()
    first = page.get_by_role("article", name="Medicare coverage for 64494")
    expect(first).to_contain_text("LCD L33930")
    expect(first.get_by_role("link", name=re.compile("Medicare Coverage"))).to_have_count(6)

    page.get_by_label("Your follow-up question").fill("and when was it added?")
    page.get_by_role("button", name="Ask CasePilot").click()
    follow = page.get_by_role("article", name="History of 64494")
    expect(follow).to_contain_text("Added")
    expect(page.get_by_role("article")).to_have_count(2)
    assert_accessible(page)
    assert browser_errors == []
