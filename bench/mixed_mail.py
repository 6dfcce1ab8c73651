"""Mixed mail: a support mailbox's ordinary day (mostly new requests and replies), imported by `manage.py import_mail`
with one process and with several, as messages per second of the whole command.

    python bench/mixed_mail.py                          # 2,000 messages, --jobs 1 and --jobs <cores>
    DATABASE_URL=... python bench/mixed_mail.py --messages 6000

The bounce-heavy corpus of email_ingest.py flatters the figure: a refused bounce costs a fraction of a new ticket.
This mail is made from real customer text (testdata/text: banking77 questions as requests, Stack Exchange FAQ
answers quoted back): 55% open a ticket, 35% are replies quoting what they answer (In-Reply-To, References), 10%
are noise a helpdesk must refuse (auto-replies, list mail). A third carry an HTML part, a tenth an attachment.
Deterministic (seeded), written as a folder of .eml files under the var directory.

``--peer`` (PostgreSQL) also imports the same files with django-helpdesk's `get_email` (a queue reading a local
mail directory; the version and project of bench/api_write_load.py, its own database on the same cluster), timed
whole the same way, and prints Deskloop's rate as a ratio to the peer's.

Baseline, same messages, same run: the stdlib parse (``email.message_from_bytes(policy.default)``), so the
ratio means something on another machine. Each command imports into a new workspace (nothing is a duplicate) and
is timed whole, from process start to summary, as a person running it would see it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import email
import email.policy
import json
import os
import random
import re
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, database_label, setup_django

TEXT = REPO / "testdata" / "text"
START = 1_767_225_600  # 2026-01-01 00:00 UTC: the archive's first day
FIRST_NAMES = ["Ana", "Boris", "Carmen", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Irina", "Javier", "Kate", "Luis"]
LAST_NAMES = ["Garcia", "Ivanova", "Smith", "Petrov", "Lopez", "Brown", "Sokolova", "Martin", "Novak", "Kim"]
DOMAINS = ["gmail.example", "yandex.example", "northwind.example", "contoso.example", "fabrikam.example"]


def _requests_and_answers() -> tuple[list[str], list[str]]:
    with (TEXT / "intents-banking77" / "train.csv").open(newline="", encoding="utf-8") as handle:
        requests = [row["text"].strip() for row in csv.DictReader(handle) if row["text"].strip()]
    answers = [
        " ".join(json.loads(line)["body"].split())[:1200]
        for line in (TEXT / "kb-stackfaq" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return requests, answers


class MailMaker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.made = 0
        self.requests, self.answers = _requests_and_answers()
        self.customers = [
            (f"{first} {last}", f"{first}.{last}{n}@{self.rng.choice(DOMAINS)}".lower())
            for n, (first, last) in enumerate(
                (self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)) for _ in range(700)
            )
        ]
        self.clock = START

    def _message(self, sender: tuple[str, str], subject: str, text: str) -> EmailMessage:
        self.clock += self.rng.randint(5, 240)
        mail = EmailMessage()
        mail["From"] = f"{sender[0]} <{sender[1]}>"
        mail["To"] = "Support <support@mixed-mail.example>"
        mail["Subject"] = subject
        mail["Date"] = format_datetime(dt.datetime.fromtimestamp(self.clock, tz=dt.UTC))
        self.made += 1
        mail["Message-ID"] = f"<mixed-{self.seed}-{self.made}@{sender[1].split('@')[1]}>"
        mail.set_content(text)
        if self.rng.random() < 0.33:
            paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines() if line.strip())
            mail.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
        if self.rng.random() < 0.1:
            lines = "\n".join(f"2026-01-{day:02d},{self.rng.randint(1, 999)}.00" for day in range(1, 29))
            mail.add_attachment(f"date,amount\n{lines}\n".encode(), maintype="text", subtype="csv", filename="x.csv")
        return mail

    def new_request(self) -> EmailMessage:
        customer = self.rng.choice(self.customers)
        question = self.rng.choice(self.requests)
        subject = re.sub(r"[?.!]+$", "", question)[:70]
        text = f"Hello,\n\n{question} {self.rng.choice(self.requests)}\n\nThanks,\n{customer[0]}\n"
        return self._message(customer, subject, text)

    def reply_to(self, original: EmailMessage, sender: tuple[str, str]) -> EmailMessage:
        text_part = original.get_body(preferencelist=("plain",))
        quoted = "\n".join(f"> {line}" for line in (text_part.get_content() if text_part else "").splitlines())
        answer = self.rng.choice(self.answers)[:300]
        body = f"{self.rng.choice(self.requests)}\n\n{answer}\n\nOn {original['Date']}, you wrote:\n{quoted}\n"
        subject = str(original["Subject"])
        reply = self._message(sender, subject if subject.startswith("Re: ") else f"Re: {subject}", body)
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = " ".join(filter(None, [original.get("References"), original["Message-ID"]]))
        return reply

    def noise(self) -> EmailMessage:
        customer = self.rng.choice(self.customers)
        if self.rng.random() < 0.5:
            mail = self._message(customer, "Automatic reply: out of office", "I am away until Monday.\n")
            mail["Auto-Submitted"] = "auto-replied"
        else:
            mail = self._message(("Product News", "news@vendor.example"), "This week's offers", "Our offers.\n")
            mail["List-Id"] = "<offers.vendor.example>"
            mail["List-Unsubscribe"] = "<mailto:leave@vendor.example>"
        return mail

    def day(self, count: int) -> list[bytes]:
        made: list[bytes] = []
        open_threads: list[tuple[EmailMessage, tuple[str, str]]] = []
        while len(made) < count:
            roll = self.rng.random()
            if roll < 0.35 and open_threads:
                original, customer = open_threads.pop(self.rng.randrange(len(open_threads)))
                mail = self.reply_to(original, customer)
                open_threads.append((mail, customer))
            elif roll < 0.45:
                mail = self.noise()
            else:
                mail = self.new_request()
                sender = str(mail["From"])
                open_threads.append((mail, next(c for c in self.customers if c[1] in sender)))
            for depth, part in enumerate(p for p in mail.walk() if p.is_multipart()):
                part.set_boundary(f"=_mixed_{self.made}_{depth}")  # not random: the same seed makes the same bytes
            made.append(mail.as_bytes())
        return made


def write_archive(messages: list[bytes], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, raw in enumerate(messages):
        (folder / f"{index:06d}.eml").write_bytes(raw)


def stdlib_rate(messages: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in messages:
        email.message_from_bytes(raw, policy=email.policy.default).get("subject")
    return len(messages) / (time.perf_counter() - started)


def import_rate(folder: Path, count: int, jobs: int, slug: str) -> tuple[float, str]:
    """msg/s of the whole `import_mail` command (start-up included) into a new workspace, and its summary."""
    from deskloop.accounts import services as account_services
    from deskloop.channels.email.models import Mailbox
    from deskloop.tickets.services.setup import install_workspace_defaults

    workspace = account_services.create_workspace(name=slug, slug=slug)
    install_workspace_defaults(workspace=workspace)
    Mailbox.objects.create(workspace=workspace, address="support@mixed-mail.example")
    command = [sys.executable, "manage.py", "import_mail", "--workspace", slug]
    command += ["--mailbox", "support@mixed-mail.example", "--jobs", str(jobs), str(folder)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)  # noqa: S603
    return count / (time.perf_counter() - started), done.stdout.strip()


# Run with the peer's python in its project: a queue that reads DIR (files it processed are deleted), then
# get_email, then what became of the mail.
PEER_IMPORT = """
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
import django
django.setup()
from django.core.management import call_command
from helpdesk.models import FollowUp, Queue, Ticket
Queue.objects.update_or_create(slug="mail", defaults=dict(
    title="Mail", email_address="support@mixed-mail.example", allow_email_submission=True, email_box_type="local",
    email_box_local_dir=sys.argv[1], email_box_interval=0, logging_type="none"))
