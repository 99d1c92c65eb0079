"""CareerCenter in a real browser: an employer posts a job, staff publish it, a coder finds it
with filters and saves it. axe checks every page on the way."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from careers.models import Job
from tests.e2e.conftest import DESKTOP
from tests.factories import make_user

pytestmark = pytest.mark.e2e

PASSWORD = "coding-jobs-board-2026"
TITLE = "Remote Cardiology Coder"


def log_in(page: Page, email: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def new_page(browser: Browser, live_server) -> Page:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(5_000)
    return context.new_page()


def test_post_review_publish_find_and_save_a_job(
    page: Page, browser: Browser, live_server, transactional_db, assert_accessible, browser_errors
):
    make_user("hiring@heartland.example", password=PASSWORD)
    make_user("reviewer@casepilot.example", password=PASSWORD, is_staff=True)
    make_user("coder@example.com", password=PASSWORD)

    # The employer posts a job.
    log_in(page, "hiring@heartland.example", "/careers/post/")
    assert_accessible(page)
    page.get_by_label("Job title").fill(TITLE)
    page.get_by_label("Employer", exact=True).fill("Heartland Heart Clinic")
    page.get_by_label("City").fill("Kansas City")
    page.get_by_label("State", exact=True).select_option("MO")
    page.get_by_label("Arrangement").select_option("remote")
    page.get_by_label(re.compile("states it may hire in")).select_option(["MO", "KS"])
    page.get_by_label("Employment type").select_option("full-time")
    page.get_by_label("Setting").select_option("pro-fee")
    page.get_by_role("group", name="Specialties").get_by_label("Cardiology").check()
    required = page.get_by_role("group", name="Credentials required (any one of)")
    required.get_by_role("checkbox", name="CPC (Certified Professional Coder)", exact=True).check()
    page.get_by_label("Years of experience").fill("2")
    page.get_by_label("Pay from").fill("28")
    page.get_by_label("Pay up to").fill("34")
    page.get_by_label("Pay is").select_option("hour")
    page.get_by_label("Description (Markdown)").fill("Code **echo** and stress tests.")
    page.get_by_label("Apply at (URL)").fill("https://heartland.example/apply")
    valid = timezone.localdate() + datetime.timedelta(days=30)
    page.get_by_label("Valid through").fill(valid.isoformat())
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url(re.compile(r"/careers/mine/$"))
    expect(page.get_by_text("is waiting for review")).to_be_visible()
    expect(page.get_by_role("cell", name="Pending review")).to_be_visible()
    assert_accessible(page)
    assert Job.objects.get().status == Job.Status.PENDING

    # Staff review it and publish it.
    staff = new_page(browser, live_server)
    log_in(staff, "reviewer@casepilot.example", "/careers/review/")
    assert_accessible(staff)
    staff.get_by_role("link", name=TITLE).click()
    expect(staff.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    assert_accessible(staff)
    staff.get_by_role("button", name="Approve and publish").click()
    expect(staff.get_by_text(f"“{TITLE}” is published.")).to_be_visible()
    staff.context.close()

    # A coder finds it with filters and saves it.
    coder = new_page(browser, live_server)
    log_in(coder, "coder@example.com", "/careers/")
    assert_accessible(coder)
    filters = coder.get_by_role("form", name="Filter jobs")
    filters.get_by_label("Credential").select_option("CPC")
    filters.get_by_label("Specialty").select_option("cardiology")
    filters.get_by_label(re.compile(r"^State")).select_option("KS")
    filters.get_by_role("button", name="Show jobs").click()
    expect(coder).to_have_url(
        re.compile(r"/careers/\?credential=CPC&specialty=cardiology&state=KS$")
    )
    expect(coder.get_by_role("heading", name=re.compile(r"^1 job for"))).to_be_visible()
    assert_accessible(coder)
    coder.get_by_role("link", name=TITLE).click()
    expect(coder.get_by_text("$28.00–$34.00 per hour").first).to_be_visible()
    assert_accessible(coder)
    coder.get_by_role("button", name="Save this job").click()
    expect(coder.get_by_role("button", name=re.compile("Saved"))).to_be_visible()
    coder.goto("/careers/saved/")
    expect(coder.get_by_role("link", name=TITLE)).to_be_visible()
    assert_accessible(coder)
    coder.context.close()
    assert browser_errors == []
