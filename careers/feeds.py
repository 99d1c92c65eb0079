"""An Atom feed of the newest listed jobs."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from careers.markdown import markdown_plain
from careers.models import Job

FEED_ITEMS = 50
SUMMARY_CHARS = 400


class NewJobsFeed(Feed):
    feed_type = Atom1Feed
    title = "CasePilot CareerCenter: new medical coding jobs"
    subtitle = "Medical coding jobs reviewed by CasePilot staff, newest first."

    def link(self) -> str:
        return f"{settings.SITE_URL}/careers/"

    def items(self):
        return Job.objects.live().order_by("-posted_at", "-id")[:FEED_ITEMS]

    def item_title(self, job: Job) -> str:
        prefix = "Example listing: " if job.is_example else ""
        return f"{prefix}{job.title} — {job.employer_name} ({job.arrangement_text})"

    def item_description(self, job: Job) -> str:
        text = markdown_plain(job.description)
        if len(text) > SUMMARY_CHARS:
            text = text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"
        return f"{job.pay_text}. {text}"

    def item_link(self, job: Job) -> str:
        return f"{settings.SITE_URL}{job.get_absolute_url()}"

    def item_pubdate(self, job: Job) -> datetime.datetime | None:
        return job.posted_at

    def item_updateddate(self, job: Job) -> datetime.datetime:
        return job.updated_at

    def item_guid(self, job: Job) -> str:
        return self.item_link(job)
