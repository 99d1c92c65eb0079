from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from careers.listing import JobFilters, jobs_counts
from careers.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


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
    response = client.get("/careers/")
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
    assert set(titles(client.get("/careers/", query))) == expected


def test_each_filter_value_shows_how_many_jobs_it_would_give(client, board):
    html = client.get("/careers/", {"arrangement": "remote"}).content.decode()
    # Remote is chosen: the other arrangements count as if chosen instead of it.
    assert option_count(html, "arrangement", "remote") == 2
    assert option_count(html, "arrangement", "onsite") == 1
    assert option_count(html, "arrangement", "hybrid") == 1
    # Other filters count within the remote jobs.
    assert option_count(html, "credential", "CPC") == 2
    assert option_count(html, "credential", "CCS") is None  # no remote CCS job: not offered
    assert "CPC-A welcome (1)" in html


def test_counts_match_what_choosing_the_value_gives(board):
    filters = JobFilters.from_query({"state": "OH"})
    total, facets = jobs_counts(filters)
    assert total == 2
    for group in facets:
        for value, _label, count in group.options:
            chosen = JobFilters.from_query({**filters.values, group.facet.name: value})
            assert count == jobs_counts(chosen)[0], (group.facet.name, value)


def test_full_text_search_covers_title_employer_and_description(client, board):
    assert titles(client.get("/careers/", {"q": "anesthesia claims"})) == ["Texas hybrid auditor"]
    assert titles(client.get("/careers/", {"q": "inpatient"})) == ["Ohio inpatient coder"]
    make_job(title="Coder", employer_name="Bluebonnet Billing")
    assert titles(client.get("/careers/", {"q": "bluebonnet"})) == ["Coder"]
    assert titles(client.get("/careers/", {"q": "nothing-like-this"})) == []


def test_sorting_by_pay_puts_the_best_paid_first(client, board):
    assert titles(client.get("/careers/", {"sort": "pay"}))[:2] == [
        "Texas hybrid auditor",
        "Ohio inpatient coder",
    ]


def test_filters_live_in_a_shareable_url_and_pages_keep_them(client, board, settings):
    settings.CAREERS_JOBS_PER_PAGE = 1
    response = client.get("/careers/", {"state": "OH", "sort": "pay", "junk": "x"})
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
    response = client.get("/careers/", query)
    assert response.status_code == 200


def test_a_nonsensical_filter_value_lists_jobs_as_if_it_were_absent(client, board):
    assert titles(client.get("/careers/", {"credential": "XYZ"})) == titles(client.get("/careers/"))


def test_the_list_page_runs_a_fixed_number_of_queries(client, board, django_assert_num_queries):
    for n in range(15):
        make_job(title=f"Extra coder {n}")
    with django_assert_num_queries(2):  # counts and total; the page of jobs
        client.get("/careers/", {"credential": "CPC", "state": "OH", "q": "coder"})


def test_a_member_sees_which_listed_jobs_are_saved_in_one_more_query(
    client, board, coder, django_assert_max_num_queries
):
    from careers.models import SavedJob

    SavedJob.objects.create(user=coder, job=board["remote_cpc"])
    client.force_login(coder)
    with django_assert_max_num_queries(5):  # session, user, counts, jobs, saved
        html = client.get("/careers/").content.decode()
    assert "· Saved" in html
