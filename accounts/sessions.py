"""Database sessions, created in a single INSERT and read in one plain SELECT.

Django's database store checks a new key for collisions with a SELECT, then inserts inside a
savepoint. A guest's first code page creates a session, so that path is on the hot page: here
one `INSERT … ON CONFLICT DO NOTHING` both creates the row and detects the (astronomically
unlikely) collision.

Every signed-in page reads its session first. The ORM spends several times longer building
that one-row SELECT than Postgres spends answering it, so it is written out here.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def load(self) -> dict:
        """The session's data, or an empty session (and no key) when it is unknown or expired,
        as Django's database store does."""
        key = self.session_key
        row = None
        if "\x00" not in key:  # Postgres text cannot hold NUL: no stored key has one
            model = self.model
            with connections[router.db_for_read(model)].cursor() as cursor:
                cursor.execute(
                    f"SELECT session_data FROM {model._meta.db_table} "
                    "WHERE session_key = %s AND expire_date > %s",
                    [key, timezone.now()],
                )
                row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])

    def save(self, must_create: bool = False) -> None:
        if not must_create:
            return super().save(must_create=False)
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        model = self.model
        using = router.db_for_write(model, instance=obj)
        table = model._meta.db_table
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (session_key, session_data, expire_date) "
                "VALUES (%s, %s, %s) ON CONFLICT (session_key) DO NOTHING RETURNING 1",
                [obj.session_key, obj.session_data, obj.expire_date],
            )
            if cursor.fetchone() is None:
                raise CreateError
