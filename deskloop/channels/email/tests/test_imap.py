"""The IMAP fetcher against a real Dovecot: UID order and checkpoint, nothing changed on the server, UIDVALIDITY
changes, XOAUTH2, TLS and STARTTLS with certificate checks, errors an admin can act on, IDLE and polling."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connections

from deskloop.channels.email import imap
from deskloop.channels.email.models import ImapCheckpoint, InboundEmail, Mailbox
from deskloop.channels.email.pipeline import IngestResult
from deskloop.conftest import Cast, signed_in_client
from deskloop.core.periodic import registered_jobs
from deskloop.tickets.attachments import read_blob, store_blob
from deskloop.tickets.models import Blob, Ticket

from .corpus import BASIC, real
from .dovecot import OAUTH_TOKEN, OAUTH_USER, SUPPORT_PASSWORD, SUPPORT_USER, Dovecot, free_port, imap_mailbox
from .shared_db import ROOT, ChildOutput, SharedDatabase


def customer_mail(n: int, **headers: str) -> bytes:
    return real(BASIC, Message_Id=f"<imap-{n}@globex.example>", Subject=f"Question {n}", **headers)


def server_flags(dovecot: Dovecot, folder: str) -> tuple[int, list[bytes]]:
    conn = dovecot.client()
    try:
        _status, count = conn.select(f'"{folder}"', readonly=True)
        _status, unseen = conn.search(None, "UNSEEN")
        return int(count[0] or 0), unseen[0].split()
    finally:
        conn.logout()


def test_new_mail_is_imported_in_uid_order_and_the_checkpoint_follows(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    uids = dovecot.append([customer_mail(1), customer_mail(2), customer_mail(3)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    seen: list[tuple[int, str]] = []

    report = imap.fetch_mailbox(mailbox, on_message=lambda uid, result: seen.append((uid, result.outcome)))

    assert (report.error, report.new, report.duplicates, report.last_uid) == ("", 3, 0, uids[-1])
    assert seen == [(uids[0], "new_ticket"), (uids[1], "new_ticket"), (uids[2], "new_ticket")]
    assert list(
        InboundEmail.objects.filter(mailbox=mailbox).order_by("id").values_list("subject", "received_via", "state")
    ) == [
        ("Question 1", "imap", "processed"),
        ("Question 2", "imap", "processed"),
        ("Question 3", "imap", "processed"),
    ]
    checkpoint = ImapCheckpoint.objects.get(mailbox=mailbox)
    assert (checkpoint.folder, checkpoint.uidvalidity, checkpoint.last_uid) == (
        folder,
        dovecot.uidvalidity(folder),
        uids[-1],
    )
    # Nothing was removed or flagged on the server.
    assert server_flags(dovecot, folder) == (3, [b"1", b"2", b"3"])
    # The next run fetches only what is new.
    later = dovecot.append([customer_mail(4)], folder=folder)
    again = imap.fetch_mailbox(mailbox)
    assert (again.new, again.duplicates, again.last_uid) == (1, 0, later[0])
    assert Ticket.objects.filter(workspace=acme.workspace, subject__startswith="Question").count() == 4


def test_mark_seen_flags_the_fetched_messages_after_they_are_stored(acme: Cast, dovecot: Dovecot, folder: str) -> None:
    dovecot.append([customer_mail(1), customer_mail(2)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    report = imap.fetch_mailbox(mailbox, mark_seen=True)
    assert (report.new, server_flags(dovecot, folder)) == (2, (2, []))


def test_a_message_that_cannot_become_a_ticket_does_not_block_the_rest(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    junk = b"Subject: =?x-unknown?q?=FF=FE?=\r\nContent-Type: text/plain; charset=x-junk\r\n\r\n\xff\xfe\x80\r\n"
    dovecot.append([customer_mail(1), junk, customer_mail(2)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    report = imap.fetch_mailbox(mailbox)
    assert (report.error, report.new) == ("", 3)
    assert list(InboundEmail.objects.filter(mailbox=mailbox).order_by("id").values_list("state", "refusal_reason")) == [
        ("processed", ""),
        ("refused", "no_sender"),
        ("processed", ""),
    ]


def test_a_changed_uidvalidity_imports_the_folder_again_and_dedupe_skips_what_was_imported(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    first = [customer_mail(1), customer_mail(2), customer_mail(3)]
    dovecot.append(first, folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    imap.fetch_mailbox(mailbox)
    old_uidvalidity = dovecot.uidvalidity(folder)
    # The folder is re-created on the server: every message gets a new UID under a new UIDVALIDITY.
    conn = dovecot.client()
    conn.delete(f'"{folder}"')
    conn.logout()
    uids = dovecot.append([customer_mail(0), *first, customer_mail(4)], folder=folder)
    new_uidvalidity = dovecot.uidvalidity(folder)

    report = imap.fetch_mailbox(mailbox)

    assert new_uidvalidity != old_uidvalidity
    assert (report.uidvalidity_changed, report.new, report.duplicates, report.last_uid) == (True, 2, 3, uids[-1])
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 5
    assert Ticket.objects.filter(workspace=acme.workspace, subject__startswith="Question").count() == 5
    checkpoint = ImapCheckpoint.objects.get(mailbox=mailbox)
    assert (checkpoint.uidvalidity, checkpoint.last_uid) == (new_uidvalidity, uids[-1])


def test_an_interrupted_run_is_finished_by_the_next_one(acme: Cast, dovecot: Dovecot, folder: str) -> None:
    """What a crash between storing and processing leaves: the row is "received" and the checkpoint is past it."""
    raw = customer_mail(1)
    uids = dovecot.append([raw], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    stored = InboundEmail.objects.create(
        workspace=acme.workspace,
        mailbox=mailbox,
        raw=store_blob(raw),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        header_message_id="imap-1@globex.example",
        received_via="imap",
    )
    ImapCheckpoint.objects.create(mailbox=mailbox, folder=folder, uidvalidity=dovecot.uidvalidity(folder), last_uid=1)

    report = imap.fetch_mailbox(mailbox)

    stored.refresh_from_db()
    assert (report.finished, report.new, report.last_uid, uids) == (1, 0, 1, [1])
    assert (stored.state, stored.outcome, stored.ticket.subject if stored.ticket else None) == (
        "processed",
        "new_ticket",
        "Question 1",
    )


def test_a_raw_file_cut_short_by_a_killed_fetcher_is_written_again(acme: Cast, dovecot: Dovecot, folder: str) -> None:
    """A kill while the raw bytes were being written leaves a short file under their hash and no row; the next
    fetch must store the whole message, not reuse the stump."""
    raw = customer_mail(1).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as the server hands it out
    dovecot.append([raw], folder=folder)
    name = Blob(sha256=hashlib.sha256(raw).hexdigest(), size=len(raw)).storage_name
    default_storage.delete(name)
    default_storage.save(name, ContentFile(raw[:100]))
    mailbox = imap_mailbox(acme, dovecot, folder)

    assert imap.fetch_mailbox(mailbox).new == 1
    assert read_blob(InboundEmail.objects.get(mailbox=mailbox).raw) == raw


def test_xoauth2_signs_in_with_the_access_token(acme: Cast, dovecot: Dovecot, folder: str) -> None:
    dovecot.append([customer_mail(1)], folder=folder, user=OAUTH_USER)
    mailbox = imap_mailbox(
        acme, dovecot, folder, imap_auth="xoauth2", imap_username=OAUTH_USER, imap_secret=OAUTH_TOKEN
    )
    assert (imap.fetch_mailbox(mailbox).new, InboundEmail.objects.filter(mailbox=mailbox).count()) == (1, 1)

    Mailbox.objects.filter(pk=mailbox.pk).update(imap_secret="ya29.expired-token")
    mailbox.refresh_from_db()
    refused = imap.fetch_mailbox(mailbox)
    assert (
        refused.error == "Sign-in was refused. Check the user name and the password or token. (error: sign_in_refused)"
    )


def test_tls_and_starttls_check_the_servers_certificate(
    acme: Cast, dovecot: Dovecot, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.append([customer_mail(1), customer_mail(2)], folder=folder)
    implicit = imap.ImapSettings(
        host="127.0.0.1",
        port=dovecot.tls_port,
        security="ssl",
        username=SUPPORT_USER,
        secret=SUPPORT_PASSWORD,
        auth="password",
        folder=folder,
    )
    starttls = imap.ImapSettings(**{**implicit.__dict__, "port": dovecot.port, "security": "starttls"})
    untrusted = [(error.value.shown, error.value.detail) for error in _failures(implicit, starttls)]
    refused = "was refused; it must be valid for this host name. (error: tls_certificate)"
    assert untrusted == [
        (f"The TLS certificate of 127.0.0.1:{dovecot.tls_port} {refused}", "self-signed certificate"),
        (f"The TLS certificate of 127.0.0.1:{dovecot.port} {refused}", "self-signed certificate"),
    ]
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    for settings in (implicit, starttls):
        conn = imap.connect(settings)
        opened = imap.open_folder(conn, settings, readonly=True)
        conn.logout()
        assert (opened.exists, opened.can_idle) == (2, True)
    mailbox = imap_mailbox(acme, dovecot, folder, imap_security="ssl", imap_port=dovecot.tls_port)
    assert imap.fetch_mailbox(mailbox).new == 2


def _failures(*all_settings: imap.ImapSettings) -> list[pytest.ExceptionInfo[imap.ImapFailure]]:
    found = []
    for settings in all_settings:
        with pytest.raises(imap.ImapFailure) as error:
            imap.connect(settings, timeout=5)
        found.append(error)
    return found


def test_connection_problems_are_reported_with_the_mailbox_and_change_nothing(
    acme: Cast, dovecot: Dovecot, folder: str, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.append([customer_mail(1)], folder=folder)
    closed_port = free_port()
    mailbox = imap_mailbox(acme, dovecot, folder, imap_port=closed_port)
    down = imap.fetch_mailbox(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_host="imap.globex.example", imap_port=dovecot.port)
    mailbox.refresh_from_db()
    clear_text_remote = imap.fetch_mailbox(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_host="127.0.0.1", imap_folder="No such folder")
    mailbox.refresh_from_db()
    missing_folder = imap.fetch_mailbox(mailbox)
    assert [down.error, clear_text_remote.error, missing_folder.error] == [
        f"127.0.0.1:{closed_port} refused the connection. (error: refused)",
        "IMAP without encryption is only allowed to a server on this machine; choose SSL/TLS or STARTTLS. "
        "(error: encryption_required)",
        "The folder No such folder cannot be opened; check its name. (error: folder_unavailable)",
    ]
    # The server's own words reach the operator's log, not the page.
    assert "folder_unavailable: Mailbox doesn't exist: No such folder" in caplog.text
    assert "IMAP fetch of mailbox support@acme.example" in caplog.text
    assert (InboundEmail.objects.count(), ImapCheckpoint.objects.count()) == (0, 0)
    # The next run, with the right settings, gets the mail.
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_folder=folder)
    mailbox.refresh_from_db()
    assert imap.fetch_mailbox(mailbox).new == 1


def test_fetch_mail_command_and_the_periodic_job(acme: Cast, umbrella: Cast, dovecot: Dovecot, folder: str) -> None:
    dovecot.append([customer_mail(1), customer_mail(2)], folder=folder)
    imap_mailbox(acme, dovecot, folder)
    broken = imap_mailbox(umbrella, dovecot, folder, imap_secret="wrong password")
    out, err = StringIO(), StringIO()
    call_command("fetch_mail", "--workspace", "acme", "--once", "-v", "2", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [
        "uid 1: new_ticket",
        "uid 2: new_ticket",
        f"support@acme.example ({folder}): 2 new, 0 duplicates, 0 finished after an interruption; last UID 2",
    ]
    with pytest.raises(CommandError) as failed:
        call_command("fetch_mail", "--mailbox", broken.address, stdout=out, stderr=err)
    assert str(failed.value) == "1 of 1 mailboxes could not be fetched; they are tried again on the next run."
    assert err.getvalue() == (
        f"support@umbrella.example ({folder}): Sign-in was refused. Check the user name and the password or token. (error: sign_in_refused)\n"
    )
    with pytest.raises(CommandError) as unknown:
        call_command("fetch_mail", "--mailbox", "nobody@acme.example")
    assert str(unknown.value) == "No active mailbox with an IMAP host matches."

    # The scheduler polls every IMAP mailbox; the broken one is logged and does not stop the others.
    Mailbox.objects.filter(pk=broken.pk).update(imap_secret=SUPPORT_PASSWORD)
    dovecot.append([customer_mail(3)], folder=folder)
    jobs = {job.name: job for job in registered_jobs()}
    assert (jobs["fetch_mail"].every_seconds, jobs["finish_received_mail"].every_seconds) == (60, 300)
    assert jobs["fetch_mail"].run() == 4  # acme's third message, and all three for umbrella


@contextmanager
def idle_watcher(mailbox: Mailbox, on_message: Callable[[int, IngestResult], None]) -> Iterator[threading.Thread]:
    """``run_idle`` on a thread of its own, stopped and joined when the block ends. IDLE is re-issued every 30 s and
    the fallback polls every 5 minutes: only IDLE can explain mail arriving within seconds."""
    stop = threading.Event()

    def watch() -> None:
        try:
            imap.run_idle(mailbox.pk, stop=stop, idle_seconds=30, poll_seconds=300, on_message=on_message)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield watcher
    finally:
        stop.set()
        watcher.join(timeout=15)


@pytest.mark.django_db(transaction=True)
def test_idle_brings_new_mail_in_within_seconds(acme: Cast, dovecot: Dovecot, folder: str) -> None:
    dovecot.append([customer_mail(1)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    arrived: list[tuple[int, IngestResult]] = []
    news = threading.Condition()

    def on_message(uid: int, result: IngestResult) -> None:
        with news:
            arrived.append((uid, result))
            news.notify_all()

    def wait_for(count: int) -> bool:
        with news:
            return news.wait_for(lambda: len(arrived) >= count, timeout=10)

    with idle_watcher(mailbox, on_message) as watcher:
        caught_up = wait_for(1)
        dovecot.append([customer_mail(2)], folder=folder)
        first_news = wait_for(2)
        dovecot.append([customer_mail(3)], folder=folder)
        second_news = wait_for(3)
    assert (caught_up, first_news, second_news, watcher.is_alive()) == (True, True, True, False)
    assert [(uid, result.outcome) for uid, result in arrived] == [
        (1, "new_ticket"),
        (2, "new_ticket"),
        (3, "new_ticket"),
    ]
    assert ImapCheckpoint.objects.get(mailbox=mailbox).last_uid == 3


@pytest.mark.django_db(transaction=True)
def test_without_idle_the_watcher_polls(acme: Cast) -> None:
    server = Dovecot(capabilities="IMAP4rev1 LITERAL+ UIDPLUS")
    try:
        mailbox = imap_mailbox(acme, server, "INBOX")
        arrived: list[int] = []
        stop = threading.Event()

        def on_message(uid: int, _result: IngestResult) -> None:
            arrived.append(uid)
            if len(arrived) == 2:
                stop.set()

        def watch() -> None:
            try:
                imap.run_idle(mailbox.pk, stop=stop, idle_seconds=300, poll_seconds=0.2, on_message=on_message)
            finally:
                connections.close_all()

        watcher = threading.Thread(target=watch)
        watcher.start()
        server.append([customer_mail(1)])
        server.append([customer_mail(2)])
        watcher.join(timeout=20)
        stop.set()
        assert (arrived, watcher.is_alive()) == ([1, 2], False)
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_the_fetch_mail_idle_command_runs_until_sigterm(
    acme: Cast, dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    dovecot.append([customer_mail(1)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    shared = SharedDatabase(tmp_path)
    shared.push()
    watcher = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "fetch_mail", "--idle", "--mailbox", mailbox.address, "-v", "2"],
        cwd=ROOT,
        env=shared.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    output = ChildOutput(watcher)
    lines: list[bytes | None] = []
    try:
        lines += [output.line(time.monotonic() + 60) for _expected in range(2)]
        dovecot.append([customer_mail(2)], folder=folder)
        lines += [output.line(time.monotonic() + 30) for _expected in range(2)]
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=30)
    shared.pull()
    assert lines == [
        b"uid 1: new_ticket",
        f"support@acme.example ({folder}): 1 new, 0 duplicates, 0 finished after an interruption; last UID 1".encode(),
        b"uid 2: new_ticket",
        f"support@acme.example ({folder}): 1 new, 0 duplicates, 0 finished after an interruption; last UID 2".encode(),
    ]
    assert watcher.returncode == 0
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 2


def _settings_form(mailbox: Mailbox) -> dict[str, object]:
    """The mailbox page's form as the browser posts it back unchanged (the stored secret is never sent)."""
    return {
        "address": mailbox.address,
        "display_name": mailbox.display_name,
        "default_team": mailbox.default_team_id or "",
        "default_product_area": mailbox.default_product_area_id or "",
        "unknown_sender_rule": mailbox.unknown_sender_rule,
        "subject_threading_days": mailbox.subject_threading_days,
        "max_message_bytes": mailbox.max_message_bytes,
        "is_active": "on",
        "imap_host": mailbox.imap_host,
        "imap_port": mailbox.imap_port,
        "imap_security": mailbox.imap_security,
        "imap_username": mailbox.imap_username,
        "imap_auth": mailbox.imap_auth,
        "imap_folder": mailbox.imap_folder,
    }


