"""The claim check's rules, worked by hand from the real CMS rows (tests/claims/conftest.py cuts
them from ../shared/data and loads them through the importers):

- NCCI PTP v30.1 (ptp-practitioner-2024q2-v301r0.tsv.gz):
  `64493 77003 · · * 1 CPT Manual or CMS manual coding instruction`
  `20610 99213 · · * 1 CPT Manual or CMS manual coding instruction`
- MUE practitioner 2024 Q2 (mue-practitioner-2024q2.csv):
  `64494,1,2 Date of Service Edit: Policy,CMS Policy`
- PFS 2025 (PPRRVU25_JAN1.csv): 64493 non-facility total 5.32, facility 2.73; 99213
  non-facility 2.75; bilateral indicator 1 for 64493, 0 for 99213; CF 32.3465.
  64493: work 1.52, PE 3.64 (facility 1.05), MP 0.16, multiple-procedure indicator 2.
  20610: work 0.79, PE 1.04 (facility 0.44), MP 0.13, multiple-procedure 2, bilateral 1.
- GPCI 2025 (Addendum E) for Manhattan, 13202-01: work 1.065, PE 1.166, MP 1.656.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.check import ClaimLine, claim_check
from codes.payment import locality_find
from tests.factories import make_locality

pytestmark = pytest.mark.django_db

DOS = datetime.date(2024, 6, 3)  # within NCCI v30.1 and MUE 2024 Q2


def lines_of(*specs: tuple, dos: datetime.date = DOS, facility: bool = False) -> list[ClaimLine]:
    """(code, modifiers, units) → numbered claim lines on one date."""
    return [
        ClaimLine(
            number=n, key=code, modifiers=tuple(mods), units=units, dos=dos, facility=facility
        )
        for n, (code, mods, units) in enumerate(specs, start=1)
    ]


def ptp(result, col1: str, col2: str):
    found = [f for f in result.findings if f.kind == "ptp" and f.codes == [col1, col2]]
    assert len(found) == 1, [f.title for f in result.findings]
    return found[0]


def test_64493_with_77003_is_an_indicator_1_edit_that_denies_77003_without_a_modifier(real_edits):
    result = claim_check(lines=lines_of(("64493", [], 1), ("77003", [], 1)))
    edit = ptp(result, "64493", "77003")
    assert edit.severity == "deny"
    assert edit.lines == [1, 2]
    assert "64493 (line 1) is column 1 and is paid" in edit.detail
    assert "77003 (line 2) is column 2" in edit.detail
    assert "modifier indicator 1" in edit.title
    assert "CPT Manual or CMS manual coding instruction" in edit.detail
    assert edit.edition == "NCCI PTP v30.1, effective 2024-04-01"
    assert edit.url == "/cpt/77003/?dos=2024-06-03#ncci"


@pytest.mark.parametrize("modifier", ["XS", "59"])
def test_xs_or_59_on_77003_bypasses_the_64493_edit(real_edits, modifier):
    result = claim_check(lines=lines_of(("64493", [], 1), ("77003", [modifier], 1)))
    edit = ptp(result, "64493", "77003")
    assert edit.severity == "info"
    assert f"bypassed by {modifier} on line 2" in edit.title


def test_the_edit_is_found_whichever_order_the_lines_come_in(real_edits):
    result = claim_check(lines=lines_of(("77003", [], 1), ("64493", [], 1)))
    edit = ptp(result, "64493", "77003")
    assert edit.lines == [2, 1]
    assert "64493 (line 2) is column 1" in edit.detail


def test_lines_on_different_dates_are_not_paired(real_edits):
    lines = [
        ClaimLine(1, "64493", (), 1, DOS, False),
        ClaimLine(2, "77003", (), 1, DOS + datetime.timedelta(days=1), False),
    ]
    assert not [f for f in claim_check(lines=lines).findings if f.kind == "ptp"]


def test_an_edit_not_yet_in_force_on_the_date_of_service_is_not_reported(real_edits):
    # The slice's edits take effect with the edition, 2024-04-01.
    result = claim_check(
        lines=lines_of(("64493", [], 1), ("77003", [], 1), dos=datetime.date(2024, 3, 29))
    )
    assert not [f for f in result.findings if f.kind == "ptp"]


def test_20610_with_99213_denies_the_visit_unless_it_carries_25(real_edits):
    plain = claim_check(lines=lines_of(("20610", [], 1), ("99213", [], 1)))
    edit = ptp(plain, "20610", "99213")
    assert edit.severity == "deny"
    assert "99213 (line 2) is column 2" in edit.detail
    with_25 = claim_check(lines=lines_of(("20610", [], 1), ("99213", ["25"], 1)))
    edit = ptp(with_25, "20610", "99213")
    assert edit.severity == "info"
    assert "bypassed by 25 on line 2" in edit.title


def test_64494_alone_is_an_add_on_without_its_primary(real_edits):
    result = claim_check(lines=lines_of(("64494", [], 1)))
    addon = [f for f in result.findings if f.kind == "addon"]
    assert len(addon) == 1
    assert addon[0].severity == "deny"
    assert "64493" in addon[0].detail
    assert addon[0].url == "/cpt/64494/?dos=2024-06-03#ncci"


def test_64494_with_its_primary_on_the_same_date_is_fine(real_edits):
    result = claim_check(lines=lines_of(("64493", [], 1), ("64494", [], 1)))
    assert not [f for f in result.findings if f.kind == "addon"]


def test_64494_with_2_units_is_over_its_mue_of_1_a_policy_edit(real_edits):
    result = claim_check(lines=lines_of(("64493", [], 1), ("64494", [], 2)))
    mue = [f for f in result.findings if f.kind == "mue"]
    assert len(mue) == 1
    assert mue[0].severity == "deny"
    assert "2 units" in mue[0].title and "MUE of 1" in mue[0].title
    assert "2 — Date of Service Edit: Policy" in mue[0].detail
    assert "appeals rarely overturn" in mue[0].detail
    assert "CMS Policy" in mue[0].detail
    assert mue[0].edition == "MUE 2024 Q2, effective 2024-04-01"


def test_a_date_of_service_mue_adds_up_the_units_of_every_line_of_the_code(real_edits):
    # 20610: MUE 2, indicator 3 (clinical). One unit on each of three lines is 3 for the day.
    result = claim_check(lines=lines_of(("20610", [], 1), ("20610", ["RT"], 1), ("20610", [], 1)))
    mue = [f for f in result.findings if f.kind == "mue"]
    assert len(mue) == 1
    assert mue[0].lines == [1, 2, 3]
    assert "3 units" in mue[0].title
    assert "documentation of medical necessity can support more" in mue[0].detail


def test_modifier_50_on_a_code_with_bilateral_indicator_0_needs_checking(real_edits):
    result = claim_check(lines=lines_of(("99213", ["50"], 1), ("64493", ["50"], 1)))
    bilateral = [f for f in result.findings if f.kind == "bilateral"]
    assert [f.codes for f in bilateral] == [["99213"]]  # 64493 has indicator 1
    assert bilateral[0].severity == "check"
    assert bilateral[0].edition == "PFS 2025-JAN"


def test_unknown_and_not_yet_effective_codes_are_findings(real_edits):
    code = real_edits["64495"]
    code.effective_date = datetime.date(2024, 7, 1)
    code.save()
    result = claim_check(lines=lines_of(("64495", [], 1), ("99999", [], 1)))
    titles = [f.title for f in result.findings if f.kind == "code"]
    assert "64495 was not yet in effect on Jun 3, 2024" in titles
    assert "99999 is not in our CPT or HCPCS tables" in titles


def test_a_code_deleted_before_the_date_of_service_will_deny(real_edits):
    code = real_edits["64490"]
    code.status = "deleted"
    code.end_date = datetime.date(2024, 5, 31)
    code.save()
    result = claim_check(lines=lines_of(("64490", [], 1)))
    assert "64490 was deleted on May 31, 2024" in [f.title for f in result.findings]


def test_each_line_and_the_claim_are_priced_from_the_fee_schedule_in_force(real_edits):
    dos = datetime.date(2025, 2, 3)
    result = claim_check(lines=lines_of(("64493", [], 1), ("99213", ["25"], 2), dos=dos))
    # 64493: 5.32 × 32.3465 = 172.08; 99213: 2.75 × 32.3465 = 88.95, two units 177.90.
    assert [line.payment for line in result.lines] == ["172.08", "177.90"]
    assert result.total_payment == "349.98"
    assert "PFS 2025-JAN (conversion factor $32.3465)" in result.editions
    assert result.payment_basis == "National Medicare participating amounts (no locality chosen)"
    facility = claim_check(lines=lines_of(("64493", [], 1), dos=dos, facility=True))
    assert facility.lines[0].payment == "88.31"  # 2.73 × 32.3465


def test_the_26_modifier_prices_the_professional_component_line(real_edits):
    dos = datetime.date(2025, 2, 3)
    result = claim_check(lines=lines_of(("77003", ["26"], 1), dos=dos))
    # 77003-26 non-facility total 0.84 × 32.3465 = 27.17
    assert result.lines[0].payment == "27.17"
    assert "26 component" in result.lines[0].payment_note


def test_findings_come_worst_first_and_mark_their_lines(real_edits):
    result = claim_check(lines=lines_of(("64493", [], 1), ("77003", ["XS"], 1), ("64494", [], 2)))
    severities = [f.severity for f in result.findings]
    assert severities == sorted(severities, key=["deny", "check", "info"].index)
    assert result.lines[2].worst == "deny"


# --- Payment by locality, worked by hand from the rows in the module docstring ----------------

DOS_2025 = datetime.date(2025, 2, 3)


@pytest.fixture
def manhattan():
    make_locality("13202", "01")
    return locality_find(key="13202-01")  # with its GPCIs, as the view reads it


def test_64493_and_20610_in_manhattan_pay_the_second_procedure_at_half(real_edits, manhattan):
    # 20610 comes first on the claim, but 64493 pays more: it is ranked first.
    result = claim_check(
        lines=lines_of(("20610", [], 1), ("64493", [], 1), dos=DOS_2025), locality=manhattan
    )
    joint, facet = result.lines
    # 64493: (1.52 × 1.065 + 3.64 × 1.166 + 0.16 × 1.656) × 32.3465 = 6.128 × 32.3465
    # = 198.2194 → 198.22, in full.
    assert facet.payment == "198.22" and facet.adjustments == []
    # 20610: (0.79 × 1.065 + 1.04 × 1.166 + 0.13 × 1.656) × 32.3465 = 2.26927 × 32.3465
    # = 73.4029 → 73.40; procedure 2 of 2 at 50% → 36.70.
    assert joint.payment == "36.70" and joint.adjustments == ["51 at 50%"]
    assert "procedure 2 of 2 by fee" in joint.payment_note
    assert result.total_payment == "234.92"  # 198.22 + 36.70
    # Non-participating 198.22 × 0.95 = 188.309 → 188.31; limiting 188.309 × 1.15 → 216.56.
    assert "non-participating $188.31, limiting charge $216.56" in facet.payment_note
    assert facet.payment_note.startswith("NY — MANHATTAN (13202-01) non-facility: 1 × $198.22")
    assert result.payment_basis == "Medicare participating amounts for NY — MANHATTAN (13202-01)"
    assert result.locality == "13202-01"
    assert "GPCI 2025 (CY2025 Addendum E)" in result.editions
    assert "PFS 2025-JAN (conversion factor $32.3465)" in result.editions
    assert facet.payment_url == "/cpt/64493/?dos=2025-02-03&locality=13202-01#payment"


def test_the_multiple_procedure_ranking_is_per_date_of_service(real_edits, manhattan):
    lines = [
        ClaimLine(1, "64493", (), 1, DOS_2025, False),
        ClaimLine(2, "20610", (), 1, DOS_2025 + datetime.timedelta(days=1), False),
    ]
    result = claim_check(lines=lines, locality=manhattan)
    # Alone on its day, each is paid in full: 198.22 and 73.40.
    assert [line.payment for line in result.lines] == ["198.22", "73.40"]
    assert result.total_payment == "271.62"


def test_50_on_a_bilateral_indicator_1_code_pays_150_percent_then_ranks(real_edits, manhattan):
    alone = claim_check(lines=lines_of(("20610", ["50"], 1), dos=DOS_2025), locality=manhattan)
    assert alone.lines[0].payment == "110.10"  # 73.40 × 1.5
    assert alone.lines[0].adjustments == ["50 at 150%"]
    assert not [f for f in alone.findings if f.kind == "bilateral"]
    # Beside 64493 (198.22) the bilateral 20610 (110.10) is second: 73.40 × 1.5 × 0.5 = 55.05.
    both = claim_check(
        lines=lines_of(("64493", [], 1), ("20610", ["50"], 1), dos=DOS_2025), locality=manhattan
    )
    assert [line.payment for line in both.lines] == ["198.22", "55.05"]
    assert both.lines[1].adjustments == ["50 at 150%", "51 at 50%"]


def test_a_refused_modifier_gives_no_amount_and_is_left_out_of_the_total(real_edits, manhattan):
    result = claim_check(
        lines=lines_of(("64493", [], 1), ("99213", ["50"], 1), dos=DOS_2025), locality=manhattan
    )
    visit = result.lines[1]
    assert visit.payment == "" and visit.payment_refused
    assert visit.payment_note.startswith(
        "Modifier 50 is not priced for 99213: bilateral indicator 0"
    )
    assert result.total_payment == "198.22"
    assert result.payment_basis.endswith("lines without an amount are left out of the total")
    assert [f.codes for f in result.findings if f.kind == "bilateral"] == [["99213"]]


def test_each_line_is_priced_in_its_own_setting(real_edits, manhattan):
    lines = [
        ClaimLine(1, "64493", (), 1, DOS_2025, True),
        ClaimLine(2, "20610", (), 1, DOS_2025, False),
    ]
    result = claim_check(lines=lines, locality=manhattan)
    # 64493 in a facility: (1.52 × 1.065 + 1.05 × 1.166 + 0.16 × 1.656) × 32.3465 = 3.10806 ×
    # 32.3465 = 100.5349 → 100.53, ranked first over 20610's office 73.40 (→ 36.70).
    assert [line.payment for line in result.lines] == ["100.53", "36.70"]
    assert "(13202-01) facility: 1 × $100.53" in result.lines[0].payment_note


def test_no_payment_note_says_an_adjustment_was_left_out(real_edits):
    result = claim_check(lines=lines_of(("64493", ["50"], 1), ("64494", ["50"], 1), dos=DOS_2025))
    # 64493-50: 172.08 × 1.5 = 258.12; 64494-50 (add-on, ZZZ, bilateral 1): 2.72 × 32.3465 =
    # 87.98 × 1.5 = 131.97, not ranked (multiple-procedure indicator 0).
    assert [line.payment for line in result.lines] == ["258.12", "131.97"]
    assert not any("not applied" in line.payment_note for line in result.lines)


def _queries(lines: list[ClaimLine], locality=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        claim_check(lines=lines, locality=locality)
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_number_of_pairs(real_edits, manhattan):
    two = lines_of(("64493", ["50"], 1), ("77003", ["XS"], 1))
    codes = sorted(real_edits) + [str(10000 + n) for n in range(11)]
    twenty = lines_of(*[(code, ["59"], 1) for code in codes])
    assert len(twenty) == 20  # 190 pairs
    assert _queries(two) == _queries(twenty) == 4
    # Pricing in a locality adds none: its GPCIs came with it.
    assert _queries(two, manhattan) == _queries(twenty, manhattan) == 4
