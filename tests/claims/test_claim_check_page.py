"""The claim check page through real URLs: who may check, the saved history, and bad input."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from accounts.models import Meter
from claims.models import ClaimCheck
from tests.factories import make_locality, make_plan, make_user

pytestmark = pytest.mark.django_db

DOS = "2024-06-03"


def claim(paste: str = "", *, dos: str = DOS, rows: list[dict] | None = None, **extra) -> dict:
    """A POST body as the form sends it: the claim fields, the line rows and the paste box."""
    rows = rows if rows is not None else [{}]
    data = {
        "dos": dos,
        "place": "nonfacility",
        "paste": paste,
        "line-TOTAL_FORMS": str(len(rows)),
        "line-INITIAL_FORMS": "0",
        "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        for name in ("code", "modifiers", "units", "dos", "place"):
            data[f"line-{index}-{name}"] = row.get(name, "1" if name == "units" else "")
    data.update(extra)
    return data


@pytest.fixture
def coder(client):
    user = make_user()
    client.force_login(user)
    return user


def test_the_header_links_to_the_claim_check(client):
    html = client.get("/").content.decode()
    assert 'href="/claim-check/"' in html


def test_a_guest_sees_the_form_and_an_invitation_to_register(client):
    response = client.get("/claim-check/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="line-0-code"' in html and 'name="paste"' in html
    assert "Claim checks come with a free account" in html
    assert "checks 10 claims a month" in html


def test_a_guest_who_submits_a_claim_is_invited_and_nothing_is_checked(client, claim_codes):
    response = client.post("/claim-check/", claim("64493\n77003"))
    assert response.status_code == 200
    assert "Register to check this claim" in response.content.decode()
    assert not ClaimCheck.objects.exists() and not Meter.objects.exists()


def test_an_account_checks_a_claim_and_lands_on_its_saved_result(client, coder, real_edits):
    response = client.post("/claim-check/", claim("64493\n77003 XS\n64494 x2"))
    saved = ClaimCheck.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/claim-check/{saved.pk}/"
    assert saved.user == coder and saved.line_count == 3
    assert saved.summary == "64493, 77003, 64494"
    html = client.get(response["Location"]).content.decode()
    assert "NCCI edit 64493 / 77003 bypassed by XS on line 2" in html
    assert "64494: 2 units on Jun 3, 2024 (line 3), over its MUE of 1" in html
    assert "NCCI PTP v30.1, effective 2024-04-01" in html
    assert 'href="/cpt/77003/?dos=2024-06-03#ncci"' in html


def test_the_table_rows_and_the_paste_box_make_one_claim(client, coder, real_edits):
    rows = [{"code": "20610", "units": "1"}, {"code": "99213", "modifiers": "25", "units": "1"}]
    client.post("/claim-check/", claim("64494-50 x1", rows=rows))
    lines = ClaimCheck.objects.get().result["lines"]
    assert [(line["code"], line["modifiers"]) for line in lines] == [
        ("20610", []),
        ("99213", ["25"]),
        ("64494", ["50"]),
    ]


def test_a_free_account_is_metered_on_its_claim_check_allowance(client, coder, claim_codes):
    client.post("/claim-check/", claim("64493"))
    meter = Meter.objects.get()
    assert (meter.resource, meter.used, meter.subject) == ("claim_checks", 1, f"u:{coder.pk}")
    assert "9 of 10 claim checks left this month" in client.get("/claim-check/").content.decode()


def test_a_free_account_past_its_allowance_is_refused_with_a_way_to_upgrade(
    client, coder, claim_codes, settings
):
    settings.QUOTA_RESOURCES = {
        "claim_checks": {**settings.QUOTA_RESOURCES["claim_checks"], "free": 1}
    }
    assert client.post("/claim-check/", claim("64493")).status_code == 302
    refused = client.post("/claim-check/", claim("64494"))
    assert refused.status_code == 403
    assert "You have used your claim checks this month" in refused.content.decode()
    assert ClaimCheck.objects.count() == 1


def test_an_unverified_account_is_asked_to_verify_first(client, claim_codes):
    client.force_login(make_user(verified=False))
    response = client.post("/claim-check/", claim("64493"))
    assert response.status_code == 403
    assert "Verify your email to check claims" in response.content.decode()


@pytest.mark.parametrize("who", ["paid", "staff"])
def test_paid_plans_and_staff_are_unlimited(client, claim_codes, settings, who):
    settings.QUOTA_RESOURCES = {
        "claim_checks": {**settings.QUOTA_RESOURCES["claim_checks"], "free": 1}
    }
    user = make_user(plan=make_plan()) if who == "paid" else make_user(is_staff=True)
    client.force_login(user)
    for _ in range(3):
        assert client.post("/claim-check/", claim("64493")).status_code == 302
    assert ClaimCheck.objects.filter(user=user).count() == 3


def test_a_result_is_only_for_its_owner(client, coder, claim_codes):
    client.post("/claim-check/", claim("64493"))
    saved = ClaimCheck.objects.get()
    for path in (saved.get_absolute_url(), f"{saved.get_absolute_url()}claim-check.csv"):
        assert client.get(path).status_code == 200
    client.force_login(make_user())
    for path in (saved.get_absolute_url(), f"{saved.get_absolute_url()}claim-check.csv"):
        assert client.get(path).status_code == 404
    assert client.post(f"{saved.get_absolute_url()}delete/").status_code == 404
    client.logout()
    assert client.get(saved.get_absolute_url()).status_code == 404
    assert ClaimCheck.objects.filter(pk=saved.pk).exists()


def test_a_result_is_private_and_not_cached(client, coder, claim_codes):
    client.post("/claim-check/", claim("64493"))
    response = client.get(ClaimCheck.objects.get().get_absolute_url())
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_csv_holds_the_lines_the_total_and_every_finding(client, coder, real_edits):
    client.post("/claim-check/", claim("20610\n99213"))
    saved = ClaimCheck.objects.get()
    response = client.get(f"{saved.get_absolute_url()}claim-check.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Line", "Code", "Modifiers", "Units"]
    assert rows[1][:2] == ["1", "20610"] and rows[2][:2] == ["2", "99213"]
    findings = rows[rows.index([]) + 2 :]
    edit = next(row for row in findings if row[4].startswith("NCCI edit 20610 / 99213"))
    assert edit[0] == "Will deny" and edit[1] == "1 2"
    assert edit[6] == "NCCI PTP v30.1, effective 2024-04-01"


def test_history_lists_reopens_and_deletes_checks(client, coder, claim_codes):
    client.post("/claim-check/", claim("64493"))
    client.post("/claim-check/", claim("64494"))
    first, second = ClaimCheck.objects.order_by("pk")
    html = client.get("/claim-check/history/").content.decode()
    assert first.get_absolute_url() in html and second.get_absolute_url() in html
    response = client.post(f"{first.get_absolute_url()}delete/")
    assert response.status_code == 302 and response["Location"] == "/claim-check/history/"
    assert list(ClaimCheck.objects.all()) == [second]
    assert client.get(first.get_absolute_url()).status_code == 404


def test_the_code_page_ncci_section_links_to_a_claim_check_with_the_code(client, facet_family):
    client.force_login(make_user(is_staff=True))
    html = client.get("/cpt/64494/").content.decode()
    assert 'href="/claim-check/?code=64494"' in html
    form = client.get("/claim-check/?code=64494").content.decode()
    assert 'name="line-0-code" value="64494"' in form


def test_without_javascript_more_rows_come_from_the_server(client):
    rows = [{"code": "64493", "modifiers": "50"}]
    response = client.post("/claim-check/", claim(rows=rows, add_lines="1"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="line-TOTAL_FORMS" value="6"' in html
    assert 'name="line-0-code" value="64493"' in html and 'name="line-5-code"' in html


# --- Bad input: a clear message and a 400, never a 500 ------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (claim("\n".join(["64493"] * 51)), "A claim takes up to 50 lines; this one has 51"),
        (claim(rows=[{"code": "64493"}] * 51), "Please submit at most 50 forms"),
        (claim(rows=[{"code": "64493", "units": "0"}]), "greater than or equal to 1"),
        (claim(rows=[{"code": "64493", "units": "10000"}]), "less than or equal to 999"),
        (claim("64493 x10000"), "units must be 1 to 999; got 10,000"),
        (claim("64493 x0"), "units must be 1 to 999; got 0"),
        (claim(rows=[{"code": "64493", "modifiers": "5"}]), "“5” is not a modifier"),
        (claim("64493-5X9"), "“5X9” is not a modifier"),
        (claim("64493 25 59 XS XU 76"), "up to 4 modifiers; this one has 5"),
        (claim(rows=[{"code": "644\x0093"}]), "Null characters are not allowed"),
        (claim("64493\x00"), "Null characters are not allowed"),
        (claim("64493 x1\n" * 12_000), "at most 10000 characters"),  # 108 KB
        (claim("64493", dos="1999-12-31"), "is before 2000"),
        (claim("64493", dos="2099-01-01"), "more than a year ahead"),
        (claim("64493 1999-12-31"), "is before 2000"),
        (claim("64493", dos="2024-02-30"), "Enter a valid date"),
        (claim("hello world"), "“hello” is not a CPT or HCPCS code"),
        (claim("M54.50"), "claim lines take procedure codes, not diagnosis codes"),
        (claim(), "Enter at least one line"),
    ],
)
def test_bad_input_gets_a_clear_form_error(client, coder, body, message):
    response = client.post("/claim-check/", body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ClaimCheck.objects.exists() and not Meter.objects.exists()


def test_a_date_a_year_ahead_is_still_accepted(client, coder, claim_codes):
    ahead = (timezone.now().date() + datetime.timedelta(days=360)).isoformat()
    assert client.post("/claim-check/", claim("64493", dos=ahead)).status_code == 302


def test_an_unknown_code_is_a_finding_not_an_error(client, coder, claim_codes):
    response = client.post("/claim-check/", claim("99999\n64493"))
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "99999 is not in our CPT or HCPCS tables" in html


def test_pasted_lines_read_every_spelling_search_accepts(client, coder, claim_codes):
    # An en dash, lower case, a Cyrillic Ј in J1100, full-width digits: as search reads them.
    paste = "64493-50\n64494–50 x1\n99213-25\n77003 XS\nj1100 2024-06-04 fac\n# a note\n\n"
    paste += "Ј1100 59\n６４４９３ 59"
    assert client.post("/claim-check/", claim(paste)).status_code == 302
    lines = ClaimCheck.objects.get().result["lines"]
    assert [(x["code"], x["modifiers"], x["units"]) for x in lines] == [
        ("64493", ["50"], 1),
        ("64494", ["50"], 1),
        ("99213", ["25"], 1),
        ("77003", ["XS"], 1),
        ("J1100", [], 1),
        ("J1100", ["59"], 1),
        ("64493", ["59"], 1),
    ]
    assert lines[4]["dos"] == "2024-06-04" and lines[4]["facility"] is True


# --- Query counts ---------------------------------------------------------------------------------


def test_the_form_page_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert client.get("/claim-check/").status_code == 200


def _post_queries(client, paste: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.post("/claim-check/", claim(paste)).status_code == 302
    return len(captured)


def test_checking_a_claim_costs_the_same_queries_for_2_lines_as_for_20(client, coder, real_edits):
    two = "64493\n77003 XS"
    twenty = "\n".join(
        f"{code} 59" for code in [*sorted(real_edits), *map(str, range(10000, 10011))]
    )
    assert len(twenty.splitlines()) == 20
    assert _post_queries(client, two) == _post_queries(client, twenty)


def test_an_account_with_a_locality_has_its_claims_priced_there(client, coder, real_edits):
    coder.payment_locality = make_locality("13202", "01")
    coder.save()
    client.post("/claim-check/", claim("20610\n64493", dos="2025-02-03"))
    saved = ClaimCheck.objects.get()
    assert saved.result["locality"] == "13202-01"
    html = client.get(saved.get_absolute_url()).content.decode()
    # Manhattan 2025 (tests/claims/test_check_rules.py works them out): 64493 198.22 in full,
    # 20610 73.40 as the second procedure at 50%.
    assert 'href="/cpt/64493/?dos=2025-02-03&amp;locality=13202-01#payment">$198.22</a>' in html
    assert "$36.70" in html and "51 at 50%" in html and "$234.92" in html
    assert "Medicare participating amounts for NY — MANHATTAN (13202-01)" in html
    assert "GPCI 2025 (CY2025 Addendum E)" in html
    # The linked payment section prices in the same locality and shows the same amount.
    page = client.get("/cpt/64493/?dos=2025-02-03&locality=13202-01")
    assert "198.22" in page.content.decode()


def test_a_refused_line_says_why_in_the_result(client, coder, real_edits):
    client.post("/claim-check/", claim("99213-50", dos="2025-02-03"))
    html = client.get(ClaimCheck.objects.get().get_absolute_url()).content.decode()
    assert "Not priced: Modifier 50 is not priced for 99213: bilateral indicator 0" in html


def test_pricing_in_a_locality_costs_one_query_more_whatever_the_claim_size(
    client, coder, real_edits
):
    two = "64493\n77003 XS"
    twenty = "\n".join(
        f"{code} 59" for code in [*sorted(real_edits), *map(str, range(10000, 10011))]
    )
    national = _post_queries(client, two)
    coder.payment_locality = make_locality("13202", "01")
    coder.save()
    # The locality with its GPCIs, read once by `locality_find`.
    assert _post_queries(client, two) == _post_queries(client, twenty) == national + 1


def test_a_saved_check_can_be_edited_and_checked_again_by_its_owner_only(
    client, coder, claim_codes
):
    client.post("/claim-check/", claim("64493-50\n64494 x2 2024-06-04"))
    saved = ClaimCheck.objects.get()
    html = client.get(f"/claim-check/?again={saved.pk}").content.decode()
    assert 'name="line-0-code" value="64493"' in html
    assert 'name="line-0-modifiers" value="50"' in html
    assert 'name="line-1-units" value="2"' in html and 'value="2024-06-04"' in html
    client.force_login(make_user())
    html = client.get(f"/claim-check/?again={saved.pk}").content.decode()
    assert 'value="64493"' not in html
