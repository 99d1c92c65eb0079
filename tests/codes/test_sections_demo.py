"""The demo content `make run` loads: every section of 64494 filled, fees from the PFS file."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from codes.demo import FIXTURES, load_demo
from codes.models import Code, RvuLine
from codes.pages import SECTION_TITLES
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db) -> None:
    load_demo()


def test_the_demo_shows_all_seven_sections_filled_for_64494(client, demo):
    client.force_login(make_user())
    html = client.get("/cpt/64494/").content.decode()
    for title in SECTION_TITLES:
        assert f">{title}</h2>" in html
    assert 'class="empty"' not in html
    assert "$91.50" in html and "$51.17" in html


def test_every_demo_cpt_code_in_the_fee_schedule_file_has_its_line(demo):
    priced = set(RvuLine.objects.values_list("code", flat=True))
    demo_codes = set(
        Code.objects.filter(system__slug__in=["cpt", "hcpcs"]).values_list("key", flat=True)
    )
    assert {"64490", "64491", "64492", "64493", "64494", "64495"} <= priced
    assert {f"992{n:02d}" for n in (2, 3, 4, 5, 11, 12, 13, 14, 15)} <= priced
    assert priced <= demo_codes
    line = RvuLine.objects.get(code="64494", modifier="", edition="2023-JAN")
    assert (line.work_rvu, line.nonfacility_total, line.facility_total, line.global_days) == (
        Decimal("1.00"),
        Decimal("2.70"),
        Decimal("1.51"),
        "ZZZ",
    )
    assert line.conversion_factor == Decimal("33.8872")


def test_the_fee_schedule_fixture_carries_no_descriptors():
    data = json.loads((FIXTURES / "rvu.json").read_text(encoding="utf-8"))
    assert data["edition"] == "2023-JAN" and data["year"] == 2023
    for line in data["lines"]:
        assert "description" not in line
        assert re.fullmatch(r"[0-9A-Z]{5}", line["code"])


def test_loading_the_demo_twice_adds_no_fee_schedule_lines(demo):
    count = RvuLine.objects.count()
    report = load_demo()
    assert RvuLine.objects.count() == count
    assert "RVU lines" not in str(report)
