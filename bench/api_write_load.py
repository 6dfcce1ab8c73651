"""Ticket creation over HTTP, Deskloop's API against django-helpdesk's, both behind gunicorn on one machine.

    export DATABASE_URL=$(scripts/pg-throwaway start 54414)
    .venv/bin/python bench/api_write_load.py                      # small, a few minutes
    .venv/bin/python bench/api_write_load.py --tickets 100000     # the full figure

What it does, bounded in time and count, on loopback only:

1. installs django-helpdesk (``--helpdesk-version``, 2.6.1) with gunicorn into its own virtual environment under
   the var directory, and writes a minimal Django project for it: its DRF API (``POST /helpdesk/api/tickets/``
   with DRF token auth, one indexed lookup like Deskloop's bearer token), its own notification email to the
   console backend (into the peer's gunicorn log), ``CONN_MAX_AGE`` 60 like Deskloop's;
2. gives each product its own database on the cluster of DATABASE_URL (``<name>_peer`` and ``<name>_load``,
   dropped and created again), migrates it, makes a workspace or queue, an API token, and preloads ``--tickets``
   tickets in both (Deskloop: ``bench/generate.py``; the peer: bulk-inserted tickets with one follow-up each);
3. starts each behind gunicorn, 2 sync workers, on a loopback port, and drives it: ``--sequential`` creates from
   one client (p50/p95), then ``--concurrent`` creates from ``--clients`` threads (tickets/s), each request a new
   connection (sync workers close it). The targets take turns in ``--rounds`` rounds of each phase, so a change
   in the shared machine's load falls on all of them; every turn is bounded by ``--max-seconds``;
4. prints both and the ratios, and counts the ERROR lines PostgreSQL logged during each product's run.

``--also-deskloop-src DIR`` measures another Deskloop tree as a third target in the same run (e.g. the commit
before a change: ``git worktree add /tmp/before <commit>``), on its own database migrated by that tree.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

PEER_SETTINGS = """
import os
SECRET_KEY = "helpdesk-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware", "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware", "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB_NAME"],
                         "USER": os.environ["PEER_DB_USER"], "PASSWORD": os.environ["PEER_DB_PASSWORD"],
                         "HOST": os.environ["PEER_DB_HOST"], "PORT": os.environ["PEER_DB_PORT"],
                         "CONN_MAX_AGE": 60}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ["PEER_MEDIA_ROOT"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_API_ENABLED = True
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]}
"""

PEER_URLS = """
from django.urls import include, path
urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""

PEER_WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

# Run with the peer's python inside its project directory: a superuser, a DRF token, a queue, N tickets.
PEER_SETUP = """
import os, sys, random, datetime as dt
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue, Ticket, FollowUp
tickets = int(sys.argv[1])
user, _ = get_user_model().objects.get_or_create(
    username="bench", defaults={"email": "bench@example.com", "is_staff": True, "is_superuser": True})
token, _ = Token.objects.get_or_create(user=user)
queue, _ = Queue.objects.get_or_create(slug="support", defaults={"title": "Support", "email_address": "support@example.com"})
rng = random.Random(7)
now = timezone.now()
batch = 2000
for start in range(0, tickets, batch):
    rows = [Ticket(title=f"Preloaded ticket {i}: card payment declined", queue=queue,
                   created=now - dt.timedelta(minutes=rng.randint(0, 1_000_000)),
                   submitter_email=f"customer{i % 5000}@example.com",
                   description="Hello, my card payment was declined although I have enough money.",
                   priority=3, status=rng.choice([1, 2, 3, 4]))
            for i in range(start, min(tickets, start + batch))]
    made = Ticket.objects.bulk_create(rows)
    FollowUp.objects.bulk_create(FollowUp(ticket=t, title=t.title, comment=t.description, date=t.created, public=True)
                                 for t in made)
print(f"TOKEN={token.key} QUEUE={queue.pk}")
"""

# Run with Deskloop's python and its DATABASE_URL: a workspace of N tickets (bench/generate.py) and a token.
DESKLOOP_SETUP = """
import sys
sys.path.insert(0, sys.argv[2])
from bench.common import setup_django
setup_django()
from bench.bench_context import BenchContext
from deskloop.accounts.services import create_api_token
context = BenchContext.load("load")
_token, secret = create_api_token(agent=context.agent, name="load benchmark")
print(f"TOKEN={secret} EMAILS={','.join(context.contact_emails[:200])}")
"""


@dataclass
class Target:
    name: str
    port: int
    path: str
    headers: dict[str, str]
    body: Callable[[int], dict[str, object]]
    command: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    counter: Iterator[int] = field(default_factory=itertools.count)
    results: dict[str, object] = field(default_factory=dict)


def run(cmd: list[str], **kwargs: object) -> str:
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603
    return str(done.stdout)


