"""A guest's way from the first code page to a verified free account, in a real browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from codes.models import Code

pytestmark = pytest.mark.e2e

# allauth mails the verification code on a line of its own, e.g. "K7QD-M2XA".
VERIFICATION_CODE = re.compile(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})+)\s*$", re.MULTILINE)


def official_text(code: str) -> str:
    return Code.objects.get(system__slug="cpt", code=code).official_descriptor


def emailed_code(address: str) -> str:
    sent = [message for message in mail.outbox if address in message.to]
    assert sent, f"no mail was sent to {address}"
    match = VERIFICATION_CODE.search(sent[-1].body)
    assert match, f"no verification code in the mail:\n{sent[-1].body}"
    return match.group(1)


def test_guest_reads_a_code_hits_the_gate_registers_verifies_and_reads_on(
    page: Page, demo_content, assert_accessible, browser_errors
):
    page.goto("/cpt/64494/")
    expect(page.get_by_role("heading", name="Official Description")).to_be_visible()
    expect(page.get_by_role("heading", name="Common Language Description")).to_be_visible()
    expect(page.locator(".descriptor")).to_have_text(official_text("64494"))
    banner = page.get_by_role("complementary", name="Your code page views")
    expect(banner).to_contain_text("0 code page views remaining")
    assert_accessible(page)

    # The family list links to the primary code; following it costs a view the guest lacks.
    page.get_by_role("link", name=re.compile(r"^64493\b")).first.click()
    expect(page).to_have_url(re.compile(r"/cpt/64493/$"))
    gate = page.get_by_role("region", name="Register to keep reading")
    expect(gate).to_be_visible()
    expect(gate.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("heading", name="Official Description")).to_have_count(0)
    assert official_text("64493") not in page.content()
    assert_accessible(page)

    gate.get_by_role("link", name="Register free account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    assert_accessible(page)
    address = "guest.turned.member@example.com"
    page.get_by_label("Email").fill(address)
    page.get_by_label(re.compile(r"^Password:?$")).fill("lumbar-facet-second-level")
    page.get_by_label(re.compile(r"^Password \(again\)")).fill("lumbar-facet-second-level")
    page.get_by_role("button", name="Register free account").click()

    expect(page.get_by_role("heading", name=re.compile("verification code", re.I))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="Code").fill(emailed_code(address))
    page.get_by_role("button", name="Confirm").click()

    # Back on the code that was gated, now signed in and verified: 64494 read as a guest
    # counts toward the account, so six in all leaves four after 64493.
    expect(page).to_have_url(re.compile(r"/cpt/64493/$"))
    expect(page.get_by_role("heading", name="Official Description")).to_be_visible()
    expect(page.locator(".descriptor")).to_have_text(official_text("64493"))
    expect(banner).to_contain_text("4 of 6 code page views remaining")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(address)
    assert_accessible(page)
    assert browser_errors == []
