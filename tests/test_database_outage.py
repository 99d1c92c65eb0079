"""The site while its database is gone: a friendly 503, `/healthz` down, and recovery on its
own once the database is back. Run both ways the project finds its database: an external
server (a throwaway cluster named by DATABASE_URL) and the embedded one (no DATABASE_URL, a
data folder of its own), each under a production gunicorn; the shared database server is never
stopped."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from bench._harness import (
    EmbeddedPostgres,
    Gunicorn,
    ThrowawayPostgres,
    manage,
    production_env,
)

RECOVERY_SECONDS = 5


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _external(tmp):
    cluster = ThrowawayPostgres()
    cluster.start()
    cluster.create_database()
    return cluster, production_env(database_url=cluster.url, static_root=tmp / "static")


def _embedded(tmp):
    server = EmbeddedPostgres()
    return server, production_env(database_url="", static_root=tmp / "static", **server.env())


@pytest.fixture(scope="module", params=[_external, _embedded], ids=["external", "embedded"])
def outage_site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outage")
    cluster, env = None, None
    try:
        cluster, env = request.param(tmp)
        manage("migrate", "--noinput", "-v0", env=env)
        manage("createcachetable", env=env)
        manage("collectstatic", "--noinput", "-v0", env=env)
        server = Gunicorn(env=env, workers=2, log=tmp / "gunicorn.log")
        try:
            yield cluster, server
        finally:
            server.stop()
    finally:
        if cluster is not None:
            cluster.destroy()


def test_a_stopped_database_gives_a_friendly_503_and_the_site_recovers_by_itself(outage_site):
    cluster, server = outage_site
    for _ in range(4):  # both workers hold a live, persistent connection
        assert _get(f"{server.url}/")[0] == 200
    assert json.loads(_get(f"{server.url}/healthz")[1])["database"] == "up"

    cluster.stop()
    for path in ("/", "/cpt/", "/search/?q=knee", "/cpt/64494/"):
        for _ in range(2):
            status, body = _get(f"{server.url}{path}")
            assert status == 503, (path, status)
            assert "back in a moment" in body and "Traceback" not in body
    status, body = _get(f"{server.url}/healthz")
    assert status == 503 and json.loads(body)["database"] == "down"

    cluster.start()
    started = time.monotonic()
    statuses: list[int] = []
    while time.monotonic() - started < RECOVERY_SECONDS:
        statuses = [_get(f"{server.url}/")[0] for _ in range(4)]
        if statuses == [200] * 4:
            break
        time.sleep(0.1)
    assert statuses == [200] * 4, statuses
    assert json.loads(_get(f"{server.url}/healthz")[1])["database"] == "up"


def test_healthz_says_the_database_is_up_and_is_never_cached(outage_site):
    _, server = outage_site
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
        assert json.loads(response.read()) == {"status": "ok", "database": "up"}
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers.get("Set-Cookie") is None
