"""The seven knowledge sections of a code page, through real URLs."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from codes.models import (
    Code,
    CodeHistory,
    CodeModifier,
    CoverageReference,
    CrosswalkLink,
    Guideline,
    Modifier,
    MueValue,
    NcciEdit,
    RelatedCode,
)
from codes.pages import SECTION_TITLES
from tests.codes.test_sections_rules import line
from tests.factories import make_code, make_system, make_user

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_YEAR = TODAY.replace(year=TODAY.year - 1, month=6, day=30)

# Text that only the unlocked sections carry, one per section.
SECTION_TEXT = {
    "guidelines": "Count each facet joint once",
    "group_guidelines": "Image guidance is part of every code in this range",
    "modifiers": "Append 50 when both sides at one level are injected",
    "crosswalk": "Axial low back pain with facet findings on imaging",
    "ncci": "Misuse of column two code with column one code",
    "payment": "$91.50",
    "coverage": "Facet Joint Interventions for Pain Management",
    "history": "Second lumbar level split out as its own add-on",
    "see_also": "Radiofrequency ablation of the same joints",
}

MODIFIERS = {
    "26": "Professional component",
    "TC": "Technical component",
    "50": "Bilateral procedure",
    "RT": "Right side",
    "LT": "Left side",
    "59": "Distinct procedural service",
    "XE": "Separate encounter",
    "XS": "Separate structure",
    "XP": "Separate practitioner",
    "XU": "Unusual non-overlapping service",
    "80": "Assistant surgeon",
    "81": "Minimum assistant surgeon",
    "82": "Assistant surgeon, no resident",
    "AS": "Assistant at surgery service",
}


@pytest.fixture
def modifiers() -> dict[str, Modifier]:
    return {
        code: Modifier.objects.create(code=code, short_descriptor=short)
        for code, short in MODIFIERS.items()
    }


@pytest.fixture
def knowledge(facet_family, modifiers) -> Code:
    """64494 with every section filled."""
    code = facet_family["64494"]
    Guideline.objects.create(code=code, title="Levels", body=SECTION_TEXT["guidelines"] + ".")
    Guideline.objects.create(
        group=code.group.parent, title="Imaging", body=SECTION_TEXT["group_guidelines"] + "."
    )
    CodeModifier.objects.create(
        code=code, modifier=modifiers["50"], note=SECTION_TEXT["modifiers"] + "."
    )
    icd = make_system("icd10cm")
    diagnosis = make_code("M47.816", system=icd, short="Spondylosis w/o myel, lumbar")
    CrosswalkLink.objects.create(
        code=code,
        diagnosis=diagnosis,
        group_label="Spondylosis",
        note=SECTION_TEXT["crosswalk"] + ".",
    )
    NcciEdit.objects.create(
        column1="64494",
        column2="77003",
        modifier_indicator="0",
        effective_date=datetime.date(2010, 1, 1),
        rationale=SECTION_TEXT["ncci"],
    )
    MueValue.objects.create(
        code="64494",
        value=1,
        adjudication=MueValue.Adjudication.POLICY,
        rationale="Code Descriptor / CPT Instruction",
    )
    line().save()  # 64494's row of the January 2023 PFS file
    CoverageReference.objects.create(
        code=code,
        kind="LCD",
        number="L38773",
        title=SECTION_TEXT["coverage"],
        contractor="Noridian",
        effective_date=datetime.date(2021, 4, 25),
    )
    CodeHistory.objects.create(
        code=code, year=2010, action="added", source="editor", note=SECTION_TEXT["history"] + "."
    )
    RelatedCode.objects.create(
        code=code, related=make_code("64635", system=code.system), note=SECTION_TEXT["see_also"]
    )
    return code


@pytest.fixture
def bypassable_edit(knowledge) -> NcciEdit:
    """64494 as column 2 of 64493, in an edit a modifier can bypass."""
    return NcciEdit.objects.create(
        column1="64493",
        column2="64494",
        modifier_indicator="1",
        effective_date=datetime.date(2012, 1, 1),
    )


def section(html: str, anchor: str) -> str:
    """The HTML of one section card, found by its id."""
    match = re.search(
        rf'<section class="card knowledge-section" id="{anchor}".*?</section>', html, re.S
    )
    assert match, f"no section #{anchor}"
    return match.group(0)


def test_an_account_sees_all_seven_sections_filled(member, knowledge):
    html = member.get("/cpt/64494/").content.decode()
    for title in SECTION_TITLES:
        assert f">{title}</h2>" in html
    for text in SECTION_TEXT.values():
        assert text in html
    assert "Register to view content" not in html
    assert 'class="empty"' not in html


def test_a_guest_sees_locked_cards_without_any_section_text(client, knowledge):
    response = client.get("/cpt/64494/")
    html = response.content.decode()
    assert "Official descriptor of 64494" in html  # the guest's one view is spent here
    assert html.count("Register to view content") == len(SECTION_TITLES)
    for text in SECTION_TEXT.values():
        assert text not in html
    assert "<svg" not in html and "M47.816" not in html and "77003" not in html


def test_an_account_without_views_left_gets_no_section_text(member, knowledge, settings):
    settings.QUOTA_FREE_VIEWS = 0
    html = member.get("/cpt/64494/").content.decode()
    assert "Official descriptor of 64494" not in html
    for text in SECTION_TEXT.values():
        assert text not in html


@pytest.mark.parametrize(
    ("visit", "queries"), [("first view, which spends one", 16), ("a re-read", 5)]
)
def test_the_full_page_stays_within_its_queries(
    member, knowledge, visit, queries, django_assert_max_num_queries
):
    if visit == "a re-read":
        member.get("/cpt/64494/")
    with django_assert_max_num_queries(queries):
        response = member.get("/cpt/64494/")
    assert SECTION_TEXT["payment"] in response.content.decode()


def test_each_empty_section_says_so_in_one_line(member, cpt):
    make_code("99499", system=cpt)
    html = member.get("/cpt/99499/").content.decode()
    expected = {
        "guidelines": "No coding guidelines have been written",
        "modifiers": "No modifiers are linked to this code",
        "crosswalk": "No ICD-10-CM crosswalk has been written",
        "ncci": "No NCCI edits or MUE for this code are on file",
        "payment": "no line in the Medicare Physician Fee Schedule",
        "coverage": "No national or local coverage determination",
        "history": "No history or related codes are recorded",
    }
    for anchor, text in expected.items():
        card = section(html, anchor)
        assert text in card
        assert card.count("<p") == 1, f"#{anchor} should be one line"
    assert "/admin/" not in html


def test_staff_get_a_link_to_admin_in_each_empty_section(client, cpt):
    code = make_code("99499", system=cpt)
    client.force_login(make_user(is_staff=True))
    html = client.get("/cpt/99499/").content.decode()
    assert html.count(f"/admin/codes/code/{code.pk}/change/") >= 5
    assert "/admin/codes/ncciedit/add/" in section(html, "ncci")
    assert "/admin/codes/rvuline/add/" in section(html, "payment")


def test_guidelines_of_a_group_apply_to_the_codes_below_it(member, knowledge):
    card = section(member.get("/cpt/64493/").content.decode(), "guidelines")
    assert SECTION_TEXT["group_guidelines"] in card
    assert SECTION_TEXT["guidelines"] not in card  # written for 64494 alone
    assert "For every code in" in card and "Nervous System" in card


def test_guidelines_state_the_fee_schedule_facts_in_plain_words(member, knowledge):
    card = section(member.get("/cpt/64494/").content.decode(), "guidelines")
    assert "64494 is an add-on code" in card
    assert "no global period of its own (ZZZ)" in card
    assert "report it once with modifier 50" in card


def test_modifiers_link_to_their_pages_with_the_reason_they_apply(member, knowledge):
    card = section(member.get("/cpt/64494/").content.decode(), "modifiers")
    for code in ("50", "RT", "LT", "80", "81", "82", "AS"):
        assert f'href="/modifiers/{code}/"' in card
    assert "Bilateral indicator 1" in card and "Assistant-at-surgery indicator 2" in card
    assert SECTION_TEXT["modifiers"] in card
    for code in ("26", "TC", "59", "XE"):  # PC/TC 0 and an NCCI edit that cannot be bypassed
        assert f'href="/modifiers/{code}/"' not in card


def test_an_ncci_edit_that_can_be_bypassed_brings_59_and_the_x_modifiers(
    member, knowledge, bypassable_edit
):
    card = section(member.get("/cpt/64494/").content.decode(), "modifiers")
    for code in ("59", "XE", "XS", "XP", "XU"):
        assert f'href="/modifiers/{code}/"' in card
    assert "NCCI modifier indicator 1" in card and "64493" in card


def test_ncci_lists_the_code_in_either_column_with_the_indicator_explained(
    member, knowledge, bypassable_edit
):
    card = section(member.get("/cpt/64494/").content.decode(), "ncci")
    assert "64494 as column 1" in card and "64494 as column 2" in card
    assert 'href="/cpt/64493/"' in card  # the other code's page, when we have it
    assert "Never bypassed" in card and "Can be bypassed" in card
    assert "Jan 1, 2010" in card
    assert "Date-of-service edit set by policy" in card  # the MUE adjudication, explained
    assert "Primary codes" in card and 'href="/cpt/64493/"' in card


def test_an_edit_deleted_last_year_shows_only_for_dates_of_service_before_then(member, knowledge):
    NcciEdit.objects.create(
        column1="64494",
        column2="64999",
        modifier_indicator="1",
        effective_date=datetime.date(2015, 1, 1),
        deletion_date=LAST_YEAR,
    )
    today = section(member.get("/cpt/64494/").content.decode(), "ncci")
    assert "64999" not in today
    earlier = LAST_YEAR - datetime.timedelta(days=30)
    before = member.get(f"/cpt/64494/?dos={earlier:%Y-%m-%d}").content.decode()
    assert "64999" in section(before, "ncci")
    assert f"{earlier:%B} {earlier.day}, {earlier.year}" in before


def test_an_edit_not_yet_in_force_is_hidden_for_earlier_dates(member, knowledge):
    html = member.get("/cpt/64494/?dos=2009-12-31").content.decode()
    assert "77003" not in section(html, "ncci")


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30",
        "yesterday",
        "20240101",
        "2024-1-5",
        "2024-01-01\x00",
        "9" * 5000,
        "２０２４-01-01",
    ],
)
def test_an_invalid_date_of_service_shows_a_message_and_today(member, knowledge, raw):
    response = member.get("/cpt/64494/", {"dos": raw})
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not a date of service" in html
    assert "(today)" in html
    assert "9" * 100 not in html  # a huge value is not echoed back whole


def test_payment_is_total_rvus_times_the_conversion_factor(member, knowledge):
    # 64494, PFS January 2023: 2.70 × 33.8872 = 91.49544 → $91.50; 1.51 × 33.8872 → $51.17.
    card = section(member.get("/cpt/64494/").content.decode(), "payment")
    assert "$91.50" in card and "$51.17" in card
    assert "2.70 × 33.8872" in card
    assert "2023-JAN" in card
    assert "Bilateral adjustment" in card  # the indicators, explained


def test_the_payment_chart_is_valid_svg_with_a_text_alternative(member, knowledge):
    html = member.get("/cpt/64494/").content.decode()
    svg = ElementTree.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    assert svg.get("role") == "img"
    ids = svg.get("aria-labelledby").split()
    namespace = "{http://www.w3.org/2000/svg}"
    labelled = {node.get("id"): node.text for node in svg.iter() if node.get("id") in ids}
    assert set(labelled) == set(ids)
    assert "64494" in labelled[ids[0]]
    assert "$91.50" in labelled[ids[1]] and "$51.17" in labelled[ids[1]]
    assert len(list(svg.iter(f"{namespace}rect"))) >= 6  # three parts in each of two bars


def test_sections_carry_no_inline_styles(member, knowledge):
    html = member.get("/cpt/64494/").content.decode()
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts either


def test_a_code_without_a_fee_schedule_line_in_force_uses_the_oldest_with_a_note(member, knowledge):
    card = section(member.get("/cpt/64494/?dos=2021-06-01").content.decode(), "payment")
    assert "the oldest release on file" in card
    assert "$91.50" in card


def test_crosswalk_groups_diagnoses_and_links_each_to_its_page(member, knowledge):
    card = section(member.get("/cpt/64494/").content.decode(), "crosswalk")
    assert "<h3>Spondylosis</h3>" in card
    assert 'href="/icd-10-cm/M47.816/"' in card


def test_a_diagnosis_page_lists_the_procedures_it_supports(member, knowledge):
    html = member.get("/icd-10-cm/M47.816/").content.decode()
    assert 'href="/cpt/64494/"' in section(html, "crosswalk")
    assert "apply to procedure codes" in section(html, "ncci")
    assert "carry no relative values" in section(html, "payment")


def test_coverage_shows_documents_in_force_on_the_date_of_service(member, knowledge):
    CoverageReference.objects.create(
        code=knowledge,
        kind="NCD",
        number="150.9",
        title="Retired national policy",
        effective_date=datetime.date(2005, 1, 1),
        end_date=datetime.date(2019, 12, 31),
    )
    today = section(member.get("/cpt/64494/").content.decode(), "coverage")
    assert "L38773" in today and "Noridian" in today and "Apr 25, 2021" in today
    assert "Retired national policy" not in today
    past = section(member.get("/cpt/64494/?dos=2019-06-01").content.decode(), "coverage")
    assert "Retired national policy" in past and "L38773" not in past


def test_history_is_grouped_by_year_with_see_also_and_the_family(member, knowledge):
    CodeHistory.objects.create(
        code=knowledge, year=2021, action="revised", source="editor", note="Descriptor reworded."
    )
    card = section(member.get("/cpt/64494/").content.decode(), "history")
    assert card.index("2021") < card.index("2010")  # newest year first
    assert "Revised" in card and "Added" in card
    assert 'href="/cpt/64635/"' in card and SECTION_TEXT["see_also"] in card
    assert "Paravertebral facet joint injections" in card and 'href="#family"' in card


def test_a_code_the_contractor_prices_shows_no_zero_payment(member, cpt):
    make_code("0213T", system=cpt)
    line(
        code="0213T",
        status_code="C",
        work_rvu=Decimal("0.00"),
        nonfacility_pe_rvu=None,
        facility_pe_rvu=None,
        mp_rvu=Decimal("0.00"),
        nonfacility_total=None,
        facility_total=None,
        global_days="XXX",
    ).save()
    card = section(member.get("/cpt/0213T/").content.decode(), "payment")
    assert "No national payment: status C" in card and "Carrier priced" in card
    assert "$0.00" not in card and "<svg" not in card


def test_an_indicator_outside_the_published_values_shows_as_itself(member, knowledge):
    NcciEdit.objects.create(
        column1="64494",
        column2="64999",
        modifier_indicator="7",
        effective_date=datetime.date(2015, 1, 1),
    )
    MueValue.objects.filter(code="64494").update(service="lab")
    response = member.get("/cpt/64494/")
    assert response.status_code == 200
    card = section(response.content.decode(), "ncci")
    assert "<td>7</td>" in card and ">lab</th>" in card
