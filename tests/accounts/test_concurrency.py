"""N parallel requests against k remaining views unlock exactly min(N, k) pages — across
threads, and across separate server processes sharing one Postgres."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from accounts import quota
from accounts.models import Meter, Unlock
from codes.models import Code
from tests.factories import make_code, make_group, make_system, make_user

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def twenty_codes() -> list[Code]:
    cpt = make_system("cpt")
    group = make_group(cpt, title="Many", code_from="10000", code_to="10019")
    return [make_code(f"100{n:02d}", system=cpt, group=group) for n in range(20)]


def _admit_in_thread(viewer: quota.Viewer, code_id: int) -> bool:
    try:
        return quota.admit(viewer=viewer, code_id=code_id, consume=True).newly_unlocked
    finally:
        connections.close_all()


def test_parallel_threads_unlock_exactly_what_is_left(twenty_codes):
    user = make_user()
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "127.0.0.1"})
    # two views already spent: k = 4 left, N = 20 requests for different codes
    for code in twenty_codes[:2]:
        quota.admit(viewer=viewer, code_id=code.pk, consume=True)
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda c: _admit_in_thread(viewer, c.pk), twenty_codes[2:]))
    assert sum(results) == 4
    assert Meter.objects.get(subject=viewer.subject).used == 6
    assert Unlock.objects.filter(subject=viewer.subject).count() == 6


def test_parallel_requests_for_the_same_code_spend_one_view(twenty_codes):
    user = make_user()
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "127.0.0.1"})
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda _: _admit_in_thread(viewer, twenty_codes[0].pk), range(10)))
    assert Meter.objects.get(subject=viewer.subject).used == 1
    assert Unlock.objects.filter(subject=viewer.subject).count() == 1


def test_parallel_guest_requests_respect_the_guest_allowance(twenty_codes):
    viewer = quota.Viewer(
        kind="guest", subject="g:threaded", allowance=1, user_id=None, address="192.0.2.1"
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: _admit_in_thread(viewer, c.pk), twenty_codes[:8]))
    assert sum(results) == 1
    assert Meter.objects.get(subject="g:threaded").used == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"]
    if host.startswith("/"):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{host}{port}/{db['NAME']}"


@pytest.fixture
def two_servers(tmp_path):
    """Two gunicorn servers, separate processes, on the test database, serving production
    static files (collected with their manifest, as in a deployment)."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_CONN_MAX_AGE": "0",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    log = (tmp_path / "servers.log").open("wb")
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--log-level",
                "warning",
                "casepilot.wsgi",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=log,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError((tmp_path / "servers.log").read_text())
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/robots-probe/", timeout=2)
                except urllib.error.HTTPError:
                    break  # the server answered (a 404 is an answer)
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        log.close()


def _fetch(url: str, cookie: str) -> bool:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return "Official descriptor of" in response.read().decode()


def test_two_server_processes_unlock_exactly_what_is_left(two_servers, twenty_codes):
    user = make_user()
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    urls = [f"{two_servers[i % 2]}{code.get_absolute_url()}" for i, code in enumerate(twenty_codes)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda url: _fetch(url, cookie), urls))
    assert sum(results) == 6  # a free verified account: 6 in all, N = 20
    assert Meter.objects.get(user=user).used == 6
    assert Unlock.objects.filter(user=user).count() == 6


def test_parallel_requests_of_one_guest_session_share_one_allowance(live_server, twenty_codes):
    from django.contrib.sessions.backends.db import SessionStore

    # A session that exists but has never unlocked anything: e.g. one that just signed up.
    session = SessionStore()
    session["visited"] = True
    session.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    urls = [f"{live_server.url}{code.get_absolute_url()}" for code in twenty_codes[:8]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda url: _fetch(url, cookie), urls))
    assert sum(results) == 1
    assert Meter.objects.count() == 1
    assert Meter.objects.get().used == 1
