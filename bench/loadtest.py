"""`make loadtest`: the site under load, faults and bad input, with production settings.

A throwaway Postgres cluster (so that it can be stopped) holds the demo content; gunicorn
serves the site with 2 sync workers on 127.0.0.1. In order:

1. rates: each page's rate at 16 connections as a share of a minimal Django view on the same
   gunicorn (measured before and after the pages, side by side in one run), with its p99;
2. mixed traffic at 64 connections for 60 s: no 5xx, no over-grant (meters equal unlocks),
   the p99, and each worker's memory after at least 10,000 requests;
3. the database stopped under load: 503s and `/healthz` down, recovery within 5 s, no unlock
   lost or counted twice — on the throwaway cluster, and again (step 6) on the project's
   embedded server in a data folder of its own;
4. the whole bad-input corpus (bench/_corpus.py) over HTTP: no 5xx;
5. the cookie-less sweep: rows left by 100,000 requests, before and after `prune_usage`;
6. step 3 again with the embedded server.

`make bench` runs step 1 only, shorter (`run()`); `python -m bench.loadtest` runs all.
Sizes can be lowered for a quick look: LOAD_SECONDS, RATE_SECONDS, SWEEP_REQUESTS,
CORPUS_SIZE=quick.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from bench._harness import (
    BASE_DIR,
    EmbeddedPostgres,
    Gunicorn,
    ThrowawayPostgres,
    production_env,
)
from bench._load import Run, fetch_sync, load

CONTENT_MARK = b'id="official"'
WORDS = ["injection", "lumbar", "office visit", "knee", "facet joint", "x-ray", "diabetes"]
PREFIXES = ["inj", "644", "992", "M54", "lum", "J11"]
ACCOUNTS = 80

SETUP_SCRIPT = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts import quota
from accounts.models import User
from codes.models import Code
codes = list(Code.objects.active().select_related("system").order_by("system__slug", "key"))
accounts = []
for n in range(ACCOUNTS):
    user = User.objects.create_user(email=f"load{n}@example.com", password=None)
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    read = codes[n % len(codes)]
    viewer = quota.viewer_for(user=user, session={}, meta={"REMOTE_ADDR": "127.0.0.1"})
    quota.admit(viewer=viewer, code_id=read.pk, consume=True)
    accounts.append({"user": user.pk, "cookie": f"sessionid={session.session_key}",
                     "read": read.get_absolute_url()})
print("SETUP" + json.dumps({
    "codes": {c.get_absolute_url(): c.pk for c in codes},
    "accounts": accounts,
}))
"""

BALANCE_SQL = """
SELECT
  (SELECT coalesce(sum(used), 0) FROM accounts_meter),
  (SELECT count(*) FROM accounts_unlock),
  (SELECT count(*) FROM accounts_meter m WHERE m.used <> (
     SELECT count(*) FROM accounts_unlock u
     WHERE u.subject = m.subject AND u.period_start = m.period_start)),
  (SELECT count(*) FROM accounts_meter WHERE subject LIKE 'g:%%' AND used > %(guest)s),
  (SELECT count(*) FROM accounts_meter WHERE subject LIKE 'u:%%' AND used > %(free)s)
"""


