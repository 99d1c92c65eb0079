"""`manage.py prune_usage`: keep the metering tables and sessions from growing without end.

Run it daily from cron (see README). It deletes meters and unlocks of past periods, guest
address counts of past days and expired sessions; the current period is never touched.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.quota import usage_prune


class Command(BaseCommand):
    help = "Delete meters and unlocks of past periods, old address counts and expired sessions."

    def handle(self, *args: object, **options: object) -> None:
        deleted = usage_prune()
        summary = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in deleted.items())
        self.stdout.write(f"Pruned {summary}.")