started = time.perf_counter()
call_command("get_email", quiet=True)
seconds = time.perf_counter() - started
print(f"SECONDS={seconds} TICKETS={Ticket.objects.count()} FOLLOWUPS={FollowUp.objects.count()} "
      f"LEFT={len(os.listdir(sys.argv[1]))}")
"""


def peer_rate(folder: Path, count: int, var_dir: Path) -> tuple[float, str]:
    """msg/s of django-helpdesk's `get_email` over a copy of ``folder`` (process start-up included, as for
    import_mail), and what it made."""
    import shutil

    from bench.api_write_load import peer_project

    base_url = os.environ["DATABASE_URL"]
    name = base_url.rsplit("/", 1)[1]
    python, project, env = peer_project(var_dir / "api-write-load", "2.6.1", base_url, f"{name}_mail_peer")
    inbox = var_dir / "mixed-mail-peer-inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(folder, inbox)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [str(python), "-c", PEER_IMPORT, str(inbox)], cwd=project, env=env, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    return count / elapsed, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--jobs", type=int, nargs="*", default=None, help="default: 1 and the machine's cores")
    parser.add_argument("--peer", action="store_true", help="also django-helpdesk's get_email (PostgreSQL)")
    args = parser.parse_args()
    var_dir = Path(os.environ.get("DESKLOOP_VAR_DIR", str(REPO / "var")))
    os.environ.setdefault("MEDIA_ROOT", str(var_dir / "mixed-mail-media"))
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    messages = MailMaker(args.seed).day(args.messages)
    folder = var_dir / f"mixed-mail-{args.seed}-{args.messages}"
    write_archive(messages, folder)
    cores = os.cpu_count() or 1
    jobs_list = args.jobs or ([1, cores] if connection.vendor == "postgresql" and cores > 1 else [1])
    baseline = stdlib_rate(messages)
    print(f"{database_label()} | {len(messages)} messages, {sum(map(len, messages)) / 1e6:.1f} MB | {cores} cores")
    print(f"stdlib parse: {baseline:.0f} msg/s")
    peer = 0.0
    if args.peer:
        peer, made = peer_rate(folder, len(messages), var_dir)
        print(f"django-helpdesk get_email: {peer:.1f} msg/s (stdlib/this: {baseline / peer:.0f}x) | {made}")
    run = int(time.time())
    for jobs in jobs_list:
        connection.close()  # the command's processes open their own; ours must not hold locks meanwhile
        rate, summary = import_rate(folder, len(messages), jobs, f"mixed-{run}-{jobs}")
        versus = f", {rate / peer:.1f}x django-helpdesk" if peer else ""
        print(f"import_mail --jobs {jobs}: {rate:.1f} msg/s (stdlib/this: {baseline / rate:.0f}x{versus})")
        print("  " + summary.replace("\n", " | "))


if __name__ == "__main__":
    main()