class Site:
    """The throwaway database, the production gunicorn and the data the plans use."""

    def __init__(self, *, quiet: bool = False, embedded: bool = False) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="casepilot-load-"))
        if embedded:  # the project's own server, found without DATABASE_URL
            self.cluster = EmbeddedPostgres()
            where = {"database_url": "", **self.cluster.env()}
        else:
            self.cluster = ThrowawayPostgres()
            self.cluster.start()
            self.cluster.create_database()
            where = {"database_url": self.cluster.url}
        self.env = production_env(
            **where,
            static_root=self.tmp / "static",
            DJANGO_SETTINGS_MODULE="bench._loadtest_settings",
            QUOTA_GUEST_UNLOCKS_PER_ADDRESS="1000000000",  # every client here is 127.0.0.1
        )
        for command in (
            ["migrate", "--noinput", "-v0"],
            ["createcachetable"],
            ["load_demo"],
            ["collectstatic", "--noinput", "-v0"],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=BASE_DIR,
                env=self.env,
                check=True,
                capture_output=quiet,
            )
        out = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                SETUP_SCRIPT.replace("ACCOUNTS", str(ACCOUNTS)),
            ],
            cwd=BASE_DIR,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        data = json.loads(out[out.index("SETUP") + 5 :])
        self.codes: dict[str, int] = data["codes"]
        self.code_paths = sorted(self.codes)
        self.accounts: list[dict] = data["accounts"]
        self.server = Gunicorn(env=self.env, workers=2, log=self.tmp / "gunicorn.log")
        self.port = self.server.port
        self.gated = [self._gated_guest(i) for i in range(20)]

    def _gated_guest(self, n: int) -> tuple[str, str]:
        """A guest cookie whose one view is spent, and a code page it is gated from."""
        first, other = self.code_paths[n % len(self.code_paths)], self.code_paths[-1 - n]
        status, _, headers = fetch_sync(self.port, first)
        assert status == 200, status
        cookie = headers["set-cookie"].split(";")[0]
        return cookie, other

    def sql(self, query: str, params: dict | None = None) -> tuple:
        import psycopg

        with psycopg.connect(self.cluster.url) as conn:
            return conn.execute(query, params or {}).fetchone()

    def close(self) -> None:
        self.server.stop()
        self.cluster.destroy()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- What clients ask for ---------------------------------------------------------------------


def page_plans(site: Site) -> dict:
    def floor(rng):
        return "floor", "GET", "/__floor/", {}

    def account_reread(rng):
        account = rng.choice(site.accounts)
        return "account re-read", "GET", account["read"], {"Cookie": account["cookie"]}

    def guest_first(rng):
        return "guest first view", "GET", rng.choice(site.code_paths), {}

    def gated(rng):
        cookie, path = rng.choice(site.gated)
        return "gated page", "GET", path, {"Cookie": cookie}

    def home(rng):
        return "home", "GET", "/", {}

    def search(rng):
        return "word search", "GET", "/search/?" + urlencode({"q": rng.choice(WORDS)}), {}

    def suggest(rng):
        return "suggest", "GET", f"/search/suggest/?q={quote(rng.choice(PREFIXES))}", {}

    def account_new(rng):
        # An account opening codes it has not read: spends views until its allowance is gone.
        account = rng.choice(site.accounts)
        return "account new page", "GET", rng.choice(site.code_paths), {"Cookie": account["cookie"]}

    return {
        "floor": floor,
        "account re-read": account_reread,
        "guest first view": guest_first,
        "gated page": gated,
        "home": home,
        "word search": search,
        "suggest": suggest,
        "account new page": account_new,
    }


def mixed_plan(plans: dict):
    weighted = [
        ("guest first view", 20),
        ("gated page", 15),
        ("account re-read", 30),
        ("account new page", 5),
        ("word search", 15),
        ("suggest", 10),
        ("home", 5),
    ]
    names = [name for name, weight in weighted for _ in range(weight)]

    def plan(rng):
        return plans[rng.choice(names)](rng)

    return plan


# --- The steps ----------------------------------------------------------------------------------

RATE_TARGETS = {
    "account re-read": 0.08,
    "guest first view": 0.15,
    "gated page": 0.15,
    "home": 0.3,
    "word search": 0.1,
}


def warm_up(site: Site) -> None:
    """Every page the plans ask for, a few times each, so that both workers hold its parts:
    the rates are then the steady state, not the first build of each part."""
    pages = [(path, {}) for path in site.code_paths]
    pages += [(a["read"], {"Cookie": a["cookie"]}) for a in site.accounts]
    pages += [(path, {"Cookie": cookie}) for cookie, path in site.gated]
    pages += [("/", {})] + [("/search/?" + urlencode({"q": word}), {}) for word in WORDS]
    for path, headers in pages:
        for _ in range(4):
            fetch_sync(site.port, path, headers)


