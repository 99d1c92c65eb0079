"""Project-wide guarantees: migrations, production settings, security headers, embedded DB."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from casepilot import embedded_db

BASE_DIR = Path(settings.BASE_DIR)


def run_manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def production_env(**extra: str) -> dict[str, str]:
    dev_only = {"DEBUG", "HTTPS", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dev_only}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="casepilot.example.com",
        CSRF_TRUSTED_ORIGINS="https://casepilot.example.com",
        SITE_URL="https://casepilot.example.com",
        **extra,
    )
    return env


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", ["SECRET_KEY", "SITE_URL"])
def test_a_missing_required_setting_outside_debug_is_an_error(name):
    env = production_env()
    del env[name]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr


def test_bad_setting_values_are_named_in_the_error():
    result = run_manage("check", env=production_env(QUOTA_FREE_VIEWS="six"))
    assert result.returncode != 0
    assert "QUOTA_FREE_VIEWS must be a whole number" in result.stderr


def test_collectstatic_builds_the_production_manifest(tmp_path):
    result = run_manage(
        "collectstatic", "--noinput", "-v0", env=production_env(STATIC_ROOT=str(tmp_path))
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", manifest["paths"]["css/site.css"])


@pytest.mark.django_db
def test_every_response_carries_a_csp_without_unsafe_inline(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/cpt/64494/", "/no/such-page/", "/accounts/login/"])
def test_every_response_carries_the_privacy_and_isolation_headers(client, facet_family, path):
    response = client.get(path)
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions and "geolocation=()" in permissions


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style(client, facet_family):
    for path in (
        "/",
        "/cpt/",
        "/cpt/64494/",
        "/cpt/64493/",
        "/accounts/signup/",
        "/accounts/login/",
        "/cpt/99999/",
        "/claim-check/",
    ):
        html = client.get(path).content.decode()
        assert not re.search(
            r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>", html
        ), path
        assert " style=" not in html and "<style" not in html, path


def test_handle_list_is_repaired_when_empty_or_broken(tmp_path):
    pids = tmp_path / ".handle_pids.json"
    pids.write_text("")
    assert embedded_db.repair_handle_pids(tmp_path) == []
    assert json.loads(pids.read_text()) == []
    pids.write_text("[12")
    assert embedded_db.repair_handle_pids(tmp_path) == []
    dead = 2**22 + 12345  # above the kernel's pid limit: never alive
    pids.write_text(json.dumps([os.getpid(), dead]))
    assert embedded_db.repair_handle_pids(tmp_path) == [os.getpid()]


def test_embedded_server_recovers_after_a_killed_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CASEPILOT_DATA_DIR=str(tmp_path), EMBEDDED_DB_NAME="recovery")
    holder = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            "import time; print('up', flush=True); time.sleep(120)",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "up"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        handle = tmp_path / "postgres" / ".handle_pids.json"
        assert str(holder.pid) in handle.read_text()  # the killed process never left
        handle.write_text("")  # and an interrupted write can leave it empty
        result = run_manage("migrate", "--noinput", "-v0", env=env, timeout=180)
        assert result.returncode == 0, result.stderr
        # the last process out stopped the server: no handle is left behind
        assert json.loads(handle.read_text() or "[]") == []
    finally:
        if holder.poll() is None:
            holder.kill()
        deadline = time.monotonic() + 10
        while (tmp_path / "postgres" / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)


def redis_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_reachable(), reason="no Redis server on 127.0.0.1:6379")
def test_redis_url_switches_the_shared_cache_to_redis():
    script = (
        "from django.core.cache import caches; cache = caches['default']; "
        "cache.set('probe', 'shared', 30); "
        "print(type(cache).__name__, cache.get('probe'))"
    )
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env=production_env(REDIS_URL="redis://127.0.0.1:6379/15"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RedisCache", "shared"]


@pytest.mark.django_db
def test_without_redis_the_cache_is_the_shared_postgres_table():
    from django.core.cache import cache
    from django.db import connection

    cache.set("probe", "shared", 30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM casepilot_cache")
        assert cursor.fetchone()[0] >= 1


def test_a_worker_keeps_what_it_imported_out_of_the_garbage_collectors_walks():
    # gunicorn imports casepilot.wsgi in each worker: what that import made lives as long as
    # the worker, and a full collection that walked it would hold up requests.
    result = subprocess.run(
        [sys.executable, "-c", "import gc, casepilot.wsgi; print(gc.get_freeze_count())"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 20_000
