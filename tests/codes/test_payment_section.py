"""The RVU and payment section through real URLs: payment by locality, the locality picker,
the remembered locality, and bad `?locality=` values."""

from __future__ import annotations

import pytest

from accounts.models import User
from codes.views import LOCALITY_SESSION_KEY
from tests.codes.test_sections import section
from tests.factories import make_code, make_locality, make_rvu_line

pytestmark = pytest.mark.django_db

ON_2025 = {"dos": "2025-06-15"}


@pytest.fixture
def office_visit(cpt):
    code = make_code("99214", system=cpt)
    make_rvu_line("99214")
    return code


@pytest.fixture
def manhattan():
    return make_locality("13202", "01")


@pytest.fixture
def alaska():
    return make_locality("02102", "01")


def payment_card(client, path: str = "/cpt/99214/", **params) -> str:
    response = client.get(path, {**ON_2025, **params})
    assert response.status_code == 200
    return section(response.content.decode(), "payment")


def test_the_section_is_national_by_default(member, office_visit, manhattan):
    card = payment_card(member)

    assert "Medicare payment — national" in card
    assert "$125.18" in card and "$93.80" in card  # 3.87 and 2.90 × 32.3465
    assert "MANHATTAN" not in card


def test_a_locality_shows_the_hand_worked_amounts_and_names_its_editions(
    member, office_visit, manhattan
):
    card = payment_card(member, locality="13202-01")

    assert "Medicare payment in NY — MANHATTAN" in card
    assert "$142.07" in card and "$105.48" in card  # participating, non-facility and facility
    assert "$134.97" in card and "$155.21" in card  # non-participating, limiting charge
    assert "$125.18" in card  # national, beside it
    assert "PFS 2025-JAN release" in card and "CY2025 Addendum E (2025)" in card
    assert "(1.92 × 1.065 + 1.80 × 1.166 + 0.15 × 1.656) × 32.3465" in card


def test_a_later_date_of_service_uses_that_years_gpcis_and_says_the_pfs_is_older(
    member, office_visit, manhattan
):
    card = payment_card(member, locality="13202-01", dos="2026-03-01")

    assert "CY2026 Addendum E (2026)" in card
    assert "$141.43" in card  # 2026 Manhattan GPCIs with the 2025 RVUs
    assert "no 2026 release is on file, so the latest one before the date of service" in card


def test_a_gpci_footnote_is_shown_with_its_locality(member, office_visit, alaska):
    card = payment_card(member, locality="02102-01")

    assert "Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA." in card
    assert "$158.97" in card  # (1.92 × 1.5 + 1.80 × 1.081 + 0.15 × 0.592) × 32.3465


@pytest.mark.parametrize(
    "raw",
    ["garbage", "99999-99", "13202-1", "13202_01", "1" * 5000, "13202-0\x00", "１３２０２-01"],
)
def test_an_unknown_or_malformed_locality_is_ignored_with_a_message(
    member, office_visit, manhattan, raw
):
    card = payment_card(member, locality=raw)

    assert "is not a Medicare locality on file" in card
    assert "Medicare payment — national" in card
    assert "1" * 100 not in card


def test_the_picker_finds_localities_by_state_county_or_name(
    member, office_visit, manhattan, alaska
):
    for query in ("NY", "new york", "manhattan"):
        card = payment_card(member, locality_q=query)
        assert '<option value="13202-01"' in card, query
        assert '<option value="02102-01"' not in card, query
    assert '<option value="02102-01"' in payment_card(member, locality_q="alaska")


@pytest.mark.parametrize("raw", ["\x00", "new\x00york", "x" * 10_000, "%", "_"])
def test_an_odd_search_is_answered_never_a_500(member, office_visit, manhattan, raw):
    card = payment_card(member, locality_q=raw)

    assert "x" * 101 not in card


def test_the_picker_says_when_nothing_matches(member, office_visit, manhattan):
    card = payment_card(member, locality_q="Atlantis")

    assert "No Medicare locality matches “Atlantis”" in card
    assert "<option" not in card


def test_an_account_remembers_the_locality_it_picks(member, office_visit, manhattan):
    response = member.post(
        "/payment/locality/", {"locality": "13202-01", "next": "/cpt/99214/?dos=2025-06-15"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/cpt/99214/?dos=2025-06-15#payment"
    assert User.objects.get().payment_locality == manhattan
    assert "$142.07" in payment_card(member)


def test_going_back_to_national_forgets_the_locality(member, office_visit, manhattan):
    member.post("/payment/locality/", {"locality": "13202-01", "next": "/cpt/99214/"})
    member.post("/payment/locality/", {"locality": "national", "next": "/cpt/99214/"})

    assert User.objects.get().payment_locality is None
    assert "Medicare payment — national" in payment_card(member)


def test_a_guest_keeps_the_locality_in_the_session(client, manhattan):
    response = client.post("/payment/locality/", {"locality": "13202-01", "next": "/"})

    assert response.status_code == 302
    assert client.session[LOCALITY_SESSION_KEY] == "13202-01"


def test_picking_an_unknown_locality_is_a_400(member, manhattan):
    response = member.post("/payment/locality/", {"locality": "99999-99", "next": "/"})

    assert response.status_code == 400
    assert User.objects.get().payment_locality is None


def test_picking_a_locality_never_redirects_off_site(member, manhattan):
    response = member.post(
        "/payment/locality/", {"locality": "13202-01", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/#payment"


def test_the_picker_url_takes_only_posts(member):
    assert member.get("/payment/locality/").status_code == 405


def test_the_modifier_table_prices_what_the_indicators_allow(member, cpt):
    make_code("20610", system=cpt)
    make_rvu_line("20610")

    card = payment_card(member, "/cpt/20610/")

    assert "20610-50" in card and "$95.10" in card  # 63.40 × 1.5
    assert "$31.70" in card  # 51: 63.40 × 0.5
    assert "Modifier 62 is not priced for 20610: co-surgery indicator 0" in card
    assert "Modifier 80 is not priced for 20610: assistant-at-surgery indicator 1" in card


def test_a_saved_locality_costs_one_query_more(
    member, office_visit, manhattan, django_assert_max_num_queries
):
    member.get("/cpt/99214/")  # the view is spent once
    User.objects.update(payment_locality=manhattan)

    with django_assert_max_num_queries(15):
        html = member.get("/cpt/99214/").content.decode()

    assert "Medicare payment in NY — MANHATTAN" in html


def test_component_lines_are_priced_in_the_locality_too(member, cpt, manhattan):
    make_code("72148", system=cpt)
    for modifier in ("", "26", "TC"):
        make_rvu_line("72148", modifier)

    card = payment_card(member, "/cpt/72148/", locality="13202-01")

    # 72148-26: (1.48 × 1.065 + 0.54 × 1.166 + 0.07 × 1.656) × 32.3465 = 75.0995
    assert "$75.10" in card
    assert "72148-26 $67.60 non-facility" in card  # national, 2.09 × 32.3465
