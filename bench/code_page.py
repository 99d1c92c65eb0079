"""The code page, the product's hot path: server time and SQL queries per request.

Measured in-process through Django's test client (no network), on the demo content, for a
guest's first view, a re-view, the gate, and an account's full page with all sections.
"""

from __future__ import annotations

import statistics
import time
import uuid

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import User
from codes.demo import load_demo

ROUNDS = 200


def _measure(label: str, make_request) -> None:
    timings = []
    queries = 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = make_request()
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<34} median {statistics.median(timings):6.2f} ms   p95 {p95:6.2f} ms   "
        f"{queries:2d} queries"
    )


def run() -> None:
    load_demo()
    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        SECURE_SSL_REDIRECT=False,
        QUOTA_GUEST_UNLOCKS_PER_ADDRESS=10**9,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        _measure("guest, first view (new session)", lambda: Client().get("/cpt/64494/"))

        guest = Client()
        guest.get("/cpt/64494/")
        _measure("guest, re-view", lambda: guest.get("/cpt/64494/"))
        _measure("guest, gate (no view left)", lambda: guest.get("/cpt/64493/"))

        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        user = User.objects.create_user(email=email, password=None, is_staff=True)
        account = Client()
        account.force_login(user)
        account.get("/cpt/64494/")
        _measure("account, full page with sections", lambda: account.get("/cpt/64494/"))
        user.delete()
