"""Asking at /consult/new/: the form, the allowance, the instant answer, PHI and bad input."""

from __future__ import annotations

import copy
import logging
import uuid

import pytest
from django.urls import reverse

from accounts.models import Meter
from consult.models import Consultation
from tests.factories import make_consultant, make_plan, make_user

URL = "/consult/new/"
pytestmark = pytest.mark.django_db


def ask_data(**fields) -> dict:
    data = {
        "token": str(uuid.uuid4()),
        "subject": "Facet injections at two levels",
        "question": "Can I bill 64494 with 64493 at L4-L5 and L5-S1, 3 units, DOS 01/15/2024?",
        "codes": "64493-50, 64494 99999",
        "date_of_service": "2024-01-15",
        "payer": "medicare",
        "specialty": "Pain management",
        "place_of_service": "office",
    }
    data.update(fields)
    return data


@pytest.fixture
def consultation_rules(settings):
    """A private copy of the allowances, so a test may change them."""
    settings.QUOTA_RESOURCES = copy.deepcopy(settings.QUOTA_RESOURCES)
    return settings.QUOTA_RESOURCES["consultations"]


def test_the_header_names_caseconsultant(client, db):
    html = client.get(reverse("codes:home")).content.decode()
    assert f'href="{URL}">CaseConsultant</a>' in html


