"""Mail backends for tests: Django's in-memory outbox, preceded by failures a real SMTP server produces.

Not a mock of Deskloop's code: they stand where an SMTP server would, behind Django's backend interface, and
every message that gets through lands in ``django.core.mail.outbox`` like with the locmem backend.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class ScriptedFailuresBackend(LocmemBackend):
    """Raises the queued exceptions, one per send, then delivers like the locmem backend."""

    failures: ClassVar[list[BaseException]] = []
    attempts: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[Any]) -> int:
        type(self).attempts += 1
        if type(self).failures:
            raise type(self).failures.pop(0)
        return int(super().send_messages(messages))


def script(*failures: BaseException) -> None:
    ScriptedFailuresBackend.failures = list(failures)
    ScriptedFailuresBackend.attempts = 0


def disconnected() -> smtplib.SMTPServerDisconnected:
    return smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def user_unknown(address: str) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({address: (550, b"5.1.1 <" + address.encode() + b">: User unknown")})


BACKEND = "deskloop.channels.email.tests.mail_backends.ScriptedFailuresBackend"
