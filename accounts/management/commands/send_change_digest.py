"""`manage.py send_change_digest`: the weekly email of what new editions changed for each
account's favourites. Run it from cron (see README); running it more often sends nothing
twice: each account gets at most one digest a week."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.digest import digests_send_due


class Command(BaseCommand):
    help = "Queue the weekly change feed digest for each account with favourites (once a week)."

    def handle(self, *args: object, **options: object) -> None:
        run = digests_send_due()
        self.stdout.write(f"Accounts considered: {run.considered}; digests queued: {run.sent}.")