def measure_rates(site: Site, *, seconds: float) -> dict[str, float]:
    plans = page_plans(site)
    warm_up(site)
    floors: list[float] = []
    rows = []
    for name in ["floor", *RATE_TARGETS, "suggest", "floor"]:
        load(port=site.port, plan=plans[name], connections=16, duration=2)  # unmeasured
        run = load(port=site.port, plan=plans[name], connections=16, duration=seconds)
        if name == "floor":
            floors.append(run.rate())
            continue
        rows.append((name, run.rate(), run.p99_ms(), run.server_errors()))
    floor = sum(floors) / len(floors)
    print(
        f"minimal view: {floors[0]:.0f} then {floors[1]:.0f} pages/s "
        f"(mean {floor:.0f}) at 16 connections"
    )
    print(f"{'page':<20} {'pages/s':>8} {'p99 ms':>8} {'ratio':>7} {'target':>7}  5xx")
    ratios = {}
    for name, rate, p99, errors in rows:
        ratio = rate / floor if floor else 0.0
        ratios[name] = ratio
        target = RATE_TARGETS.get(name)
        verdict = "" if target is None else ("met" if ratio >= target else "MISSED")
        shown = f"{target:.2f}×" if target else "—"
        print(f"{name:<20} {rate:8.0f} {p99:8.0f} {ratio:6.3f}× {shown:>7}  {errors}  {verdict}")
    return ratios


def worker_rss_mb(site: Site) -> list[float]:
    sizes = []
    for pid in site.server.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def balance(site: Site) -> tuple:
    allowances = {
        "guest": int(site.env.get("QUOTA_GUEST_VIEWS", "1")),
        "free": int(site.env.get("QUOTA_FREE_VIEWS", "6")),
    }
    return site.sql(BALANCE_SQL, allowances)


def unlocks_lost(site: Site, run: Run) -> int:
    """Account pages served with their content whose unlock is not in the database."""
    users = {a["cookie"]: a["user"] for a in site.accounts}
    served = {
        (users[r.cookie], site.codes[r.path])
        for r in run.of("account new page")
        if r.status == 200 and r.body_mark
    }
    import psycopg

    with psycopg.connect(site.cluster.url) as conn:
        recorded = set(conn.execute("SELECT user_id, code_id FROM accounts_unlock").fetchall())
    return len(served - recorded)


def mixed_load(site: Site, *, seconds: float) -> None:
    plan = mixed_plan(page_plans(site))
    run = load(port=site.port, plan=plan, connections=64, duration=seconds, mark=CONTENT_MARK)
    total, meters_sum, unlocks, mismatched, guests_over, accounts_over = (
        len(run.results),
        *balance(site),
    )
    print(
        f"{total} requests in {run.elapsed:.0f} s at 64 connections ({run.rate():.0f}/s), "
        f"p99 {run.p99_ms():.0f} ms, statuses {run.statuses()}"
    )
    for kind in sorted({r.kind for r in run.results}):
        print(
            f"  {kind:<18} {len(run.of(kind)):6d}  p99 {run.p99_ms(kind):5.0f} ms  "
            f"{run.statuses(kind)}"
        )
    print(f"5xx: {run.server_errors()}")
    print(
        f"meters sum {meters_sum} = unlocks {unlocks}: {meters_sum == unlocks}; meters not "
        f"matching their unlocks: {mismatched}; over-grants (guests > allowance: {guests_over}, "
        f"accounts > allowance: {accounts_over}); content served without its unlock: "
        f"{unlocks_lost(site, run)}"
    )
    print(
        "worker memory after",
        total,
        "requests:",
        ", ".join(f"{mb:.0f} MB" for mb in worker_rss_mb(site)),
    )


