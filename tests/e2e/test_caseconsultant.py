"""CaseConsultant in a real browser: an account asks and sees CasePilot's instant answer, a
consultant claims and answers in the queue (picking a code from the suggestions), the asker
reads the answer and the mail has left the queue; axe finds nothing on the new pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.factories import make_consultant, make_user

pytestmark = pytest.mark.e2e


def _log_in(page: Page, email: str, password: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password")).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


def test_an_account_asks_a_consultant_answers_and_the_answer_arrives(
    page: Page,
    browser: Browser,
    live_server,
    demo_content,
    mail_queue,
    assert_accessible,
    browser_errors,
):
    make_user("asker.e2e@example.com", password="lumbar-facet-second-level")
    make_consultant("consultant.e2e@example.com", password="certified-coder-answers", name="Dana")

    _log_in(page, "asker.e2e@example.com", "lumbar-facet-second-level", "/consult/new/")
    assert_accessible(page)
    page.get_by_label("Subject").fill("Second facet level")
    page.get_by_label("Your question").fill("Which modifiers apply to 64494 at L4-L5?")
    page.get_by_label("Codes involved").fill("64494 99999")
    page.get_by_label("Date of service").fill("2024-01-15")
    page.get_by_label("Payer type").select_option("medicare")
    page.get_by_label("Specialty").fill("Pain management")
    page.get_by_label("Place of service").select_option("office")
    page.get_by_role("button", name="Send to a certified coder").click()

    expect(page).to_have_url(re.compile(r"/account/consultations/[0-9a-f-]+/$"))
    thread_url = page.url
    instant = page.get_by_role("region", name=re.compile("Instant answer from CasePilot"))
    expect(instant).to_contain_text("Automatic")
    expect(instant).to_contain_text("64494")
    expect(page.get_by_text("Not in our tables: 99999")).to_be_visible()
    assert_accessible(page)

    consultant_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    consultant_context.set_default_timeout(5_000)
    desk = consultant_context.new_page()
    desk.on("pageerror", lambda error: browser_errors.append(str(error)))
    _log_in(desk, "consultant.e2e@example.com", "certified-coder-answers", "/consult/queue/")
    expect(desk.get_by_role("row", name=re.compile("Second facet level"))).to_be_visible()
    assert_accessible(desk)
    desk.get_by_role("button", name="Claim Second facet level").click()
    desk.get_by_label("Your answer").fill("Append modifier 50 for a bilateral injection.")
    codes = desk.get_by_label("Codes the answer names")
    codes.press_sequentially("64494")
    expect(desk.get_by_role("option").first).to_contain_text("64494")
    codes.press("ArrowDown")
    codes.press("Enter")  # picks the suggestion into the field; the form is not sent
    expect(codes).to_have_value("64494 ")
    assert_accessible(desk)
    desk.get_by_role("button", name="Send the answer and mark it answered").click()
    expect(desk.get_by_text("Your answer was sent to the asker.")).to_be_visible()
    consultant_context.close()

    page.goto(thread_url)
    answer = page.get_by_role("region", name="Answer from a certified coder")
    expect(answer).to_contain_text("Append modifier 50 for a bilateral injection.")
    expect(answer.get_by_role("link", name="CPT 64494")).to_have_attribute("href", "/cpt/64494/")
    assert_accessible(page)

    sent = mail_queue()
    answered = [m for m in sent if m.subject.startswith("Answered:")]
    assert [m.to for m in answered] == [["asker.e2e@example.com"]]
    assert "Append modifier 50 for a bilateral injection." in answered[0].body
    assert browser_errors == []
