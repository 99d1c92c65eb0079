"""Database sessions, created in a single INSERT.

Django's database store checks a new key for collisions with a SELECT, then inserts inside a
savepoint. A guest's first code page creates a session, so that path is on the hot page: here
one `INSERT … ON CONFLICT DO NOTHING` both creates the row and detects the (astronomically
unlikely) collision.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

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