def test_the_mailboxes_page_says_which_mailbox_cannot_be_fetched_and_since_when(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    dovecot.append([customer_mail(1)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder, imap_secret="wrong password")
    admin = signed_in_client(acme.admin)
    assert "Not checked yet" in admin.get("/settings/mailboxes/").content.decode()

    with time_machine.travel(dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC), tick=False):
        imap.fetch_mailbox(mailbox)
    with time_machine.travel(dt.datetime(2026, 3, 3, 9, 5, tzinfo=dt.UTC), tick=False):
        imap.fetch_mailbox(mailbox)  # still failing: "since" stays at the first failure
    mailbox.refresh_from_db()
    assert (mailbox.imap_error, mailbox.imap_failing_since, mailbox.imap_checked_at) == (
        "Sign-in was refused. Check the user name and the password or token. (error: sign_in_refused)",
        dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 3, 9, 5, tzinfo=dt.UTC),
    )
    status = re.search(r"<td data-imap-status>(.*?)</td>", admin.get("/settings/mailboxes/").content.decode(), re.S)
    assert status is not None
    assert " ".join(re.sub(r"<[^>]+>", " ", status.group(1)).split()) == (
        "Failing since March 3, 2026, 9 a.m.: Sign-in was refused. Check the user name and the password or token. (error: sign_in_refused)"
    )

    # An admin saving other settings does not wipe the status; the right password clears it on the next fetch.
    admin.post(f"/settings/mailboxes/{mailbox.pk}/", {**_settings_form(mailbox), "display_name": "Support"})
    mailbox.refresh_from_db()
    assert (mailbox.display_name, mailbox.imap_error[:20]) == ("Support", "Sign-in was refused.")
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_secret=SUPPORT_PASSWORD)
    mailbox.refresh_from_db()
    assert imap.fetch_mailbox(mailbox).new == 1
    mailbox.refresh_from_db()
    assert (mailbox.imap_error, mailbox.imap_failing_since) == ("", None)
    assert "checked 0" in admin.get("/settings/mailboxes/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_mail_arriving_while_new_mail_is_fetched_is_not_left_for_the_next_idle(
    acme: Cast, dovecot: Dovecot, folder: str
) -> None:
    # The customer's second mail lands while the watcher is still importing the first (deterministically: from
    # the first one's callback), before the watcher goes into IDLE. Dovecot does not tell of it when IDLE starts,
    # only in the answer to a command or at its own idle check 30 s later; with polling every 5 minutes, asking
    # before going into IDLE is what brings it in within seconds.
    dovecot.append([customer_mail(1)], folder=folder)
    mailbox = imap_mailbox(acme, dovecot, folder)
    arrived: list[int] = []
    news = threading.Condition()

    def on_message(uid: int, result: IngestResult) -> None:
        if uid == 1:
            dovecot.append([customer_mail(2)], folder=folder)
        with news:
            arrived.append(uid)
            news.notify_all()

    with idle_watcher(mailbox, on_message) as watcher, news:
        both = news.wait_for(lambda: len(arrived) >= 2, timeout=10)
    assert (both, arrived, watcher.is_alive()) == (True, [1, 2], False)
