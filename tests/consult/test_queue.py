"""The consultants' queue: who sees it, its order, overdue, the atomic claim and answering."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from consult.models import Answer, Consultation
from consult.rules import consultation_claim, due_at_compute
from tests.factories import make_consultant, make_consultation, make_user

pytestmark = pytest.mark.django_db
QUEUE = "/consult/queue/"


def test_only_consultants_see_the_queue(client, consultant):
    client.force_login(make_user())
    assert client.get(QUEUE).status_code == 404
    client.force_login(make_user(is_staff=True))  # staff, but not a consultant
    assert client.get(QUEUE).status_code == 404
    client.force_login(consultant)
    assert client.get(QUEUE).status_code == 200


def test_the_queue_is_ordered_by_due_time_and_highlights_overdue(client, consultant):
    now = timezone.now()
    make_consultation(subject="Later", due_at=now + datetime.timedelta(days=2))
    make_consultation(subject="Late", due_at=now - datetime.timedelta(hours=3))
    make_consultation(subject="Soon", due_at=now + datetime.timedelta(hours=2))
    make_consultation(subject="Done", status="answered")
    client.force_login(consultant)
    html = client.get(QUEUE).content.decode()
    assert html.index(">Late<") < html.index(">Soon<") < html.index(">Later<")
    assert ">Done<" not in html
    assert html.count('class="consult-queue__overdue"') == 1
    assert html.count(">Overdue</span>") == 1


def test_a_claim_through_the_queue_is_refused_once_taken(client, consultant):
    consultation = make_consultation()
    other = make_consultant()
    client.force_login(other)
    client.post(f"{QUEUE}{consultation.public_id}/claim/")
    client.force_login(consultant)
    response = client.post(f"{QUEUE}{consultation.public_id}/claim/", follow=True)
    assert "Another consultant has already claimed" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.claimed_by == other


@pytest.mark.django_db(transaction=True)
def test_two_consultants_can_never_both_claim_one_question():
    consultation = make_consultation()
    workers = [make_consultant() for _ in range(8)]
    barrier = threading.Barrier(len(workers))
    results: list[bool] = []
    lock = threading.Lock()

    def claim(worker) -> None:
        try:
            barrier.wait()
            won = consultation_claim(consultation_id=consultation.pk, consultant=worker)
            with lock:
                results.append(won)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    consultation.refresh_from_db()
    assert consultation.status == "claimed" and consultation.claimed_by in workers


def test_a_consultant_answers_and_the_asker_gets_the_whole_answer_by_mail(
    client, consultant, asker, mail_queue, facet_family
):
    consultation = make_consultation(user=asker)
    client.force_login(consultant)
    client.post(f"{QUEUE}{consultation.public_id}/claim/")
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert 'data-suggest-url="/search/suggest/"' in page and "data-search-suggest" in page
    body = "Report 64493 for L4-L5 and 64494 for L5-S1.\n\nUse <b>one</b> unit each."
    response = client.post(
        f"{QUEUE}{consultation.public_id}/answer/", {"body": body, "codes": "64493 64494"}
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    answer = Answer.objects.get()
    assert consultation.status == "answered" and consultation.answered_at is not None
    assert answer.author == consultant and answer.created_at is not None
    sent = [m for m in mail_queue() if m.to == ["asker@example.com"]]
    assert len(sent) == 1
    message = sent[0]
    assert body in message.body
    assert f"http://127.0.0.1:8000{consultation.get_absolute_url()}" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "&lt;b&gt;one&lt;/b&gt;" in html and consultation.get_absolute_url() in html
    assert 'href="http://127.0.0.1:8000/cpt/64494/"' in html


def test_an_unclaimed_question_cannot_be_answered(client, consultant):
    consultation = make_consultation()
    client.force_login(consultant)
    response = client.post(
        f"{QUEUE}{consultation.public_id}/answer/", {"body": "Yes."}, follow=True
    )
    assert "Claim the question before answering it." in response.content.decode()
    assert not Answer.objects.exists()


def test_every_answer_is_kept_with_its_author(client, consultant, asker):
    consultation = make_consultation(user=asker)
    client.force_login(consultant)
    client.post(f"{QUEUE}{consultation.public_id}/claim/")
    client.post(f"{QUEUE}{consultation.public_id}/answer/", {"body": "First answer."})
    client.force_login(asker)
    first = Answer.objects.get()
    url = f"{consultation.get_absolute_url()}answers/{first.pk}/follow-up/"
    client.post(url, {"text": "And for L3-L4?"})
    client.force_login(consultant)
    client.post(f"{QUEUE}{consultation.public_id}/answer/", {"body": "Second answer."})
    assert list(Answer.objects.values_list("body", "author")) == [
        ("First answer.", consultant.pk),
        ("Second answer.", consultant.pk),
    ]


@pytest.mark.parametrize(
    ("asked", "tier", "due"),
    [
        # Monday 10:00 in New York: one business day for paid, two for free.
        ("2026-03-02 10:00", "paid", "2026-03-03 10:00"),
        ("2026-03-02 10:00", "free", "2026-03-04 10:00"),
        # Friday 16:00: the weekend does not count.
        ("2026-03-06 16:00", "paid", "2026-03-09 16:00"),
        ("2026-03-06 16:00", "free", "2026-03-10 16:00"),
        # Saturday: counted from the start of Monday.
        ("2026-03-07 11:00", "paid", "2026-03-10 00:00"),
    ],
)
def test_turnaround_counts_business_days_in_the_configured_zone(settings, asked, tier, due):
    import zoneinfo

    settings.CONSULT_TIME_ZONE = "America/New_York"
    zone = zoneinfo.ZoneInfo("America/New_York")
    at = datetime.datetime.fromisoformat(asked).replace(tzinfo=zone)
    expected = datetime.datetime.fromisoformat(due).replace(tzinfo=zone)
    assert due_at_compute(asked_at=at, tier=tier) == expected


def test_turnaround_follows_its_settings(settings):
    settings.CONSULT_TURNAROUND_FREE = 3
    settings.CONSULT_TIME_ZONE = "UTC"
    monday = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    assert due_at_compute(asked_at=monday, tier="free").date() == datetime.date(2026, 3, 5)


def test_a_consultation_only_overdue_while_waiting(db):
    past = timezone.now() - datetime.timedelta(hours=1)
    waiting = make_consultation(due_at=past)
    make_consultation(due_at=past, status="answered")
    assert list(Consultation.objects.overdue()) == [waiting]


def test_the_queue_keeps_to_a_query_budget(client, consultant, django_assert_max_num_queries):
    for n in range(15):
        make_consultation(subject=f"Question {n}")
    client.force_login(consultant)
    with django_assert_max_num_queries(8):
        response = client.get(QUEUE)
    assert response.content.decode().count("Claim<span") == 15