def database_url(base: str, name: str) -> str:
    return urlunparse(urlparse(base)._replace(path="/" + name))


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure_peer_venv(var: Path, version: str) -> Path:
    venv = var / f"helpdesk-{version}-venv"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        print(f"installing django-helpdesk {version} into {venv} ...", flush=True)
        run([sys.executable, "-m", "venv", str(venv)])
        packages = [f"django-helpdesk=={version}", "psycopg[binary]", "gunicorn"]
        run([str(python), "-m", "pip", "install", "--quiet", *packages])
        marker.touch()
    return python


def peer_project(var: Path, version: str, base_url: str, peer_db: str) -> tuple[Path, Path, dict[str, str]]:
    """django-helpdesk ``version`` in its own venv and a minimal project for it on a new database ``peer_db`` of the
    cluster of ``base_url``, migrated: (its python, the project directory, the environment to run it with)."""
    python = ensure_peer_venv(var, version)
    project = var / "helpdesk-project"
    project.mkdir(exist_ok=True)
    (project / "media").mkdir(exist_ok=True)
    (project / "peer_settings.py").write_text(textwrap.dedent(PEER_SETTINGS))
    (project / "peer_urls.py").write_text(textwrap.dedent(PEER_URLS))
    (project / "peer_wsgi.py").write_text(textwrap.dedent(PEER_WSGI))
    recreate_database(base_url, peer_db)
    parsed = urlparse(base_url)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}},
        "PEER_DB_NAME": peer_db,
        "PEER_DB_USER": parsed.username or "",
        "PEER_DB_PASSWORD": parsed.password or "",
        "PEER_DB_HOST": parsed.hostname or HOST,
        "PEER_DB_PORT": str(parsed.port or 5432),
        "PEER_MEDIA_ROOT": str(project / "media"),
        "DJANGO_SETTINGS_MODULE": "peer_settings",
        "PYTHONPATH": str(project),
    }
    print(f"peer: migrating {peer_db} ...", flush=True)
    run([str(python), "-m", "django", "migrate", "--noinput"], cwd=project, env=env)
    return python, project, env


def gunicorn_args(gunicorn: str, port: int) -> list[str]:
    """Both products are served alike: 2 sync workers on a loopback port."""
    return [gunicorn, "--workers", "2", "--worker-class", "sync", "--bind", f"{HOST}:{port}"]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


def post(target: Target, index: int) -> tuple[int, float]:
    body = json.dumps(target.body(index)).encode()
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, target.port, timeout=30)
    try:
        conn.request("POST", target.path, body=body, headers={"Content-Type": "application/json", **target.headers})
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def wait_until_up(target: Target, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.process is not None and target.process.poll() is not None:
            raise RuntimeError(f"{target.name}: gunicorn exited; see {target.log}")
        try:
            conn = http.client.HTTPConnection(HOST, target.port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{target.name}: not answering on port {target.port}; see {target.log}")


def one(target: Target) -> float:
    status, ms = post(target, next(target.counter))
    if status != 201:
        raise RuntimeError(f"{target.name}: HTTP {status}")
    return ms


def drive_sequential(target: Target, count: int, max_seconds: float) -> None:
    samples: list[float] = target.results.setdefault("sequential", [])  # type: ignore[assignment]
    deadline = time.monotonic() + max_seconds
    for _ in range(count):
        if time.monotonic() >= deadline:
            break
        samples.append(one(target))


def drive_concurrent(target: Target, count: int, clients: int, max_seconds: float) -> None:
    done: list[float] = target.results.setdefault("concurrent", [])  # type: ignore[assignment]
    failures: list[str] = target.results.setdefault("failures", [])  # type: ignore[assignment]
    lock = threading.Lock()
    remaining = [count]
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            try:
                ms = one(target)
            except Exception as exc:  # a refused request is counted, not fatal to the run
                failures.append(str(exc)[:200])
                continue
            with lock:
                done.append(ms)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = float(target.results.get("elapsed", 0.0)) + time.perf_counter() - started  # type: ignore[arg-type]
    target.results.update(elapsed=elapsed, throughput=len(done) / elapsed)


_ERROR_LINE = re.compile(r"^(?:[^\[]*\[\d+\] )?ERROR:  ")


def log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def log_errors(log: Path, start: int) -> list[str]:
    if not log.exists():
        return []
    with log.open("rb") as handle:
        handle.seek(start)
        text = handle.read().decode("utf-8", "replace")
    # The default log_line_prefix, "%m [%p] ": "2026-12-06 02:24:31.130 UTC [16960] ERROR:  duplicate key ...".
    return [line for line in text.splitlines() if _ERROR_LINE.match(line)]


def row(target: Target) -> str:
    r = target.results
    seq = r.get("sequential", [])
    assert isinstance(seq, list)
    return (
        f"{len(seq)} | {statistics.median(seq):.1f} | {percentile(seq, 0.95):.1f} "
        f"| {len(r['concurrent'])} | {r['throughput']:.1f} | {len(r['failures'])} "  # type: ignore[arg-type]
        f"| {len(r['db_errors'])} |"  # type: ignore[arg-type]
    )


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000, help="tickets preloaded in each product")
    parser.add_argument("--sequential", type=int, default=200, help="single-client creates (p50/p95)")
    parser.add_argument("--concurrent", type=int, default=1000, help="creates from --clients threads")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4, help="the targets take turns this many times per phase")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="bound of each measured phase")
    parser.add_argument("--helpdesk-version", default="2.6.1")
    parser.add_argument("--also-deskloop-src", type=Path, help="another Deskloop tree, measured as a third target")
    parser.add_argument("--only", default="", help="comma-separated targets: peer,deskloop,other")
    parser.add_argument("--port", type=int, default=18501, help="first of the loopback ports used")
    parser.add_argument("--pg-log", type=Path, help="PostgreSQL server log (default: the pg-throwaway cluster's)")
    parser.add_argument("--json", type=Path, help="write the raw samples here")
    return parser.parse_args()


