"""Hostile HTML: ingest time of mail built to make the HTML parser (or the quote stripper) work forever, as a ratio
to an ordinary email of the same size, measured in the same run.

    python bench/hostile_html.py                      # SQLite under DESKLOOP_VAR_DIR
    DATABASE_URL=... python bench/hostile_html.py     # on PostgreSQL
    python bench/hostile_html.py --rounds 5

Each message goes through ``pipeline.ingest_raw(via="smtp")`` (parse, quote stripping, sanitizing, storing,
indexing) into a fresh workspace, with a new Message-ID each round. Hostile messages (issue #9):

- ``nested divs``: 100,000 unclosed ``<div>`` (500 KB of HTML, the reported 39 s of CPU);
- ``nested divs, closed``: 100,000 ``<div>`` then 100,000 ``</div>``;
- ``close tags in attributes``: ``<div title="</div>">`` repeated (a naive open/close count sees depth 0);
- ``one long tag``: one ``<div`` with 80,000 ``class=`` attributes (the quote-container regex backtracked on it);
- ``a long quote``: 60,000 quoted lines and one unquoted line at the end (the quoted-tail check was quadratic).

The ordinary message of the same size: an HTML newsletter of paragraphs, links and tables of the same number of
bytes (or, for the quote case, a text of the same size without quotes). The figure that matters is the ratio:
bounded cost means hostile mail costs about what ordinary mail of its size costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, database_label, setup_django

ORDINARY_BLOCK = (
    '<table><tr><td><p>Hello <b>team</b>, here is the <a href="https://example.com/news">monthly update</a> '
    "on your account &amp; invoices.</p><ul><li>First item</li><li>Second item</li></ul></td></tr></table>\n"
)


def hostile_bodies() -> dict[str, tuple[str, str]]:
    """name -> (subtype, body) of each hostile message."""
    return {
        "nested divs": ("html", "<div>" * 100_000 + "Where is my invoice?"),
        "nested divs, closed": ("html", "<div>" * 100_000 + "Where is my invoice?" + "</div>" * 100_000),
        "close tags in attributes": ("html", '<div title="</div>">' * 25_000 + "Hi"),
        "one long tag": ("html", "<div " + "class=" * 80_000 + ">Hi</div>"),
        "a long quote": ("plain", "> quoted line\n" * 60_000 + "my answer\n"),
    }


def ordinary_body(subtype: str, size: int) -> str:
    if subtype == "plain":
        line = "An ordinary line of a long message about the invoice.\n"
        return (line * (size // len(line) + 1))[:size]
    return (ORDINARY_BLOCK * (size // len(ORDINARY_BLOCK) + 1))[:size]


def mail(subtype: str, body: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory <mallory@globex.example>"
    message["To"] = "support@bench.example"
    message["Subject"] = "Bench"
    message["Message-ID"] = f"<{message_id}@bench.example>"
    message.set_content(body, subtype=subtype)
    return message.as_bytes()


def ingest_seconds(mailbox: object, raw: bytes) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of this process, html_fallback_reason of the stored message)."""
    from deskloop.channels.email.pipeline import ingest_raw
    from deskloop.tickets.models import Message

    wall, cpu = time.perf_counter(), time.process_time()
    result = ingest_raw(mailbox=mailbox, raw=raw, via="smtp")  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    reason = Message.objects.filter(ticket_id=result.ticket_id).values_list("html_fallback_reason", flat=True).first()
    return wall, cpu, reason or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="Messages of each kind; the median is reported.")
    args = parser.parse_args()
    var_dir = Path(os.environ.get("DESKLOOP_VAR_DIR", str(REPO / "var")))
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="hostile-bench-media-", dir=var_dir)
    setup_django()
    from django.core.management import call_command

    from bench.email_ingest import fresh_workspace
    from deskloop.channels.email.models import Mailbox

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    workspace = fresh_workspace("hostile-bench")
    mailbox = Mailbox.objects.create(workspace=workspace, address=f"support-{workspace.pk}@bench.example")
    print(f"{database_label()} | {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print()
    print("| message | size | hostile CPU s | ordinary CPU s | CPU ratio | wall ratio | fallback |")
    print("|---|---|---|---|---|---|---|")
    for number, (name, (subtype, body)) in enumerate(hostile_bodies().items()):
        hostile, ordinary = [], []
        reason = ""
        for attempt in range(args.rounds):
            raw = mail(subtype, body, f"hostile-{number}-{attempt}")
            plain = mail(subtype, ordinary_body(subtype, len(body)), f"ordinary-{number}-{attempt}")
            *measured, reason = ingest_seconds(mailbox, raw)
            hostile.append(tuple(measured))
            *measured, _reason = ingest_seconds(mailbox, plain)
            ordinary.append(tuple(measured))
        h_wall, h_cpu = (sorted(values)[len(values) // 2] for values in zip(*hostile, strict=True))
        o_wall, o_cpu = (sorted(values)[len(values) // 2] for values in zip(*ordinary, strict=True))
        print(
            f"| {name} | {len(raw) / 1000:.0f} KB | {h_cpu:.3f} | {o_cpu:.3f} | {h_cpu / o_cpu:.2f} | "
            f"{h_wall / o_wall:.2f} | {reason or '-'} |"
        )


if __name__ == "__main__":
    main()