def test_a_guest_is_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_carries_a_fresh_token_and_the_casepilot_prefill(asker_client):
    response = asker_client.get(URL, {"question": "What is 99213?"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="token"' in html and "What is 99213?" in html
    assert 'data-suggest-url="/search/suggest/"' in html


def test_casepilot_answers_link_to_a_certified_coder_prefilled(client, facet_family):
    response = client.post(reverse("assistant:ask"), {"question": "What is 64494?"}, follow=True)
    html = response.content.decode()
    assert f'{URL}?question=What%20is%2064494%3F">Ask a certified coder</a>' in html


def test_an_account_asks_and_sees_the_instant_answer_marked_automatic(asker_client, facet_family):
    response = asker_client.post(URL, ask_data(), follow=True)
    html = response.content.decode()
    consultation = Consultation.objects.get()
    assert response.redirect_chain[-1][0] == consultation.get_absolute_url()
    assert "Instant answer from CasePilot" in html and ">Automatic</span>" in html
    assert consultation.instant_answer["facts"], "CasePilot answered from the facet family"
    assert "64494" in html and consultation.status == "open"


def test_codes_are_linked_and_an_unknown_code_is_flagged_not_fatal(asker_client, facet_family):
    response = asker_client.post(URL, ask_data(), follow=True)
    html = response.content.decode()
    consultation = Consultation.objects.get()
    assert sorted(c.code for c in consultation.codes.all()) == ["64493", "64494"]
    assert consultation.unknown_codes == ["99999"]
    assert 'href="/cpt/64493/">CPT 64493</a>' in html
    assert "Not in our tables: 99999" in html


def test_a_double_submit_creates_one_consultation_and_spends_one(asker_client, facet_family):
    data = ask_data()
    first = asker_client.post(URL, data)
    second = asker_client.post(URL, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Consultation.objects.count() == 1
    assert Meter.objects.get(resource="consultations").used == 1


def test_a_free_account_gets_one_consultation_a_month(asker_client, facet_family):
    assert asker_client.post(URL, ask_data()).status_code == 302
    refused = asker_client.post(URL, ask_data())
    assert refused.status_code == 429
    assert "You have used your 1 consultation this month" in refused.content.decode()
    assert Consultation.objects.count() == 1


def test_a_paid_plan_gets_its_configured_number(client, facet_family, consultation_rules):
    consultation_rules["paid"] = 2
    client.force_login(make_user(plan=make_plan(views=None)))
    assert [client.post(URL, ask_data()).status_code for _ in range(3)] == [302, 302, 429]
    assert Consultation.objects.filter(tier="paid").count() == 2


def test_staff_are_unlimited(client, facet_family):
    client.force_login(make_consultant())
    assert [client.post(URL, ask_data()).status_code for _ in range(3)] == [302] * 3


def test_an_unverified_account_is_refused(client, facet_family):
    client.force_login(make_user(verified=False))
    response = client.post(URL, ask_data())
    assert response.status_code == 429
    assert "Verify your email address" in response.content.decode()
    assert not Consultation.objects.exists()


def test_the_asker_is_mailed_the_due_time_and_consultants_the_new_question(
    asker_client, facet_family, consultant, mail_queue
):
    asker_client.post(URL, ask_data())
    consultation = Consultation.objects.get()
    sent = mail_queue()
    by_recipient = {message.to[0]: message for message in sent}
    assert set(by_recipient) == {"asker@example.com", "coder@example.com"}
    receipt = by_recipient["asker@example.com"]
    assert "will answer it by" in receipt.body
    assert consultation.get_absolute_url() in receipt.body
    assert "Facet injections at two levels" in by_recipient["coder@example.com"].subject


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Patient John Smith had 64493 at L4-L5.", "John Smith"),
        ("DOB 03/14/1958, can I bill 99213-25?", "03/14/1958"),
        ("Call (614) 555-0199 about 64494", "(614) 555-0199"),
    ],
)
def test_phi_is_refused_highlighted_and_nothing_is_stored_or_logged(
    asker_client, facet_family, mail_queue, caplog, text, shown
):
    caplog.set_level(logging.DEBUG)
    response = asker_client.post(URL, ask_data(question=text))
    html = response.content.decode()
    assert response.status_code == 422
    assert '<mark class="phi-mark" title="Looks like' in html and shown in html
    assert "How to de-identify" in html
    assert not Consultation.objects.exists()
    assert not Meter.objects.filter(resource="consultations").exists()
    assert mail_queue() == []
    assert shown not in caplog.text


def test_html_in_a_question_is_escaped(asker_client, facet_family):
    response = asker_client.post(
        URL, ask_data(question="Is <script>alert(1)</script> 64494 ok?"), follow=True
    )
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "fields",
    [
        {"question": ""},
        {"question": "   "},
        {"question": "x" * 5001},
        {"question": "64494\x00 with 64493"},
        {"subject": "a\x00b"},
        {"token": "not-a-token"},
        {"payer": "martian"},
        {"date_of_service": "2024-13-45"},
    ],
)
def test_bad_input_is_a_form_error_never_a_500(asker_client, facet_family, fields):
    response = asker_client.post(URL, ask_data(**fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field field--error"' in html or 'class="form-errors" role="alert"' in html
    assert not Consultation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_in_two_threads_stores_one_consultation(facet_family):
    import threading

    from django.db import connection

    from consult.rules import codes_check, consultation_ask

    user = make_user()
    token = uuid.uuid4()
    fields = {
        "subject": "Twice",
        "question": "Can I bill 64494 twice?",
        "date_of_service": None,
        "payer": "medicare",
        "specialty": "Pain management",
        "place_of_service": "office",
    }
    barrier = threading.Barrier(2)
    found: list[int] = []

    def ask() -> None:
        try:
            barrier.wait()
            asked = consultation_ask(
                user=user, token=token, fields=fields, codes=codes_check(raw="64494")
            )
            found.append(asked.consultation.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 2 and found[0] == found[1]
    assert Consultation.objects.count() == 1
    assert Meter.objects.get(resource="consultations").used == 1


def test_the_ask_page_and_thread_keep_to_a_query_budget(
    asker_client, facet_family, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        asker_client.get(URL)
    asker_client.post(URL, ask_data())
    consultation = Consultation.objects.get()
    with django_assert_max_num_queries(12):
        asker_client.get(consultation.get_absolute_url())
    with django_assert_max_num_queries(8):
        asker_client.get("/account/consultations/")
