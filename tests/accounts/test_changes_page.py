"""Changes to my codes (/account/changes/): what imports changed for an account's
favourites, grouped by import, newest first, with values only where the account may read
them without spending a view."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import MyCode, Unlock
from accounts.quota import period_bounds
from codes.models import CodeChange
from tests.factories import (
    make_code,
    make_import_run,
    make_ncci_change,
    make_pfs_change_99214,
    make_plan,
    make_system,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coder(client):
    """A verified free account with 99214 and 64493 among its favourites."""
    user = make_user()
    cpt = make_system("cpt")
    codes = {
        n: make_code(n, system=cpt, short=short)
        for n, short in [
            ("99214", "Office o/p est mod 30 min"),
            ("64493", "Inj paravert f jnt l/s 1 lev"),
            ("99215", "Office o/p est hi 40 min"),
        ]
    }
    for position, number in enumerate(["99214", "64493"]):
        MyCode.objects.create(user=user, code=codes[number], starred=True, position=position)
    client.force_login(user)
    client.user, client.codes = user, codes
    return client


def unlock(user, code) -> None:
    start, _ = period_bounds(now=timezone.now())
    Unlock.objects.create(subject=f"u:{user.pk}", period_start=start, code=code, user=user)


def test_the_page_needs_an_account(client):
    response = client.get("/account/changes/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_changes_of_favourites_are_grouped_by_import_newest_first(coder):
    now = timezone.now()
    pfs = make_import_run("cms-pfs-rvu", "PPRRVU25_JAN1.csv", started_at=now)
    ncci = make_import_run(
        "cms-ncci-ptp", "ccipra-v301r0-f1.zip", started_at=now - datetime.timedelta(days=3)
    )
    make_pfs_change_99214(pfs)
    make_ncci_change(ncci, "64493", "01991")
    make_ncci_change(ncci, "99215", "36415")  # not a favourite

    html = coder.get("/account/changes/").content.decode()

    assert html.index("PFS 2025-JAN release") < html.index("NCCI PTP v30.1, effective 2024-04-01")
    assert "Imported" in html and "PPRRVU25_JAN1.csv" in html
    assert "Compared with PFS 2023-JAN release" in html
    assert "RVUs and payment changed" in html
    assert "NCCI edit added" in html
    assert "99215" not in html
    # Each change links to the code page as of a date of service under each edition.
    assert 'href="/cpt/99214/?dos=2023-01-01"' in html
    assert 'href="/cpt/99214/?dos=2025-01-01"' in html
    assert 'href="/cpt/64493/?dos=2024-04-01"' in html


def test_locked_values_are_not_in_the_html(coder):
    run = make_import_run("cms-pfs-rvu")
    make_pfs_change_99214(run)
    make_ncci_change(run, "64493", "01991")

    response = coder.get("/account/changes/")
    html = response.content.decode()

    assert "RVUs and payment changed" in html and "NCCI edit added" in html
    for value in ("128.43", "125.18", "-2.53", "3.79", "3.87", "01991", "indicator"):
        assert value not in html
    assert "Open the code page to see the details." in html


def test_a_code_opened_this_period_shows_its_values(coder):
    run = make_import_run("cms-pfs-rvu")
    make_pfs_change_99214(run)
    make_ncci_change(run, "64493", "01991")
    unlock(coder.user, coder.codes["99214"])

    html = coder.get("/account/changes/").content.decode()

    # (125.18 − 128.43) / 128.43 = −2.53 %
    assert "RVUs and payment changed: national payment -2.53%" in html
    assert "128.43" in html and "125.18" in html
    assert "01991" not in html  # 64493 is not opened: its pair stays behind its page


def test_an_unlimited_plan_reads_every_change_in_full(client):
    user = make_user(plan=make_plan(views=None))
    code = make_code("64493", system=make_system("cpt"))
    MyCode.objects.create(user=user, code=code, starred=True)
    make_ncci_change(
        make_import_run(), "64493", "0213T", kind="ncci-indicator", before="1", after="0"
    )
    client.force_login(user)

    html = client.get("/account/changes/").content.decode()

    assert "NCCI modifier indicator changed: 64493 (column 1) with 0213T (column 2)" in html
    assert "1 — modifier allowed → 0 — no modifier allowed" in html


def test_new_icd10cm_codes_in_a_favourites_category_are_listed(client):
    user = make_user()
    icd = make_system("icd10cm")
    MyCode.objects.create(user=user, code=make_code("M54.50", system=icd), starred=True)
    make_code("M54.52", system=icd, short="Sample low back pain of the sacroiliac region")
    CodeChange.objects.create(
        run=make_import_run("cdc-icd10cm-xml"),
        system="icd10cm",
        code="M54.52",
        kind=CodeChange.Kind.ICD_ADDED,
        after={"short_descriptor": "Sample low back pain of the sacroiliac region"},
        edition_before="ICD-10-CM FY2025",
        edition_after="ICD-10-CM FY2026",
        effective_before=datetime.date(2024, 10, 1),
        effective_after=datetime.date(2025, 10, 1),
    )
    client.force_login(user)

    html = client.get("/account/changes/").content.decode()

    assert "New code: Sample low back pain of the sacroiliac region" in html
    assert "(in the category of a favourite)" in html
    assert 'href="/icd-10-cm/M54.52/?dos=2025-10-01"' in html


def test_an_account_without_favourites_is_told_how_to_start(member):
    response = member.get("/account/changes/")

    assert "No favourites yet" in response.content.decode()


@pytest.mark.parametrize("page", ["abc", "99999", "-1", "1\x00", "9" * 5000])
def test_any_page_number_is_a_page_not_an_error(coder, page):
    make_ncci_change(make_import_run(), "64493", "01991")

    response = coder.get("/account/changes/", {"page": page})

    assert response.status_code == 200
    assert "NCCI edit added" in response.content.decode()


def test_the_page_reads_in_a_few_queries_however_many_changes(coder, django_assert_max_num_queries):
    for number in range(5):
        run = make_import_run(filename=f"part{number}.txt")
        for other in range(20):
            make_ncci_change(run, "64493", f"{10000 + other}")
    unlock(coder.user, coder.codes["64493"])

    with django_assert_max_num_queries(12):
        response = coder.get("/account/changes/")

    assert response.content.decode().count("NCCI edit added") == 100


def test_the_weekly_email_can_be_turned_off_and_on(coder):
    coder.post("/account/changes/digest/", {"digest": "0"})
    coder.user.refresh_from_db()
    assert coder.user.change_digest is False

    response = coder.post("/account/changes/digest/", {"digest": "1"}, follow=True)

    coder.user.refresh_from_db()
    assert coder.user.change_digest is True
    assert "weekly email" in response.content.decode()


def test_my_codes_and_the_account_menu_link_to_the_changes(coder):
    html = coder.get("/account/codes/").content.decode()

    assert html.count('href="/account/changes/"') == 2


def test_an_mue_change_reads_in_units_with_its_indicator(coder):
    run = make_import_run("cms-mue", "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv")
    CodeChange.objects.create(
        run=run,
        system="cpt",
        code="64493",
        kind=CodeChange.Kind.MUE_CHANGED,
        field="practitioner",
        before={"value": 1, "adjudication": 2, "rationale": "CMS Policy"},
        after={"value": 2, "adjudication": 3, "rationale": "Clinical: Data"},
        edition_before="MUE 2024 Q2, effective 2024-04-01",
        edition_after="MUE 2026 Q3, effective 2026-07-01",
    )
    CodeChange.objects.create(
        run=run,
        system="cpt",
        code="99214",
        kind=CodeChange.Kind.MUE_CHANGED,
        field="practitioner",
        before={"value": 1, "adjudication": 1, "rationale": "Clinical: Data"},
        after=None,
        edition_before="MUE 2024 Q2, effective 2024-04-01",
        edition_after="MUE 2026 Q3, effective 2026-07-01",
    )
    unlock(coder.user, coder.codes["64493"])
    unlock(coder.user, coder.codes["99214"])

    html = coder.get("/account/changes/").content.decode()

    assert "MUE dropped (practitioner)" in html and "It was 1 unit, 1 — Line Edit" in html
    assert "MUE changed (practitioner)" in html
    assert "Value: 1 → 2 units" in html
    assert "Adjudication indicator:" in html and "Date of Service Edit: Clinical" in html
