"""Real messages from the corpus (testdata/email), optionally with some headers replaced, for the pipeline's stories."""

from __future__ import annotations

import email
from email.policy import compat32

from .email_corpus import CORPUS

BASIC = "mikel-mail/spec/fixtures/emails/plain_emails/basic_email.eml"  # From Mikel Lindsaar <test@lindsaar.net>
BOUNCE = "sisimai-set-of-emails/maildir/bsd/rfc3464-01.eml"  # userunknown@bouncehammer.jp, original id below
BOUNCED_MESSAGE_ID = "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"
AUTO_REPLY = "sisimai-set-of-emails/maildir/bsd/rfc3834-02.eml"  # "Automatic reply: Nyaan"


def real(name: str, **headers: str) -> bytes:
    """The corpus file ``name``; each keyword (underscores for dashes) replaces that header, "" removes it."""
    raw = (CORPUS / name).read_bytes()
    if not headers:
        return raw
    message = email.message_from_bytes(raw, policy=compat32)
    for key, value in headers.items():
        header = key.replace("_", "-")
        del message[header]
        if value:
            message[header] = value
    return message.as_bytes()
