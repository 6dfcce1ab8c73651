"""A real Dovecot IMAP server on loopback for the fetcher's tests, started as a child process in a temp dir.

The server listens on 127.0.0.1 on free ports: plain IMAP (also offering STARTTLS) and IMAPS, with a
self-signed certificate made for 127.0.0.1 (tests trust it through SSL_CERT_FILE). Users live in a passwd-file;
for XOAUTH2 Dovecot checks the bearer token against the same passdb, i.e. the token is the user's password there.
If Dovecot is missing the tests fail (CI's .ci/run installs dovecot-imapd); they never skip.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the models need Django set up; this module is imported by conftest before that
    from deskloop.channels.email.models import Mailbox
    from deskloop.conftest import Cast

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
SUPPORT_USER = "support"
SUPPORT_PASSWORD = "imap-secret-1"
OAUTH_USER = "oauth"
OAUTH_TOKEN = "ya29.a0-test-access-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def imap_mailbox(cast: Cast, dovecot: Dovecot, folder: str = "INBOX", **overrides: object) -> Mailbox:
    """``cast``'s mailbox support@<workspace>.example, fetching ``folder`` of this Dovecot as the support user over
    clear-text loopback; ``overrides`` change any MailboxSettings field (a wrong password, another port...)."""
    from deskloop.channels.email.services import MailboxSettings, create_mailbox

    values = MailboxSettings(
        address=f"support@{cast.workspace.slug}.example",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_username=SUPPORT_USER,
        imap_secret=SUPPORT_PASSWORD,
        imap_folder=folder,
    )
    for name, value in overrides.items():
        setattr(values, name, value)
    return create_mailbox(actor=cast.admin, values=values)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class Dovecot:
    """One running server. ``append`` puts messages in a user's folder over IMAP and returns their UIDs."""

    def __init__(self, *, capabilities: str = "") -> None:
        if not os.path.exists(DOVECOT):
            pytest.fail(
                "Dovecot is not installed (no `dovecot` binary): `apt-get install dovecot-imapd`; CI's .ci/run "
                "installs it. The IMAP tests need a real server and do not skip."
            )
        self.root = Path(tempfile.mkdtemp(prefix="deskloop-dovecot-"))
        self.root.chmod(0o755)  # Dovecot's unprivileged processes must reach their sockets and the mail
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = self.root / "cert.pem"
        if os.geteuid() == 0:
            # Dovecot refuses to run its login and internal processes, or to touch mail, as root.
            internal = "dovecot" if _user_exists("dovecot") else "nobody"
            login = "dovenull" if _user_exists("dovenull") else "nobody"
            mail_owner = pwd.getpwnam("nobody")
        else:
            mail_owner = pwd.getpwuid(os.getuid())
            internal = login = mail_owner.pw_name
        self.mail_uid, self.mail_gid = mail_owner.pw_uid, mail_owner.pw_gid
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        (self.root / "mail").chmod(0o777)
        self._certificate()
        passwd = self.root / "passwd"
        lines = [
            f"{SUPPORT_USER}:{{PLAIN}}{SUPPORT_PASSWORD}:{self.mail_uid}:{self.mail_gid}::{self.root}/mail/{SUPPORT_USER}::nodelay=yes",
            f"{OAUTH_USER}:{{PLAIN}}{OAUTH_TOKEN}:{self.mail_uid}:{self.mail_gid}::{self.root}/mail/{OAUTH_USER}::nodelay=yes",
        ]
        passwd.write_text("\n".join(lines) + "\n")
        passwd.chmod(0o644)
        extra = f"imap_capability = {capabilities}\n" if capabilities else ""
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
ssl = yes
ssl_cert = <{self.root}/cert.pem
ssl_key = <{self.root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
mail_location = maildir:{self.root}/mail/%u
{extra}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delays after the tests' deliberate sign-in failures (Dovecot's brute-force penalty).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
        )
        self.process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
            [DOVECOT, "-F", "-c", str(self.config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._wait_until_listening()

    def _certificate(self) -> None:
        subprocess.run(  # noqa: S603 (our own fixed command line)
            [
                OPENSSL,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(self.root / "key.pem"),
                "-out",
                str(self.ca_file),
            ],
            check=True,
            capture_output=True,
        )

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Dovecot exited at start ({self.process.returncode}):\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"Dovecot did not start listening in 15 s:\n{self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        output = ""
        if self.process.poll() is not None and self.process.stdout is not None:
            output = self.process.stdout.read().decode("utf-8", "replace")
        return output + (path.read_text(errors="replace") if path.exists() else "")

    def client(self, user: str = SUPPORT_USER, password: str = SUPPORT_PASSWORD) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(user, password)
        return conn

    def append(self, messages: list[bytes], *, folder: str = "INBOX", user: str = SUPPORT_USER) -> list[int]:
        """APPEND each message (as an MTA's delivery would put it) and return the UIDs the server gave them."""
        password = SUPPORT_PASSWORD if user == SUPPORT_USER else OAUTH_TOKEN
        conn = self.client(user, password)
        try:
            if folder != "INBOX":
                conn.create(f'"{folder}"')
            uids = []
            for raw in messages:
                status, data = conn.append(f'"{folder}"', None, None, raw)
                assert status == "OK", data
                # [APPENDUID <uidvalidity> <uid>] (RFC 4315)
                uids.append(int(data[0].split(b"APPENDUID ")[1].split(b"]")[0].split()[1]))
            return uids
        finally:
            conn.logout()

    def uidvalidity(self, folder: str = "INBOX", user: str = SUPPORT_USER) -> int:
        conn = self.client(user)
        try:
            conn.select(f'"{folder}"', readonly=True)
            return int(conn.response("UIDVALIDITY")[1][0])
        finally:
            conn.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
