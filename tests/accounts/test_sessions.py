"""accounts.sessions: the database session store, created in one INSERT and read in one
SELECT, behaving as Django's own."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _stored(**data) -> str:
    session = SessionStore()
    session.update(data)
    session.create()
    return session.session_key


def test_a_stored_session_reads_back_its_data():
    key = _stored(quota_guest="abc", payment_locality="national")
    session = SessionStore(key)
    assert session["quota_guest"] == "abc" and session["payment_locality"] == "national"
    assert session.session_key == key


def test_an_expired_session_reads_as_empty_and_gets_a_new_key_when_saved():
    key = _stored(quota_guest="abc")
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    session = SessionStore(key)
    assert session.get("quota_guest") is None
    assert session.session_key is None
    session["x"] = 1
    session.save()
    assert session.session_key not in {None, key}


@pytest.mark.parametrize("key", ["unknown-key-0123456789", "\x00" * 20, "abc\x00defghijkl"])
def test_an_unknown_or_impossible_key_reads_as_empty(key):
    session = SessionStore(key)
    assert dict(session.items()) == {}
    assert session.session_key is None
