"""The asker's thread at /account/consultations/: who may see it, follow-ups, ratings, closing."""

from __future__ import annotations

import pytest

from consult.models import Answer, FollowUp
from consult.rules import consultation_claim
from tests.factories import make_consultant, make_consultation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(asker, consultant):
    consultation = make_consultation(user=asker)
    consultation_claim(consultation_id=consultation.pk, consultant=consultant)
    answer = Answer.objects.create(consultation=consultation, author=consultant, body="Use 64494.")
    consultation.refresh_from_db()
    consultation.status = "answered"
    consultation.save()
    return consultation, answer


def test_the_asker_sees_question_instant_answer_and_consultants_answer(asker_client, answered):
    consultation, _ = answered
    listing = asker_client.get("/account/consultations/").content.decode()
    assert consultation.get_absolute_url() in listing
    html = asker_client.get(consultation.get_absolute_url()).content.decode()
    assert consultation.question in html
    assert "Instant answer from CasePilot" in html
    assert "Answer from a certified coder" in html and "Use 64494." in html


def test_nobody_but_the_asker_and_consultants_sees_a_thread(client, answered):
    consultation, answer = answered
    url = consultation.get_absolute_url()
    client.force_login(make_user())
    assert client.get(url).status_code == 404
    assert client.post(f"{url}close/").status_code == 404
    assert client.post(f"{url}answers/{answer.pk}/rate/", {"rating": "5"}).status_code == 404
    client.force_login(make_user(is_staff=True))
    assert client.get(url).status_code == 404
    client.force_login(make_consultant())
    assert client.get(url).status_code == 200


def test_another_accounts_thread_is_not_in_the_list(client, answered):
    consultation, _ = answered
    client.force_login(make_user())
    assert consultation.subject not in client.get("/account/consultations/").content.decode()


def test_the_asker_may_ask_one_follow_up_per_answer(asker_client, answered, mail_queue):
    consultation, answer = answered
    url = f"{consultation.get_absolute_url()}answers/{answer.pk}/follow-up/"
    asker_client.post(url, {"text": "Does it change with modifier 50?"})
    second = asker_client.post(url, {"text": "And another?"}, follow=True)
    assert "already asked a follow-up" in second.content.decode()
    assert list(FollowUp.objects.values_list("text", flat=True)) == [
        "Does it change with modifier 50?"
    ]
    consultation.refresh_from_db()
    assert consultation.status == "claimed"
    assert any("Follow-up question" in m.subject for m in mail_queue())


def test_a_follow_up_with_phi_is_refused_and_not_stored(asker_client, answered):
    consultation, answer = answered
    url = f"{consultation.get_absolute_url()}answers/{answer.pk}/follow-up/"
    response = asker_client.post(url, {"text": "Mrs. Alvarez asked again"})
    assert response.status_code == 422
    assert '<mark class="phi-mark"' in response.content.decode()
    assert not FollowUp.objects.exists()


def test_the_asker_rates_an_answer_from_one_to_five(asker_client, answered):
    consultation, answer = answered
    url = f"{consultation.get_absolute_url()}answers/{answer.pk}/rate/"
    asker_client.post(url, {"rating": "9"})
    answer.refresh_from_db()
    assert answer.rating is None
    asker_client.post(url, {"rating": "4"})
    answer.refresh_from_db()
    assert answer.rating == 4


def test_the_asker_closes_the_question(asker_client, answered):
    consultation, answer = answered
    asker_client.post(f"{consultation.get_absolute_url()}close/")
    consultation.refresh_from_db()
    assert consultation.status == "closed" and consultation.closed_at is not None
    url = f"{consultation.get_absolute_url()}answers/{answer.pk}/follow-up/"
    response = asker_client.post(url, {"text": "One more?"}, follow=True)
    assert "This question is closed." in response.content.decode()


def test_admin_lists_consultations_with_status_consultant_and_overdue_filters(
    client, answered, consultant
):
    import datetime

    from django.utils import timezone

    late = make_consultation(
        subject="Late one", due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get("/admin/consult/consultation/").content.decode()
    assert " By status " in html and " By claimed by " in html and " By overdue " in html
    overdue = client.get("/admin/consult/consultation/?overdue=yes").content.decode()
    assert f"/admin/consult/consultation/{late.pk}/change/" in overdue
    assert f"/admin/consult/consultation/{answered[0].pk}/change/" not in overdue
    mine = client.get(f"/admin/consult/consultation/?claimed_by__id__exact={consultant.pk}")
    assert f"/admin/consult/consultation/{answered[0].pk}/change/" in mine.content.decode()
    assert f"/admin/consult/consultation/{late.pk}/change/" not in mine.content.decode()
