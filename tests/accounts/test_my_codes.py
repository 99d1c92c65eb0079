"""My codes: favourites, private notes, recently viewed, CSV in and out (/account/codes/)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Meter, MyCode, Unlock
from tests.factories import make_code, make_system, make_user

pytestmark = pytest.mark.django_db


def star(client, code, on: bool = True, next: str = ""):
    return client.post(
        f"/account/codes/{code.pk}/star/", {"starred": "1" if on else "0", "next": next}
    )


def save_note(client, code, text: str):
    return client.post(f"/account/codes/{code.pk}/", {"part": "note", "note": text})


def upload(client, content: bytes, name: str = "superbill.csv"):
    return client.post(
        "/account/codes/import/", {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def favourite_codes(user) -> list[str]:
    return [row.code.code for row in MyCode.objects.filter(user=user).favourites()]


# --- Favourites ---------------------------------------------------------------------------------


def test_an_account_stars_a_code_from_its_page_without_spending_a_view(client, facet_family):
    user = make_user()
    client.force_login(user)
    code = facet_family["64494"]
    response = star(client, code, next="/cpt/64494/")
    assert response.status_code == 302 and response["Location"] == "/cpt/64494/"
    assert favourite_codes(user) == ["64494"]
    assert not Unlock.objects.filter(user=user).exists()
    assert not Meter.objects.filter(user=user).exists()


def test_the_star_on_a_code_page_shows_whether_it_is_a_favourite(client, facet_family):
    user = make_user()
    client.force_login(user)
    html = client.get("/cpt/64494/").content.decode()
    assert (
        'aria-pressed="false"' in html
        and f"/account/codes/{facet_family['64494'].pk}/star/" in html
    )
    star(client, facet_family["64494"])
    html = client.get("/cpt/64494/").content.decode()
    assert 'aria-pressed="true"' in html


def test_a_guest_gets_no_star_and_cannot_star(client, facet_family):
    html = client.get("/cpt/64494/").content.decode()
    assert "/star/" not in html and "Add a private note" not in html
    response = star(client, facet_family["64494"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not MyCode.objects.exists()


def test_search_results_carry_a_star_for_accounts(client, facet_family):
    user = make_user()
    client.force_login(user)
    star(client, facet_family["64493"])
    html = client.get("/search/", {"q": "6449"}).content.decode()
    assert html.count('class="star-form"') == 6
    assert html.count('aria-pressed="true"') == 1
    client.logout()
    assert "star-form" not in client.get("/search/", {"q": "6449"}).content.decode()


def test_unstarring_keeps_the_note_and_an_offsite_next_is_ignored(client, facet_family):
    user = make_user()
    client.force_login(user)
    code = facet_family["64494"]
    star(client, code)
    save_note(client, code, "Bilateral: report 64494-50 once.")
    response = star(client, code, on=False, next="https://evil.example/")
    assert response["Location"] == "/account/codes/"
    row = MyCode.objects.get(user=user)
    assert not row.starred and row.note == "Bilateral: report 64494-50 once."


def test_favourites_are_listed_in_order_and_move_up_and_down_without_javascript(
    client, facet_family
):
    user = make_user()
    client.force_login(user)
    for key in ("64493", "64494", "64495"):
        star(client, facet_family[key])
    client.post(f"/account/codes/{facet_family['64495'].pk}/move/", {"direction": "up"})
    assert favourite_codes(user) == ["64493", "64495", "64494"]
    client.post(f"/account/codes/{facet_family['64493'].pk}/move/", {"direction": "down"})
    assert favourite_codes(user) == ["64495", "64493", "64494"]
    client.post(f"/account/codes/{facet_family['64495'].pk}/move/", {"direction": "up"})
    assert favourite_codes(user) == ["64495", "64493", "64494"]  # already first
    html = client.get("/account/codes/").content.decode()
    assert html.index("CPT 64495") < html.index("CPT 64493") < html.index("CPT 64494")


def test_favourites_take_tags_and_filter_by_tag(client, facet_family):
    user = make_user()
    client.force_login(user)
    for key in ("64493", "64494", "64490"):
        star(client, facet_family[key])
    for key, tags in (("64493", "spine, lumbar"), ("64494", "Spine; add-on"), ("64490", "")):
        response = client.post(
            f"/account/codes/{facet_family[key].pk}/", {"part": "tags", "tags": tags}
        )
        assert response.status_code == 302
    assert MyCode.objects.get(code=facet_family["64494"]).tags == ["Spine", "add-on"]
    html = client.get("/account/codes/", {"tag": "spine"}).content.decode()
    assert "CPT 64493" in html and "CPT 64494" not in html and "CPT 64490" not in html
    html = client.get("/account/codes/").content.decode()
    assert all(f"CPT {key}" in html for key in ("64493", "64494", "64490"))


def test_a_tag_over_forty_characters_is_a_form_error(client, facet_family):
    user = make_user()
    client.force_login(user)
    star(client, facet_family["64494"])
    response = client.post(
        f"/account/codes/{facet_family['64494'].pk}/", {"part": "tags", "tags": "x" * 41}
    )
    assert response.status_code == 400
    assert "at most 40 characters" in response.content.decode()
    assert MyCode.objects.get(user=user).tags == []


def test_tagging_a_code_that_is_not_a_favourite_says_to_star_it_first(client, facet_family):
    client.force_login(make_user())
    response = client.post(
        f"/account/codes/{facet_family['64494'].pk}/", {"part": "tags", "tags": "spine"}
    )
    assert response.status_code == 400
    assert "star the code first" in response.content.decode()
    assert not MyCode.objects.exists()


# --- Notes --------------------------------------------------------------------------------------


def test_a_note_shows_on_its_code_page_with_its_edit_time_to_its_author(client, facet_family):
    user = make_user()
    client.force_login(user)
    response = save_note(client, facet_family["64494"], "Payer X wants <b>images</b> attached.")
    assert response.status_code == 302
    html = client.get("/cpt/64494/").content.decode()
    assert "Payer X wants &lt;b&gt;images&lt;/b&gt; attached." in html
    assert re.search(r"edited \w{3} \d+, \d{4}, \d\d:\d\d UTC", html)
    assert not MyCode.objects.get(user=user).starred  # a note is not a favourite


def test_nobody_else_sees_a_note_not_even_staff(client, facet_family):
    author = make_user()
    client.force_login(author)
    save_note(client, facet_family["64494"], "Secret payer contract rate 123.45")
    for other in (
        make_user(),
        make_user(is_staff=True),
        make_user(is_staff=True, is_superuser=True),
    ):
        client.force_login(other)
        assert "Secret payer" not in client.get("/cpt/64494/").content.decode()
        assert "Secret payer" not in client.get("/account/codes/").content.decode()
        page = client.get(f"/account/codes/{facet_family['64494'].pk}/")
        assert "Secret payer" not in page.content.decode()
        assert "Secret payer" not in client.get("/account/codes/", {"q": "Secret"}).content.decode()
    client.logout()
    assert "Secret payer" not in client.get("/cpt/64494/").content.decode()


def test_staff_read_a_note_only_through_admin(client, facet_family):
    author = make_user()
    client.force_login(author)
    save_note(client, facet_family["64494"], "Secret payer contract rate 123.45")
    row = MyCode.objects.get(user=author)
    client.force_login(make_user(is_staff=True, is_superuser=True))
    html = client.get(f"/admin/accounts/mycode/{row.pk}/change/").content.decode()
    assert "Secret payer contract rate 123.45" in html


def test_notes_are_searchable_from_my_codes(client, facet_family):
    user = make_user()
    client.force_login(user)
    save_note(client, facet_family["64494"], "Needs fluoroscopy images on appeal.")
    save_note(client, facet_family["64490"], "Cervical first level.")
    html = client.get("/account/codes/", {"q": "FLUORO"}).content.decode()
    assert "Needs fluoroscopy images" in html and "Cervical first level" not in html
    html = client.get("/account/codes/", {"q": "nothing like it"}).content.decode()
    assert "No note contains" in html


def test_a_note_over_the_limit_is_a_form_error_and_keeps_the_old_note(client, facet_family):
    user = make_user()
    client.force_login(user)
    code = facet_family["64494"]
    save_note(client, code, "First version.")
    response = save_note(client, code, "x" * 5_001)
    assert response.status_code == 400
    assert "at most 5000 characters" in response.content.decode()
    assert MyCode.objects.get(user=user).note == "First version."
    assert save_note(client, code, "y" * 5_000).status_code == 302


def test_a_note_with_a_nul_byte_is_a_form_error(client, facet_family):
    client.force_login(make_user())
    response = save_note(client, facet_family["64494"], "before\x00after")
    assert response.status_code == 400
    assert not MyCode.objects.exists()


def test_an_empty_note_deletes_it(client, facet_family):
    user = make_user()
    client.force_login(user)
    save_note(client, facet_family["64494"], "Temporary.")
    save_note(client, facet_family["64494"], "   ")
    assert not MyCode.objects.filter(user=user).exists()


# --- Recently viewed ----------------------------------------------------------------------------


def test_recently_viewed_lists_this_periods_unlocks_newest_first(client, facet_family):
    user = make_user()
    client.force_login(user)
    for key in ("64490", "64493", "64494"):
        client.get(f"/cpt/{key}/")
    html = client.get("/account/codes/").content.decode()
    recent = html[html.index('id="recent-title"') :]
    assert recent.index("CPT 64494") < recent.index("CPT 64493") < recent.index("CPT 64490")


def test_a_guest_sees_the_code_their_session_opened(client, facet_family):
    assert "No code pages opened" in client.get("/account/codes/").content.decode()
    client.get("/cpt/64494/")
    html = client.get("/account/codes/").content.decode()
    assert "CPT 64494" in html and "Your notes" not in html


# --- CSV ----------------------------------------------------------------------------------------


def test_favourites_export_as_csv_with_their_tags(client, facet_family):
    user = make_user()
    client.force_login(user)
    star(client, facet_family["64493"])
    star(client, facet_family["64494"])
    client.post(
        f"/account/codes/{facet_family['64494'].pk}/", {"part": "tags", "tags": "spine, E/M"}
    )
    response = client.get("/account/codes/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["system", "code", "descriptor", "tags"],
        ["cpt", "64493", "Inj paravert f jnt 64493", ""],
        ["cpt", "64494", "Inj paravert f jnt 64494", "spine; E/M"],
    ]


def test_an_exported_list_imports_into_another_account(client, facet_family):
    client.force_login(make_user())
    star(client, facet_family["64495"])
    client.post(f"/account/codes/{facet_family['64495'].pk}/", {"part": "tags", "tags": "spine"})
    exported = client.get("/account/codes/export.csv").content
    other = make_user()
    client.force_login(other)
    assert upload(client, exported).status_code == 200
    assert MyCode.objects.get(user=other).tags == ["spine"]


def test_an_import_reports_unknown_codes_and_imports_the_rest(client, facet_family):
    make_code("J1100", system=make_system("hcpcs"))
    user = make_user()
    client.force_login(user)
    content = b"code,tags\n64494,spine\n99999,\nJ1100,drugs\nnot a code,\n64493,\n"
    response = upload(client, content)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Imported 3 codes" in html
    assert "not imported: 99999, not a code" in html
    assert favourite_codes(user) == ["64494", "J1100", "64493"]


def test_an_import_without_a_header_reads_the_first_column(client, facet_family):
    user = make_user()
    client.force_login(user)
    upload(client, "\ufeff64490\r\n64491\r\n".encode())
    assert favourite_codes(user) == ["64490", "64491"]


def test_a_five_megabyte_csv_is_a_form_error(client, facet_family):
    user = make_user()
    client.force_login(user)
    response = upload(client, b"64494\n" * (5_000_000 // 6))
    assert response.status_code == 400
    assert "at most 1 MB" in response.content.decode()
    assert not MyCode.objects.exists()


def test_a_csv_with_a_nul_byte_is_a_form_error(client, facet_family):
    client.force_login(make_user())
    response = upload(client, b"code\n64494\n64493\x00\n")
    assert response.status_code == 400
    assert "NUL bytes" in response.content.decode()
    assert not MyCode.objects.exists()


def test_a_csv_row_with_a_long_tag_is_reported_and_the_rest_imported(client, facet_family):
    user = make_user()
    client.force_login(user)
    response = upload(client, f"code,tags\n64494,{'t' * 41}\n64493,spine\n".encode())
    assert response.status_code == 200
    assert "Row 2 (64494): A tag is at most 40 characters" in response.content.decode()
    assert favourite_codes(user) == ["64493"]


def test_an_empty_or_missing_file_is_a_form_error(client, facet_family):
    client.force_login(make_user())
    assert upload(client, b"").status_code == 400
    assert client.post("/account/codes/import/", {}).status_code == 400


# --- Structured data ----------------------------------------------------------------------------


def structured_data(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


def test_code_pages_carry_a_medical_code_with_nothing_metered(client, facet_family):
    client.get("/cpt/64493/")  # the guest's one view
    html = client.get("/cpt/64494/").content.decode()  # gated
    assert "Official Description" not in html
    data = structured_data(html)
    assert data["@type"] == "MedicalCode"
    assert data["codeValue"] == "64494" and data["codingSystem"] == "CPT"
    assert data["name"] == "Inj paravert f jnt 64494"
    text = json.dumps(data)
    assert facet_family["64494"].long_descriptor not in text
    assert "Plain words" not in text


def test_a_descriptor_cannot_close_the_medical_code_block(client, cpt):
    make_code("64499", system=cpt, short="Odd </script><script>alert(1)</script> & more")
    html = client.get("/cpt/64499/").content.decode()
    assert "<script>alert(1)" not in html
    assert structured_data(html)["name"] == "Odd </script><script>alert(1)</script> & more"


# --- Query budget -------------------------------------------------------------------------------


def test_the_star_and_note_cost_an_account_one_query_and_a_guest_none(client, facet_family):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user()
    client.force_login(user)
    client.get("/cpt/64494/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/cpt/64494/")
    mine = [q for q in queries.captured_queries if "accounts_mycode" in q["sql"]]
    assert len(mine) == 1
    client.logout()
    with CaptureQueriesContext(connection) as queries:
        client.get("/cpt/64494/")
    assert not [q for q in queries.captured_queries if "accounts_mycode" in q["sql"]]


def test_stars_in_search_results_cost_an_account_one_query_and_a_guest_none(client, facet_family):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_user())
    with CaptureQueriesContext(connection) as queries:
        client.get("/search/", {"q": "6449"})
    assert len([q for q in queries.captured_queries if '"accounts_mycode"' in q["sql"]]) == 1
    client.logout()
    with CaptureQueriesContext(connection) as queries:
        client.get("/search/", {"q": "6449"})
    assert not [q for q in queries.captured_queries if '"accounts_mycode"' in q["sql"]]
