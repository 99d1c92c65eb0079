"""Sending mail from templates, through the project's mail queue.

`EMAIL_BACKEND` is django-mailer's queue (settings), so `mail_send` only writes a row; the
queue worker delivers it. Inside a transaction, the mail is queued only if the transaction
commits — a rolled-back action sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def mail_send(
    *,
    to: str,
    template: str,
    context: Mapping[str, object],
    headers: Mapping[str, str] | None = None,
    html: bool = False,
) -> None:
    """Queue one mail from `<template>_subject.txt` and `<template>_message.txt`, with
    `<template>_message.html` as its HTML alternative when `html` is set."""
    context = {"SITE_URL": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_message.txt", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=dict(headers or {}),
    )
    if html:
        message.attach_alternative(
            render_to_string(f"{template}_message.html", context), "text/html"
        )
    message.send()
