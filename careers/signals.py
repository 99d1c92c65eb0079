from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from careers.listing import board_changed
from careers.models import Job


@receiver(post_save, sender=Job)
@receiver(post_delete, sender=Job)
def job_changed(sender, **kwargs) -> None:
    # Now, for this connection (and, with the database cache, for everyone at commit); and
    # again at commit, for a cache outside the database that others would read before it.
    board_changed()
    transaction.on_commit(board_changed)
