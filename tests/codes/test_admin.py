"""Editors in Django admin: search and filters, and the revision history of every text edit."""

from __future__ import annotations

import pytest

from codes.models import Code, Revision
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = make_user("editor@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def change_form_data(response) -> dict[str, object]:
    """What the browser would post back for an unchanged admin change form."""
    form = response.context["adminform"].form
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(value, "pk"):
            value = value.pk
        if isinstance(value, list | tuple):
            value = [getattr(v, "pk", v) for v in value]
        if value is None:
            value = ""
        if isinstance(value, bool) and not value:
            continue
        data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


def test_editing_plain_language_keeps_a_revision_with_who_and_when(client, editor, facet_family):
    code = facet_family["64494"]
    url = f"/admin/codes/code/{code.pk}/change/"
    data = change_form_data(client.get(url))
    data["plain_language"] = "A corrected explanation of the second lumbar level."
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    code.refresh_from_db()
    assert code.plain_language == "A corrected explanation of the second lumbar level."
    revision = Revision.objects.get(object_id=code.pk, field="plain_language")
    assert revision.user == editor
    assert revision.old_value == "Plain words about 64494. More text."
    assert revision.new_value == "A corrected explanation of the second lumbar level."
    history = client.get(url).content.decode()
    assert "revision history" in history.lower()
    assert "A corrected explanation of the second lumbar level." in history


def test_saving_without_changes_writes_no_revision(client, editor, facet_family):
    code = facet_family["64494"]
    url = f"/admin/codes/code/{code.pk}/change/"
    assert client.post(url, change_form_data(client.get(url))).status_code == 302
    assert not Revision.objects.exists()


def test_admin_finds_a_code_by_its_dotted_spelling(client, editor):
    from tests.factories import make_code, make_system

    make_code("M54.50", system=make_system("icd10cm"))
    html = client.get("/admin/codes/code/?q=M54.50").content.decode()
    assert "M54.50" in html and "0 codes" not in html


def test_admin_filters_codes_by_system_and_status(client, editor, facet_family):
    response = client.get("/admin/codes/code/?status__exact=active&is_addon__exact=1")
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {
        facet_family[n] for n in ("64491", "64492", "64494", "64495")
    }


def test_editor_grants_bonus_views_in_admin(client, editor):
    coder = make_user("coder@example.com")
    url = f"/admin/accounts/user/{coder.pk}/change/"
    data = change_form_data(client.get(url))
    data["bonus_views"] = 10
    data.pop("password", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    coder.refresh_from_db()
    assert coder.bonus_views == 10


def test_non_staff_cannot_reach_admin(client):
    client.force_login(make_user())
    response = client.get("/admin/codes/code/")
    assert response.status_code == 302
    assert Code.objects.count() == 0


def test_code_changes_are_listed_read_only_with_filters_by_kind_and_run(client, editor):
    from tests.factories import make_import_run, make_ncci_change

    run = make_import_run(filename="ccipra-v301r0-f1.zip")
    change = make_ncci_change(run, "64493", "01991")

    listing = client.get(
        "/admin/codes/codechange/", {"kind": "ncci-added", "run__id__exact": run.pk}
    )
    detail = client.get(f"/admin/codes/codechange/{change.pk}/change/")
    post = client.post(f"/admin/codes/codechange/{change.pk}/change/", {"code": "99999"})

    assert listing.status_code == 200 and "64493" in listing.content.decode()
    assert detail.status_code == 200 and 'name="code"' not in detail.content.decode()
    assert post.status_code == 403
    assert client.get("/admin/codes/codechange/add/").status_code == 403
