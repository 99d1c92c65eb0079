from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from careers.listing import FACETS, JobFilters, board_page, jobs_matching
from careers.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def listing(client, query: dict | None = None):
    """The list page for these filters, at its canonical address."""
    return client.get("/careers/", query or {}, follow=True)


def titles(response) -> list[str]:
    return [job.title for job in response.context["jobs"]]


def option_count(html: str, name: str, value: str) -> int | None:
    select = re.search(rf'<select id="careers-{name}" name="{name}">(.*?)</select>', html, re.S)
    assert select, name
    match = re.search(
        rf'<option value="{re.escape(value)}"[^>]*>[^<]*\((\d+)\)</option>', select[1]
    )
    return int(match[1]) if match else None


@pytest.fixture
def board() -> dict[str, Job]:
    today = timezone.localdate()
    return {
        "remote_cpc": make_job(title="Remote CPC coder", credentials_required=["CPC"]),
        "ohio_onsite": make_job(
            title="Ohio inpatient coder",
            arrangement="onsite",
            state="OH",
            setting="inpatient",
            credentials_required=["CCS"],
            pay_min=Decimal("60000"),
            pay_max=Decimal("70000"),
            pay_period="year",
            specialties=["cardiology"],
        ),
        "texas_hybrid": make_job(
            title="Texas hybrid auditor",
            arrangement="hybrid",
            onsite_days=2,
            state="TX",
            setting="auditing",
            credentials_required=["CPMA"],
            employment_type="contract",
            pay_min=Decimal("45"),
            pay_max=Decimal("50"),
            description="Audit anesthesia claims for compliance.",
        ),
        "apprentice": make_job(
            title="Apprentice coder",
            credentials_required=["CPC-A", "CPC"],
            experience_years=0,
            remote_states=["FL"],
            posted_at=timezone.now() - datetime.timedelta(days=10),
        ),
        "expired": make_job(
            title="Expired coder", valid_through=today - datetime.timedelta(days=1)
        ),
        "pending": make_job(title="Pending coder", status=Job.Status.PENDING, posted_at=None),
        "marked_expired": make_job(title="Marked expired coder", status=Job.Status.EXPIRED),
    }


def test_the_list_shows_open_published_jobs_newest_first_and_never_expired_ones(client, board):
    response = listing(client)
    assert response.status_code == 200
    assert titles(response) == [
        "Texas hybrid auditor",
        "Ohio inpatient coder",
        "Remote CPC coder",
        "Apprentice coder",
    ]
    html = response.content.decode()
    for hidden in ("Expired coder", "Pending coder", "Marked expired coder"):
        assert hidden not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"credential": "CCS"}, {"Ohio inpatient coder"}),
        ({"setting": "auditing"}, {"Texas hybrid auditor"}),
        ({"specialty": "cardiology"}, {"Ohio inpatient coder"}),
        ({"arrangement": "hybrid"}, {"Texas hybrid auditor"}),
        ({"type": "contract"}, {"Texas hybrid auditor"}),
        ({"cpc_a": "1"}, {"Apprentice coder"}),
        ({"posted": "7"}, {"Remote CPC coder", "Ohio inpatient coder", "Texas hybrid auditor"}),
        # hourly pay counts as 2,080 hours a year: $45 an hour is $93,600
        ({"min_pay": "80000"}, {"Texas hybrid auditor"}),
        # a remote job hires in its listed states only, or anywhere when none is listed
        ({"state": "OH"}, {"Ohio inpatient coder", "Remote CPC coder"}),
        ({"state": "FL"}, {"Remote CPC coder", "Apprentice coder"}),
        ({"state": "TX", "arrangement": "hybrid"}, {"Texas hybrid auditor"}),
    ],
)
def test_each_filter_selects_its_jobs(client, board, query, expected):
    assert set(titles(listing(client, query))) == expected


def test_each_filter_value_shows_how_many_jobs_it_would_give(client, board):
    html = listing(client, {"arrangement": "remote"}).content.decode()
    # Remote is chosen: the other arrangements count as if chosen instead of it.
    assert option_count(html, "arrangement", "remote") == 2
    assert option_count(html, "arrangement", "onsite") == 1
    assert option_count(html, "arrangement", "hybrid") == 1
    # Other filters count within the remote jobs.
    assert option_count(html, "credential", "CPC") == 2
    assert option_count(html, "credential", "CCS") is None  # no remote CCS job: not offered
    assert "CPC-A welcome (1)" in html


