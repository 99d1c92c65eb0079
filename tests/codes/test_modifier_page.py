"""The modifier page: its descriptor, our guidance and the codes an editor linked it to."""

from __future__ import annotations

import pytest

from codes.models import CodeModifier, Modifier
from tests.factories import make_code, make_system, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def modifier_59(facet_family) -> Modifier:
    modifier = Modifier.objects.create(
        code="59",
        short_descriptor="Distinct procedural service",
        long_descriptor="Distinct Procedural Service",
        note="Marks two services an edit bundles as truly separate.",
    )
    for number in ("64494", "64493"):
        CodeModifier.objects.create(
            code=facet_family[number],
            modifier=modifier,
            note=f"Locked advice for {number} with 59.",
        )
    return modifier


def test_the_modifier_page_lists_the_codes_an_editor_linked_it_to(client, modifier_59):
    html = client.get("/modifiers/59/").content.decode()
    assert "Distinct Procedural Service" in html
    assert "Marks two services an edit bundles as truly separate." in html
    assert 'href="/cpt/64493/"' in html and 'href="/cpt/64494/"' in html
    assert html.index("64493") < html.index("64494")  # in code order
    assert "Inj paravert f jnt 64494" in html


def test_the_modifier_page_never_shows_the_notes_locked_on_code_pages(client, modifier_59):
    html = client.get("/modifiers/59/").content.decode()
    assert 'href="/cpt/64494/"' in html
    assert "Locked advice for" not in html


def test_a_modifier_with_no_linked_codes_says_so(client, db):
    Modifier.objects.create(code="XU", short_descriptor="Unusual non-overlapping service")
    html = client.get("/modifiers/XU/").content.decode()
    assert "No codes have been linked to this modifier yet." in html
    assert "No guidance has been written for this modifier yet." in html
    assert "/admin/" not in html


def test_staff_get_admin_links_where_the_modifier_page_is_empty(client, db):
    modifier = Modifier.objects.create(code="XU", short_descriptor="Unusual service")
    client.force_login(make_user(is_staff=True))
    html = client.get("/modifiers/XU/").content.decode()
    assert f"/admin/codes/modifier/{modifier.pk}/change/" in html
    assert "/admin/codes/code/" in html


def test_codes_of_other_systems_are_labelled_with_their_system(client, modifier_59):
    hcpcs = make_system("hcpcs")
    CodeModifier.objects.create(code=make_code("J1100", system=hcpcs), modifier=modifier_59)
    html = client.get("/modifiers/59/").content.decode()
    assert 'href="/hcpcs/J1100/"' in html and ">HCPCS</span>" in html