def outage(site: Site, *, seconds: float = 24, stop_at: float = 6, down_for: float = 5) -> None:
    plan = mixed_plan(page_plans(site))
    holder: dict[str, Run] = {}
    thread = threading.Thread(
        target=lambda: holder.setdefault(
            "run",
            load(port=site.port, plan=plan, connections=64, duration=seconds, mark=CONTENT_MARK),
        )
    )
    began = time.monotonic()
    thread.start()
    time.sleep(stop_at)
    site.cluster.stop()  # returns once the server is down (a fast shutdown takes a moment)
    stopped = time.monotonic() - began
    health_down = []
    while time.monotonic() - began < stop_at + down_for:
        status, body, _ = fetch_sync(site.port, "/healthz")
        health_down.append((status, body[:40]))
        time.sleep(0.25)
    site.cluster.start()
    restarted = time.monotonic() - began
    healthy_at = None
    while time.monotonic() - began < restarted + 30:
        status, _, _ = fetch_sync(site.port, "/healthz")
        if status == 200:
            healthy_at = time.monotonic() - began
            break
        time.sleep(0.05)
    thread.join()
    run = holder["run"]
    offset = run.began - began
    during = [r for r in run.results if stopped <= r.started + offset <= restarted]
    after = [r for r in run.results if r.started + offset > restarted]
    failing_after = [r.started + offset for r in after if r.status >= 500 or r.status == 0]
    last_failure = max(failing_after, default=restarted)
    statuses_during: dict[int, int] = {}
    for r in during:
        statuses_during[r.status] = statuses_during.get(r.status, 0) + 1
    other_5xx = sum(1 for r in run.results if r.status >= 500 and r.status != 503)
    meters_sum, unlocks, mismatched, guests_over, accounts_over = balance(site)
    print(
        f"database stopped at {stopped:.1f} s for {restarted - stopped:.1f} s, under 64 connections"
    )
    print(f"  statuses while down: {dict(sorted(statuses_during.items()))}")
    print(f"  /healthz while down: {sorted({s for s, _ in health_down})} ({health_down[-1][1]!r})")
    print(
        f"  /healthz up {healthy_at - restarted:.2f} s after the database was back; last failed "
        f"page {last_failure - restarted:.2f} s after"
        if healthy_at
        else "  /healthz never came back up"
    )
    print(f"  5xx other than 503 in the whole run: {other_5xx}; statuses {run.statuses()}")
    print(
        f"  meters sum {meters_sum} = unlocks {unlocks}: {meters_sum == unlocks}; mismatched "
        f"meters {mismatched}; over-grants {guests_over + accounts_over}; content served "
        f"without its unlock: {unlocks_lost(site, run)}"
    )