@dataclass(frozen=True)
class Run:
    """Where one run keeps things: the cluster (its URL, server log and base database name) and the var folder;
    ``run_id`` keeps this run's ticket subjects apart from an earlier run's."""

    base_url: str
    pg_log: Path
    db: str
    var: Path
    run_id: str


def _run_setup(args: argparse.Namespace) -> Run:
    base_url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(base_url)
    if parsed.scheme not in {"postgres", "postgresql"} or parsed.hostname not in {"127.0.0.1", "localhost"}:
        sys.exit("DATABASE_URL must point at a loopback PostgreSQL cluster (scripts/pg-throwaway start PORT)")
    pg_log = args.pg_log or Path(f"/tmp/deskloop-pg-{parsed.port}/server.log")  # noqa: S108 (where scripts/pg-throwaway keeps it)
    var = Path(os.environ.get("DESKLOOP_VAR_DIR", REPO / "var")) / "api-write-load"
    var.mkdir(parents=True, exist_ok=True)
    return Run(base_url, pg_log, parsed.path.lstrip("/"), var, secrets.token_hex(3))


def _deskloop_target(args: argparse.Namespace, bench_run: Run, name: str, src: Path, db_name: str, port: int) -> Target:
    url = database_url(bench_run.base_url, db_name)
    recreate_database(bench_run.base_url, db_name)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DESKLOOP_VAR_DIR": str(bench_run.var / name),
        "DESKLOOP_API_RATE_PER_MINUTE": "100000000",  # lifted, but counted: the limiter's cost is measured
        "DEBUG": "0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    python = sys.executable
    print(f"{name}: migrating and generating {args.tickets} tickets ...", flush=True)
    run([python, "manage.py", "migrate", "--noinput"], cwd=src, env=env)
    run([python, "manage.py", "createcachetable"], cwd=src, env=env)
    run(
        [python, str(REPO / "bench" / "generate.py"), "--tickets", str(args.tickets), "--workspace", "load"],
        cwd=src,
        env=env,
    )
    out = run([python, "-c", DESKLOOP_SETUP, "load", str(src)], cwd=src, env=env).strip().splitlines()[-1]
    token = out.split()[0].removeprefix("TOKEN=")
    emails = out.split()[1].removeprefix("EMAILS=").split(",")

    def body(index: int) -> dict[str, object]:
        return {
            "subject": f"Load {bench_run.run_id} {index}: card payment declined",
            "requester_email": emails[index % len(emails)],
            "body_text": "Hello, my card payment was declined at the shop although I have enough money. "
            "Can you check what happened? Thanks",
            "priority": "normal",
        }

    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return Target(
        name=name,
        port=port,
        path="/api/v1/tickets",
        headers={"Authorization": f"Bearer {token}"},
        body=body,
        command=[*gunicorn_args(gunicorn, port), "--chdir", str(src), "deskloop.config.wsgi:application"],
        env=env,
        cwd=src,
        log=bench_run.var / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}-gunicorn.log",
    )


