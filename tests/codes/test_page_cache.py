"""Cached code page parts: fresh on the very next request after a save, a delete or an
import; keyed by everything they depend on; never a way round the meter."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from codes import page_cache
from codes.models import Guideline
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "importers" / "samples"


@pytest.fixture
def member() -> Client:
    """An account's browser, apart from the `client` fixture (a guest's)."""
    browser = Client()
    browser.force_login(make_user())
    return browser


def test_an_editors_save_shows_on_the_very_next_request(member, facet_family):
    code = facet_family["64494"]
    assert "Plain words about 64494" in member.get("/cpt/64494/").content.decode()
    code.plain_language = "Rewritten by an editor just now."
    code.save()
    html = member.get("/cpt/64494/").content.decode()
    assert "Rewritten by an editor just now." in html
    assert "Plain words about 64494" not in html


def test_a_new_or_deleted_guideline_shows_on_the_very_next_request(member, facet_family):
    code = facet_family["64494"]
    member.get("/cpt/64494/")
    guideline = Guideline.objects.create(code=code, title="Levels", body="Count each level once.")
    assert "Count each level once." in member.get("/cpt/64494/").content.decode()
    guideline.delete()
    assert "Count each level once." not in member.get("/cpt/64494/").content.decode()


def test_a_changed_family_link_shows_on_the_very_next_request(client, facet_family):
    client.get("/cpt/64493/")
    facet_family["64494"].primary_codes.clear()
    html = client.get("/cpt/64493/").content.decode()
    assert "Reported in addition to 64493" in html  # 64495 still lists 64493
    assert "/cpt/64494/" not in html.split('aria-labelledby="addon"')[1].split("</section>")[0]


def test_a_save_bumps_the_version_again_after_its_transaction_commits(
    facet_family, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        before = page_cache.data_version()
        facet_family["64494"].save()
        during = page_cache.data_version()
    assert during != before
    for callback in callbacks:
        callback()
    assert page_cache.data_version() not in {before, during}


def test_saves_in_a_batch_make_one_new_version_at_its_end(
    facet_family, django_capture_on_commit_callbacks
):
    before = page_cache.data_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with page_cache.data_changes_batched():
            for code in facet_family.values():
                code.save()
            assert page_cache.data_version() == before
        after = page_cache.data_version()
    assert after != before
    assert len(callbacks) == 1  # and once more when the transaction commits


def test_the_demo_loader_leaves_a_new_version(db):
    before = page_cache.data_version()
    call_command("load_demo")
    assert page_cache.data_version() != before


def test_an_import_shows_on_the_very_next_request(member):
    call_command("import_codes", "cms-hcpcs", str(SAMPLES / "HCPC2016_SAMPLE.txt"), stdout=None)
    assert "nonemergency taxi transport" in member.get("/hcpcs/A0100/").content.decode()
    call_command("import_codes", "cms-hcpcs", str(SAMPLES / "HCPC2017_SAMPLE.txt"), stdout=None)
    html = member.get("/hcpcs/A0100/").content.decode()
    assert "nonemergency transport by taxi, per trip" in html


def test_sections_are_kept_apart_by_date_of_service(member, facet_family):
    march = member.get("/cpt/64494/", {"dos": "2024-03-01"}).content.decode()
    june = member.get("/cpt/64494/", {"dos": "2024-06-15"}).content.decode()
    assert "March 1, 2024" in march and "June 15, 2024" not in march
    assert "June 15, 2024" in june and "March 1, 2024" not in june


def test_the_key_names_every_input_and_changes_with_each(facet_family):
    base = {"version": "v1", "code": 5, "dos": "2024-03-01", "editor": False}
    key = page_cache.part_key("sections", **base)
    assert page_cache.part_key("sections", **base) == key
    for name, other in [("version", "v2"), ("code", 6), ("dos", "2024-03-02"), ("editor", True)]:
        assert page_cache.part_key("sections", **{**base, name: other}) != key
    assert page_cache.part_key("sections", **base, locality="0111201") != key
    assert page_cache.part_key("descriptions", **base) != key


def test_a_gated_guest_gets_no_text_an_account_had_cached(client, member, facet_family):
    member.get("/cpt/64493/")  # every part of 64493 is now cached
    client.get("/cpt/64494/")  # the guest's one view
    gated = client.get("/cpt/64493/")
    html = gated.content.decode()
    assert "Official descriptor of 64493" not in html
    assert "Plain words about 64493" not in html
    assert 'id="guidelines"' not in html
    assert gated["Cache-Control"] == "private, no-store"


def test_a_guest_with_a_view_gets_locked_sections_after_an_account_read_them(
    client, member, facet_family
):
    member.get("/cpt/64494/")
    html = client.get("/cpt/64494/").content.decode()
    assert "Official descriptor of 64494" in html
    assert "Register to view content" in html
    assert 'id="toc-title"' not in html and 'class="dos-form"' not in html


def test_editor_links_stay_with_editors(client, facet_family):
    code = facet_family["64494"]
    code.plain_language = ""
    code.save()
    staff = make_user(is_staff=True)
    client.force_login(staff)
    assert "Write one in admin" in client.get("/cpt/64494/").content.decode()
    client.force_login(make_user())
    assert "Write one in admin" not in client.get("/cpt/64494/").content.decode()


def test_the_home_pages_counts_follow_a_new_code_at_once(client, facet_family):
    from tests.factories import make_code

    assert "6 active codes" in client.get("/").content.decode()
    make_code("64499", system=facet_family["64494"].system)
    assert "7 active codes" in client.get("/").content.decode()


def _box_token(html: str) -> str:
    box = html[html.index('class="card casepilot-box"') :]
    box = box[: box.index("</form>")]
    return box.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def test_the_question_form_carries_each_requests_own_csrf_token(facet_family):
    from django.middleware.csrf import _unmask_cipher_token

    browsers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    for browser in browsers:
        browser.force_login(make_user())
    first, second = (b.get("/cpt/64494/").content.decode() for b in browsers)
    assert page_cache.CSRF_MARKER not in first + second
    secrets = [
        _unmask_cipher_token(_box_token(html)) for html in (first, second)
    ]  # each unmasks to its own browser's cookie secret
    assert secrets == [b.cookies["csrftoken"].value for b in browsers]
    assert secrets[0] != secrets[1]
    asked = browsers[1].post(
        "/casepilot/ask/",
        {
            "question": "What is 64494?",
            "context": facet_family["64494"].pk,
            "csrfmiddlewaretoken": _box_token(second),
        },
    )
    assert asked.status_code == 302