@pytest.mark.parametrize("chosen", [{}, {"state": "OH"}, {"arrangement": "remote", "q": "coder"}])
def test_every_count_matches_the_same_filters_run_in_sql(board, chosen):
    filters = JobFilters.from_query(chosen)
    page = board_page(filters, page=1, per_page=50)
    assert page.total == jobs_matching(filters).count()
    assert page.job_ids == list(jobs_matching(filters).values_list("pk", flat=True))
    for group in page.facets:
        for value, _label, count in group.options:
            other = JobFilters.from_query({**chosen, **filters.values, group.facet.name: value})
            assert count == jobs_matching(other).count(), (group.facet.name, value)
    assert len(page.facets) == len(FACETS)


def test_the_list_follows_a_change_to_the_board_at_once(client, board):
    assert len(listing(client).context["jobs"]) == 4
    board["remote_cpc"].status = Job.Status.EXPIRED
    board["remote_cpc"].save()
    assert "Remote CPC coder" not in titles(listing(client))
    Job.objects.expire_due(today=timezone.localdate() + datetime.timedelta(days=365))
    assert titles(listing(client)) == []


def test_full_text_search_covers_title_employer_and_description(client, board):
    assert titles(listing(client, {"q": "anesthesia claims"})) == ["Texas hybrid auditor"]
    assert titles(listing(client, {"q": "inpatient"})) == ["Ohio inpatient coder"]
    make_job(title="Coder", employer_name="Bluebonnet Billing")
    assert titles(listing(client, {"q": "bluebonnet"})) == ["Coder"]
    assert titles(listing(client, {"q": "nothing-like-this"})) == []


def test_sorting_by_pay_puts_the_best_paid_first(client, board):
    assert titles(listing(client, {"sort": "pay"}))[:2] == [
        "Texas hybrid auditor",
        "Ohio inpatient coder",
    ]


def test_filters_live_in_a_shareable_url_and_pages_keep_them(client, board, settings):
    settings.CAREERS_JOBS_PER_PAGE = 1
    response = client.get("/careers/?state=OH&sort=pay")
    assert response.context["pages"] == 2
    assert 'href="?state=OH&amp;sort=pay&amp;page=2"' in response.content.decode()
    second = client.get("/careers/?state=OH&sort=pay&page=2")
    assert titles(second) == ["Remote CPC coder"]
    assert client.get("/careers/?state=OH&page=3").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"credential": "XYZ"},
        {"state": "ZZ", "min_pay": "-5", "posted": "abc", "sort": "cheapest"},
        {"page": "abc"},
        {"page": "99999999999999999999"},
        {"q": "coder\x00"},
        {"q": "x" * 5000},
        {"q": "!!! & | ( ) :*"},
        {"cpc_a": "yes"},
    ],
)
def test_nonsensical_filters_are_ignored_never_an_error(client, board, query):
    response = client.get("/careers/", query, follow=True)
    assert response.status_code == 200
    assert len(response.redirect_chain) <= 1


def test_a_nonsensical_filter_value_lists_jobs_as_if_it_were_absent(client, board):
    response = client.get("/careers/", {"credential": "XYZ", "state": "OH"})
    assert response.status_code == 302 and response["Location"] == "/careers/?state=OH"


def test_the_filter_form_lands_on_a_short_shareable_address(client, board):
    form = {"q": "", "credential": "CPC", "setting": "", "state": "OH", "sort": "newest"}
    response = client.get("/careers/", form)
    assert response["Location"] == "/careers/?credential=CPC&state=OH"
    assert client.get("/careers/", {"q": "", "sort": "newest"})["Location"] == "/careers/"


def test_the_list_page_runs_a_fixed_number_of_queries(client, board, django_assert_num_queries):
    for n in range(15):
        make_job(title=f"Extra coder {n}")
    client.get("/careers/")  # builds the index of listed jobs once
    with django_assert_num_queries(1):  # the board's version: counts and page come from the index
        assert client.get("/careers/?credential=CPC&state=OH").status_code == 200
    with django_assert_num_queries(2):  # and the full-text search
        assert client.get("/careers/?q=coder&credential=CPC&state=OH").status_code == 200
    with django_assert_num_queries(1):  # the same search again, until the board changes
        assert client.get("/careers/?q=coder&credential=CPC").status_code == 200


def test_a_member_sees_which_listed_jobs_are_saved_in_one_more_query(
    client, board, coder, django_assert_max_num_queries
):
    from careers.models import SavedJob

    SavedJob.objects.create(user=coder, job=board["remote_cpc"])
    client.force_login(coder)
    listing(client)
    with django_assert_max_num_queries(4):  # session, user, version, saved
        html = listing(client).content.decode()
    assert "· Saved" in html
