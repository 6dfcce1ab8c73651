"""Email ingest: messages per second through the whole inbound pipeline, as a ratio to the stdlib parse rate.

    python bench/email_ingest.py                      # every distinct file of testdata/email
    python bench/email_ingest.py --limit 300          # the first 300 of them (sorted by path)
    DATABASE_URL=... python bench/email_ingest.py     # on PostgreSQL

Measured: ``pipeline.ingest_raw(via="import")`` for each message, one after another in one process (one
worker): store the raw bytes (content-addressed) and the InboundEmail row, parse (parsing.parse_message),
classify noise, read DSNs, strip quotes, thread (In-Reply-To/References/subject token lookups), create the
contact, ticket or message, attachments, events, outbox rows and the search document, and commit.

Baseline, same files, same run: ``email.message_from_bytes(raw, policy=email.policy.default)`` and reading the
subject (the policy parses headers lazily) — the plain stdlib parse, which does none of the above.

Corpus: every *distinct* file under testdata/email (byte-identical copies are left out, since dedupe
would answer them without processing and flatter the figure), in path order. Each run ingests into a new
mailbox of a new workspace (standalone) or of the generated workspace (run_all.py), so nothing is a duplicate.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, Result, Timing, database_label, format_table, setup_django

CORPUS = REPO / "testdata" / "email"


def corpus_messages(limit: int | None = None, corpus: Path = CORPUS) -> list[tuple[str, bytes]]:
    """(relative path, bytes) of every distinct corpus file, in path order; the first ``limit`` of them."""
    seen: set[str] = set()
    found: list[tuple[str, bytes]] = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        found.append((path.relative_to(corpus).as_posix(), raw))
        if limit is not None and len(found) >= limit:
            break
    return found


def stdlib_parse(raw: bytes) -> object:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return message.get("subject")


def new_mailbox(workspace: Any) -> Any:
    """A mailbox no earlier run used, so dedupe (per mailbox) never short-circuits a message."""
    from deskloop.channels.email.models import Mailbox

    number = Mailbox.objects.filter(workspace=workspace).count() + 1
    while Mailbox.objects.filter(workspace=workspace, address=f"ingest-{number}@email-bench.example").exists():
        number += 1
    return Mailbox.objects.create(workspace=workspace, address=f"ingest-{number}@email-bench.example")


@dataclass(frozen=True)
class IngestRun:
    measured: Timing  # wall ms per message through ingest_raw
    baseline: Timing  # wall ms per message through the stdlib parse
    cpu_seconds: float  # CPU this process spent in the pipeline loop (PostgreSQL's own work is not in it)
    ms_by_outcome: dict[str, list[float]]


def warm_up_messages() -> list[bytes]:
    """Two made-up messages (not from the corpus, so nothing measured is cached by them): a new customer's mail
    with a CC, an inline image and an attachment (opens a ticket), and a delivery-status bounce."""
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = "Warm Up <warm-up@customer.invalid>"
    mail["To"] = "support@email-bench.invalid"
    mail["Cc"] = "colleague@customer.invalid"
    mail["Subject"] = "Warming up the worker"
    mail["Message-ID"] = "<warm-up-1@customer.invalid>"
    mail.set_content("Hello,\n\nthe export fails.\n")
    mail.add_alternative('<p>Hello,</p><p>the export fails. <img src="cid:shot@customer.invalid"></p>', subtype="html")
    mail.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n", "image", "png", cid="<shot@customer.invalid>")
    mail.add_attachment(b"date,amount\n", maintype="text", subtype="csv", filename="export.csv")
    bounce = (
        b"From: MAILER-DAEMON@mx.invalid\r\nTo: support@email-bench.invalid\r\nSubject: Undelivered Mail\r\n"
        b"Message-ID: <warm-up-2@mx.invalid>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.invalid\r\n\r\n"
        b"Final-Recipient: rfc822; gone@customer.invalid\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@email-bench.invalid\r\n"
        b"To: gone@customer.invalid\r\nSubject: Re: hello\r\nMessage-ID: <warm-up-3@email-bench.invalid>\r\n\r\n"
        b"Hello\r\n--b--\r\n"
    )
    return [mail.as_bytes(), bounce]


def measure_ingest(workspace: Any, messages: list[tuple[str, bytes]]) -> IngestRun:
    """One sample per message for the pipeline and for the stdlib baseline, in the same run.

    Per worker means a running worker: before timing, two made-up messages go through the pipeline into a mailbox
    of their own, so the one-off costs of a new process (Django loading the URL configuration and the API's
    schemas on the first attachment link, about 0.3 s; first compiled statements) are not charged to the first
    corpus messages."""
    from deskloop.channels.email.pipeline import ingest_raw

    warm_up_mailbox = new_mailbox(workspace)
    warmed = [ingest_raw(mailbox=warm_up_mailbox, raw=raw, via="import") for raw in warm_up_messages()]
    outcomes = [result.outcome or result.refusal_reason for result in warmed]
    if outcomes != ["new_ticket", "bounce"]:
        raise RuntimeError(f"the warm-up messages did not go the intended ways: {outcomes}")
    baseline: list[float] = []
    for _name, raw in messages:
        started = time.perf_counter()
        stdlib_parse(raw)
        baseline.append((time.perf_counter() - started) * 1000)
    mailbox = new_mailbox(workspace)
    samples: list[float] = []
    by_outcome: dict[str, list[float]] = {}
    cpu_started = time.process_time()
    for _name, raw in messages:
        started = time.perf_counter()
        result = ingest_raw(mailbox=mailbox, raw=raw, via="import")
        samples.append((time.perf_counter() - started) * 1000)
        key = result.outcome or f"{result.state}:{result.refusal_reason}".rstrip(":")
        by_outcome.setdefault(key, []).append(samples[-1])
    return IngestRun(
        measured=Timing(name="ingest_raw, whole pipeline", samples_ms=samples),
        baseline=Timing(name="stdlib parse (policy.default)", samples_ms=baseline),
        cpu_seconds=time.process_time() - cpu_started,
        ms_by_outcome=by_outcome,
    )


def rate(timing: Timing) -> float:
    total = sum(timing.samples_ms)
    return timing.n / (total / 1000) if total else float("nan")


def run(context: Any, *, iterations: int = 200, max_seconds: float = 30.0) -> list[Result]:
    """For bench/run_all.py: the first ``iterations`` distinct corpus messages into the generated workspace."""
    if not CORPUS.is_dir():
        raise RuntimeError(f"the email corpus is not at {CORPUS}")
    messages = corpus_messages(limit=iterations)
    measured = measure_ingest(context.workspace, messages)
    note = f"{rate(measured.measured):.0f} msg/s vs {rate(measured.baseline):.0f} msg/s stdlib"
    return [
        Result("email ingest, per message (parse, thread, store, index)", measured.measured, measured.baseline, note)
    ]


def fresh_workspace(prefix: str) -> Any:
    """A new workspace per run: earlier runs' tickets would turn this run's mail into replies."""
    from deskloop.accounts import services as account_services
    from deskloop.accounts.models import Workspace
    from deskloop.tickets.services.setup import install_workspace_defaults

    number = Workspace.objects.filter(slug__startswith=f"{prefix}-").count() + 1
    while Workspace.objects.filter(slug=f"{prefix}-{number}").exists():
        number += 1
    workspace = account_services.create_workspace(name=f"Email bench {number}", slug=f"{prefix}-{number}")
    install_workspace_defaults(workspace=workspace)
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default="email-bench")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N distinct files (path order).")
    parser.add_argument("--profile", help="Write a cProfile of the pipeline loop to this file.")
    args = parser.parse_args()
    # A fresh, empty blob store per run: with the files of earlier runs already on disk, storing a blob skips
    # writing its file and the figure would flatter the pipeline. It lives where an installation keeps its media
    # (the var directory, DESKLOOP_VAR_DIR) and is left there, not deleted: on the benchmark machine's disk,
    # creating files under a directory where many were just deleted costs up to 25 times the CPU (1,400 files in
    # two-level directories: 0.12 s fresh, 0.5-3.0 s after a few create-and-delete rounds), so deleting each run's
    # store made every later run slower, whatever the code.
    var_dir = Path(os.environ.get("DESKLOOP_VAR_DIR", str(REPO / "var")))
    var_dir.mkdir(parents=True, exist_ok=True)
    media_root = tempfile.mkdtemp(prefix="email-bench-media-", dir=var_dir)
    os.environ["MEDIA_ROOT"] = media_root
    _main(args)
    print(f"blob store of this run: {media_root} (about 15 MB; delete it when done)")


def _main(args: argparse.Namespace) -> None:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    if not CORPUS.is_dir():
        sys.exit(f"The email corpus is not at {CORPUS}.")
    messages = corpus_messages(limit=args.limit)
    workspace = fresh_workspace(args.workspace)
    started = time.monotonic()
    if args.profile:
        import cProfile

        # CPU time of this process: on a shared machine wall-clock profiles mostly show other people's work.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        measured = measure_ingest(workspace, messages)
        profiler.disable()
        profiler.dump_stats(args.profile)
    else:
        measured = measure_ingest(workspace, messages)
    megabytes = sum(len(raw) for _name, raw in messages) / 1e6
    print(
        f"{database_label()} | {len(messages)} distinct corpus files, {megabytes:.1f} MB | "
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()} | "
        f"{time.monotonic() - started:.0f} s"
    )
    print()
    print(
        f"pipeline: {rate(measured.measured):.1f} msg/s | stdlib parse: {rate(measured.baseline):.1f} msg/s | "
        f"pipeline/stdlib time ratio: {rate(measured.baseline) / rate(measured.measured):.1f}x"
    )
    print(
        f"pipeline CPU time of this process: {measured.cpu_seconds:.1f} s = "
        f"{len(messages) / measured.cpu_seconds:.1f} msg/s of CPU (one worker on an idle core, less the database "
        "server's own time)"
    )
    print(
        "outcomes (count, mean ms): "
        + ", ".join(
            f"{key} {len(ms)} ({sum(ms) / len(ms):.1f} ms)" for key, ms in sorted(measured.ms_by_outcome.items())
        )
    )
    print()
    print(format_table([Result("email ingest, per message", measured.measured, measured.baseline)]))


if __name__ == "__main__":
    main()