def bad_input(site: Site) -> None:
    import django

    from bench import _corpus

    os.environ.update(site.env)
    django.setup()
    status, body, headers = fetch_sync(site.port, "/accounts/login/")
    csrf = headers.get("set-cookie", "").split("csrftoken=")[1].split(";")[0]
    forms = []
    for path in ("/", "/cpt/64494/", "/search/?q=knee", "/accounts/login/", "/accounts/signup/"):
        _, html, _ = fetch_sync(site.port, path)
        forms += _corpus.forms_in(html.decode(), path.split("?")[0])
    probes = [
        *_corpus.url_probes(size=os.environ.get("CORPUS_SIZE", "whole")),
        *_corpus.cookie_probes(paths=["/", "/cpt/64494/", "/search/?q=knee", "/healthz"]),
        *_corpus.form_probes(forms=forms, size="whole"),
    ]
    queue = list(reversed(probes))
    lock = threading.Lock()

    def plan(rng):
        with lock:
            probe = queue.pop() if queue else None
        if probe is None:
            return "corpus", "GET", "/healthz", {}
        headers = {}
        cookies = {"csrftoken": csrf, **probe.cookies} if probe.method == "POST" else probe.cookies
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={quote(v, safe='')}" for k, v in cookies.items())
        if probe.method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if probe.body is not None:
                headers["__body__"] = probe.body.decode()
            else:
                data = dict(probe.data or {})
                data["csrfmiddlewaretoken"] = csrf if probe.csrf is None else probe.csrf
                headers["__body__"] = urlencode(data)
        return "corpus", probe.method, probe.path, headers

    started = time.monotonic()
    run = load(
        port=site.port,
        plan=plan,
        connections=16,
        duration=900,
        max_requests=len(probes),
        processes=1,
    )
    print(
        f"{len(probes)} hostile requests across {len(_corpus.pattern_templates())} URL patterns, "
        f"{len(forms)} forms in {time.monotonic() - started:.0f} s: statuses {run.statuses()}"
    )
    print(f"5xx: {run.server_errors()}")
    for r in [r for r in run.results if r.status >= 500][:10]:
        print("   ", r.status, r.path[:150])
    # By now each worker has served tens of thousands of requests (rates, load, outage, corpus).
    sizes = ", ".join(f"{mb:.0f} MB" for mb in worker_rss_mb(site))
    print(f"worker memory after the corpus (well past 10,000 requests each): {sizes}")


def sweep(site: Site, *, requests: int) -> None:
    """Cookie-less requests from one address with the default guest cap, as a script that
    clears its cookies would send them; rows left behind, then after `prune_usage`."""
    env = {**site.env}
    env.pop("QUOTA_GUEST_UNLOCKS_PER_ADDRESS")
    server = Gunicorn(env=env, workers=2, log=site.tmp / "gunicorn-sweep.log")
    tables = ("django_session", "accounts_meter", "accounts_unlock", "accounts_guestaddressuse")
    count_sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
    before = site.sql(count_sql)
    paths = site.code_paths

    def plan(rng):
        return "sweep", "GET", rng.choice(paths), {}

    run = load(port=server.port, plan=plan, connections=32, duration=1800, max_requests=requests)
    server.stop()
    after = site.sql(count_sql)
    subprocess.run(
        [sys.executable, "manage.py", "prune_usage"], cwd=BASE_DIR, env=site.env, check=True
    )
    pruned = site.sql(count_sql)
    print(
        f"{len(run.results)} cookie-less requests in {run.elapsed:.0f} s: statuses {run.statuses()}"
    )
    for name, b, a, p in zip(tables, before, after, pruned, strict=True):
        print(
            f"  {name:<26} before {b:6d}  after the sweep {a:6d} (+{a - b})  after pruning {p:6d}"
        )


def run() -> None:
    """`make bench`: the page rates as a share of the minimal view (shorter runs)."""
    site = Site(quiet=True)
    try:
        measure_rates(site, seconds=float(os.environ.get("RATE_SECONDS", "5")))
    finally:
        site.close()


def main() -> None:
    load_seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    rate_seconds = float(os.environ.get("RATE_SECONDS", "10"))
    sweep_requests = int(os.environ.get("SWEEP_REQUESTS", "100000"))
    print(f"load average before: {os.getloadavg()}")
    site = Site(quiet=True)
    try:
        print("\n=== rates (16 connections) ===")
        measure_rates(site, seconds=rate_seconds)
        print(f"\n=== mixed traffic ({load_seconds:.0f} s, 64 connections) ===")
        mixed_load(site, seconds=load_seconds)
        print("\n=== database stopped under load ===")
        outage(site)
        print("\n=== bad-input corpus ===")
        bad_input(site)
        print(f"\n=== cookie-less sweep ({sweep_requests} requests) ===")
        sweep(site, requests=sweep_requests)
    finally:
        site.close()
    print("\n=== database stopped under load: the embedded server (no DATABASE_URL) ===")
    site = Site(quiet=True, embedded=True)
    try:
        outage(site)
    finally:
        site.close()
        print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
