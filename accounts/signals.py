from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts import quota
from accounts.models import User


@receiver(user_logged_in)
def carry_guest_unlocks(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        quota.guest_merge_into_account(session=request.session, user=user)


def _sync_verified(user_id: int) -> None:
    verified = EmailAddress.objects.filter(user_id=user_id, verified=True).exists()
    User.objects.filter(pk=user_id).exclude(email_verified=verified).update(email_verified=verified)


@receiver(email_confirmed)
def mark_verified(sender, request, email_address, **kwargs) -> None:
    _sync_verified(email_address.user_id)


@receiver(post_save, sender=EmailAddress)
@receiver(post_delete, sender=EmailAddress)
def keep_verified_in_step(sender, instance: EmailAddress, **kwargs) -> None:
    _sync_verified(instance.user_id)
