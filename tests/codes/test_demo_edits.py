"""The demo's NCCI edits, MUE values and fee schedule lines are rows cut from the published
CMS files by `cut_demo_slice`, and each names its edition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.importers import real_data_dir
from codes.demo import FIXTURES, load_demo
from codes.knowledge import NCCI_PAIRS_SHOWN
from codes.management.commands.cut_demo_slice import PARTS, demo_codes
from codes.models import Code, EditEdition, MueValue, NcciEdit
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db) -> None:
    load_demo()


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_the_64494_page_shows_the_published_edit_with_77003_and_its_edition(client, demo):
    client.force_login(make_user())
    html = client.get("/cpt/64494/").content.decode()

    row = html[html.index('class="code-list__code">77003<') :]
    row = row[: row.index("</tr>")]
    assert "1 — modifier allowed" in row
    assert "CPT Manual or CMS manual coding instruction" in row
    assert "NCCI PTP v30.1, effective 2024-04-01" in row
    assert "HCPCS/CPT procedure code definition" not in html  # the rationale made up before


def test_the_64494_page_shows_the_published_mue_with_its_edition(client, demo):
    client.force_login(make_user())
    html = client.get("/cpt/64494/").content.decode()

    section = html[html.index("Medically unlikely edits (MUE)") :]
    row = section[section.index("<tbody>") : section.index("</tbody>")]
    assert '<td class="num">1</td>' in row
    assert "2 — Date of Service Edit: Policy" in row
    assert "CMS Policy" in row
    assert "MUE 2024 Q2, effective 2024-04-01" in row
    assert "Code Descriptor / CPT Instruction" not in section  # the rationale made up before


def test_every_demo_edit_and_limit_belongs_to_an_edition(demo):
    assert NcciEdit.objects.exists() and MueValue.objects.exists()
    assert not NcciEdit.objects.filter(edition__isnull=True).exists()
    assert not MueValue.objects.filter(edition__isnull=True).exists()
    edit = NcciEdit.objects.with_editions().get(column1="64494", column2="77003")
    assert edit.edition_label == "NCCI PTP v30.1, effective 2024-04-01"


def test_the_demo_edits_name_only_codes_the_demo_has(demo):
    known = set(Code.objects.values_list("key", flat=True))
    for column1, column2 in NcciEdit.objects.values_list("column1", "column2"):
        assert {column1, column2} <= known


def test_the_knowledge_fixture_holds_no_edits_or_limits():
    knowledge = _fixture("knowledge.json")
    assert "ncci" not in knowledge and "mue" not in knowledge


@pytest.mark.realdata
def test_the_edit_and_fee_fixtures_are_what_the_published_files_say(tmp_path: Path):
    folder = real_data_dir()
    if folder is None:
        pytest.skip("no real data folder: ../shared/data beside the repo, or $CASEPILOT_REAL_DATA")
    codes = demo_codes()
    for part in PARTS:
        assert part.cut(folder / part.source, codes) == _fixture(part.fixture), part.fixture
    ncci = {(r["column1"], r["column2"]): r for r in _fixture("ncci.json")["rows"]}
    assert ncci["64494", "77003"]["modifier_indicator"] == "1"
    assert ncci["64494", "77003"]["rationale"] == "CPT Manual or CMS manual coding instruction"
    mue = {r["code"]: r for r in _fixture("mue.json")["rows"]}
    assert (mue["64494"]["value"], mue["64494"]["adjudication"]) == (1, 2)
    assert mue["64494"]["rationale"] == "CMS Policy"


def test_a_date_of_service_before_the_edition_shows_none_of_its_undated_edits(client, demo):
    """The file gives no effective dates, so its edits count from the edition's start."""
    client.force_login(make_user())
    html = client.get("/cpt/64494/?dos=2024-03-29").content.decode()

    assert "NCCI PTP v30.1" not in html
    assert "No NCCI procedure-to-procedure edits with 64494 are in force on Mar 29, 2024" in html


def test_a_code_paired_with_thousands_lists_the_first_ones_and_counts_the_rest(client, demo):
    edition = EditEdition.objects.get(kind="ncci-ptp")
    shown_before = NcciEdit.objects.filter(column2="64494").count()
    NcciEdit.objects.bulk_create(
        NcciEdit(edition=edition, column1=f"Z{n:04d}", column2="64494", modifier_indicator="0")
        for n in range(NCCI_PAIRS_SHOWN + 10 - shown_before)
    )
    client.force_login(make_user())

    html = client.get("/cpt/64494/").content.decode()

    table = html[html.index("64494 as column 2:") :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == NCCI_PAIRS_SHOWN + 1  # and the heading row
    assert "10 more with 64494 as column 2 are in force" in html
