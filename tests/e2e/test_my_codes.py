"""A coder stars a code, writes a private note on it and finds both in My codes, in a real
browser; the printed code page is a summary without navigation, boxes or forms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import MyCode
from codes.models import Code
from tests.factories import make_import_run, make_ncci_change, make_user

pytestmark = pytest.mark.e2e

PASSWORD = "lumbar-facet-second-level"
NOTE = "Payer Acme wants the fluoroscopy images attached on appeal."


def log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Account", exact=True)).to_contain_text(email)


def test_a_coder_stars_a_code_adds_a_note_and_finds_it_in_my_codes(
    page: Page, demo_content, assert_accessible, browser_errors
):
    user = make_user(password=PASSWORD)
    log_in(page, user.email)

    page.goto("/cpt/64494/")
    page.get_by_role("button", name="Add 64494 to favourites").click()
    expect(page).to_have_url(re.compile(r"/cpt/64494/$"))
    starred = page.get_by_role("button", name=re.compile(r"^Favourite"))
    expect(starred).to_have_attribute("aria-pressed", "true")

    page.get_by_text("Add a private note").click()
    page.get_by_label(re.compile(r"^Your note on 64494")).fill(NOTE)
    page.get_by_role("button", name="Save note").click()
    expect(page).to_have_url(re.compile(r"/cpt/64494/$"))
    expect(page.locator(".my-code__text")).to_have_text(NOTE)
    expect(page.locator(".my-code__note")).to_contain_text("only you can see it")
    assert_accessible(page)

    # Printed, the page is the code and its descriptors: no navigation, boxes, gate or forms.
    page.emulate_media(media="print")
    for hidden in (".site-header", ".quota-banner", ".casepilot-box", ".my-code__bar", ".toc"):
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(page.get_by_role("heading", name="Official Description")).to_be_visible()
    expect(page.locator(".my-code__text")).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="My codes").first.click()
    expect(page).to_have_url(re.compile(r"/account/codes/$"))
    favourites = page.get_by_role("region", name="Favourites")
    expect(favourites.get_by_role("link", name=re.compile(r"CPT 64494"))).to_be_visible()
    page.get_by_label("Search your notes").fill("fluoroscopy")
    page.get_by_role("button", name="Search notes").click()
    notes = page.get_by_role("region", name="Your notes")
    expect(notes).to_contain_text(NOTE)
    expect(page.get_by_role("region", name=re.compile("Recently viewed"))).to_contain_text(
        "CPT 64494"
    )
    assert_accessible(page)

    # Search results carry the same star, already on for 64494.
    page.goto("/search/?q=facet+injection")
    result = page.locator(".search-result", has=page.get_by_role("link", name=re.compile("^64494")))
    expect(result.get_by_role("button", name=re.compile(r"^Favourite"))).to_be_visible()
    assert_accessible(page)
    assert browser_errors == []


def test_a_coder_reads_what_a_new_edition_changed_for_a_favourite(
    page: Page, demo_content, assert_accessible, browser_errors
):
    user = make_user(password=PASSWORD)
    code = Code.objects.get(system__slug="cpt", code="64494")
    MyCode.objects.create(user=user, code=code, starred=True)
    run = make_import_run("cms-ncci-ptp", "ccipra-v301r0-f1.zip")
    make_ncci_change(run, "64494", "0213T", kind="ncci-indicator", before="1", after="0")
    log_in(page, user.email)

    page.goto("/account/codes/")
    page.get_by_role("link", name="What new editions changed for these codes").click()
    expect(page).to_have_url(re.compile(r"/account/changes/$"))
    run_section = page.get_by_role("region", name="NCCI PTP v30.1, effective 2024-04-01")
    expect(run_section).to_contain_text("NCCI modifier indicator changed")
    expect(run_section).not_to_contain_text("0213T")  # 64494 not opened this month: locked
    assert_accessible(page)

    run_section.get_by_role("link", name="64494 as of Apr 1, 2024").click()
    expect(page).to_have_url(re.compile(r"/cpt/64494/\?dos=2024-04-01$"))
    page.goto("/account/changes/")
    expect(page.get_by_role("region", name="NCCI PTP v30.1, effective 2024-04-01")).to_contain_text(
        "64494 (column 1) with 0213T (column 2)"
    )  # opened now: the details show
    assert_accessible(page)
    assert browser_errors == []
