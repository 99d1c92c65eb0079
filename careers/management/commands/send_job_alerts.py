from django.core.management.base import BaseCommand

from careers.alerts import alerts_send_due


class Command(BaseCommand):
    help = (
        "Queue the daily digest of new matching jobs for each job alert (at most one a day per "
        "alert) and mark jobs past their valid-through date as expired. Run it daily (cron)."
    )

    def handle(self, *args, **options) -> None:
        run = alerts_send_due()
        self.stdout.write(
            f"Alerts considered: {run.considered}; digests queued: {run.sent}; "
            f"jobs expired: {run.expired_jobs}."
        )