def _peer_target(args: argparse.Namespace, bench_run: Run) -> Target:
    python, project, env = peer_project(
        bench_run.var, args.helpdesk_version, bench_run.base_url, f"{bench_run.db}_peer"
    )
    print(f"peer: preloading {args.tickets} tickets ...", flush=True)
    out = run([str(python), "-c", PEER_SETUP, str(args.tickets)], cwd=project, env=env).strip().splitlines()[-1]
    peer_token = out.split()[0].removeprefix("TOKEN=")
    queue = int(out.split()[1].removeprefix("QUEUE="))

    def peer_body(index: int) -> dict[str, object]:
        return {
            "queue": queue,
            "title": f"Load {bench_run.run_id} {index}: card payment declined",
            "description": "Hello, my card payment was declined at the shop although I have enough money. "
            "Can you check what happened? Thanks",
            "submitter_email": f"customer{index % 200}@example.com",
            "priority": 3,
        }

    return Target(
        name=f"django-helpdesk {args.helpdesk_version}",
        port=args.port,
        path="/helpdesk/api/tickets/",
        headers={"Authorization": f"Token {peer_token}"},
        body=peer_body,
        command=[*gunicorn_args(str(python.parent / "gunicorn"), args.port), "peer_wsgi:application"],
        env=env,
        cwd=project,
        log=bench_run.var / "peer-gunicorn.log",
    )


def _targets(args: argparse.Namespace, bench_run: Run) -> list[Target]:
    """The products asked for (``--only``), set up: the peer first, as the ratios are against it."""
    only = {name for name in args.only.split(",") if name}
    targets: list[Target] = []
    if not only or "peer" in only:
        targets.append(_peer_target(args, bench_run))
    if not only or "deskloop" in only:
        targets.append(_deskloop_target(args, bench_run, "deskloop", REPO, f"{bench_run.db}_load", args.port + 1))
    if args.also_deskloop_src and (not only or "other" in only):
        targets.append(
            _deskloop_target(
                args,
                bench_run,
                f"deskloop@{args.also_deskloop_src}",
                args.also_deskloop_src.resolve(),
                f"{bench_run.db}_other",
                args.port + 2,
            )
        )
    return targets


def _measure(args: argparse.Namespace, targets: list[Target], pg_log: Path) -> None:
    """Start every target behind gunicorn, warm it up, drive the phases in rounds, and stop them all."""
    try:
        for target in targets:
            with target.log.open("wb") as log:
                target.process = subprocess.Popen(  # noqa: S603
                    target.command, cwd=target.cwd, env=target.env, stdout=log, stderr=log
                )
        for target in targets:
            wait_until_up(target)
            for _ in range(args.warmup):
                one(target)
            target.results["db_errors"] = []
        # The machine's load moves; the targets take turns in --rounds rounds so each sees the same moments.
        phases: list[tuple[str, Callable[[Target], None]]] = [
            ("sequential", lambda t: drive_sequential(t, -(-args.sequential // args.rounds), args.max_seconds)),
            (
                "concurrent",
                lambda t: drive_concurrent(t, -(-args.concurrent // args.rounds), args.clients, args.max_seconds),
            ),
        ]
        for phase, run_chunk in phases:
            for round_number in range(args.rounds):
                print(f"{phase} round {round_number + 1}/{args.rounds} ...", flush=True)
                for target in targets:
                    start = log_size(pg_log)
                    run_chunk(target)
                    time.sleep(0.2)
                    errors: list[str] = target.results["db_errors"]  # type: ignore[assignment]
                    errors.extend(log_errors(pg_log, start))
    finally:
        for target in targets:
            if target.process is not None:
                target.process.terminate()
                target.process.wait(timeout=30)


def _report(args: argparse.Namespace, targets: list[Target]) -> None:
    print()
    print(f"tickets preloaded: {args.tickets}; {args.clients} concurrent clients; gunicorn 2 sync workers each")
    print("| target | sequential n | p50 ms | p95 ms | concurrent n | tickets/s | failed | DB log ERRORs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for target in targets:
        print(f"| {target.name} | {row(target)}")
    if len(targets) > 1:
        peer, *others = targets
        for other in others:
            p, o = peer.results, other.results
            p50 = statistics.median(o["sequential"]) / statistics.median(p["sequential"])  # type: ignore[arg-type]
            p95 = percentile(o["sequential"], 0.95) / percentile(p["sequential"], 0.95)  # type: ignore[arg-type]
            tput = float(o["throughput"]) / float(p["throughput"])  # type: ignore[arg-type]
            print(
                f"{other.name} / {peer.name}: p50 x{p50:.2f}, p95 x{p95:.2f} (lower is faster); "
                f"throughput x{tput:.2f} (higher is faster)"
            )
    for target in targets:
        for line in list(target.results.get("db_errors", []))[:5]:  # type: ignore[call-overload]
            print(f"{target.name} DB log: {line[:200]}")
    if args.json:
        args.json.write_text(json.dumps({t.name: t.results for t in targets}, indent=1, default=str))


def main() -> None:
    args = _options()
    bench_run = _run_setup(args)
    targets = _targets(args, bench_run)
    _measure(args, targets, bench_run.pg_log)
    _report(args, targets)


if __name__ == "__main__":
    main()
