"""Whether mail from an agent's address was written by that agent.

Anyone can put an agent's address in ``From:``. Mail we believe to be an agent's becomes an internal note whose
@mentions notify colleagues, so the claim has to be proven by one of:

1. the mail answers (In-Reply-To or References) a Message-ID we signed for an email about the same ticket sent to
   that very address (``conversation_threads.sent_to``): only someone who received it there can quote it;
2. the mailbox's own receiving server (``Mailbox.trusted_authserv_id``) wrote an Authentication-Results header
   saying DMARC passed for the From domain. Verdicts from any other authserv-id are ignored: the header is plain
   text the sender can write.

Unproven mail is delivered as a customer's (public, from a contact, no mentions) and flagged with the reason
(``UNPROVEN``), which the ticket page and the API show.
"""

from __future__ import annotations

from . import conversation_threads
from .header_text import parse_authentication_results
from .parsing import ParsedEmail

# The reason stored on a flagged message (channel_meta["unverified_agent"]["reason"]).
UNPROVEN = "unproven"


def unproven_reason(parsed: ParsedEmail, *, agent_address: str, ticket_id: int | None, trusted_authserv_id: str) -> str:
    """Empty when ``parsed`` proves it comes from the agent at ``agent_address`` (normalized); otherwise the reason.
    ``ticket_id``: the ticket the mail threads onto (None: it threads nowhere, so only DMARC can prove it)."""
    if ticket_id is not None and _answers_mail_sent_to(parsed, agent_address, ticket_id):
        return ""
    if _trusted_dmarc_pass(parsed, agent_address, trusted_authserv_id):
        return ""
    return UNPROVEN


def _answers_mail_sent_to(parsed: ParsedEmail, address: str, ticket_id: int) -> bool:
    references = [parsed.in_reply_to, *reversed(parsed.references[-50:])]
    return any(
        conversation_threads.sent_to(reference, ticket_id=ticket_id, recipient=address)
        for reference in references
        if reference
    )


def _trusted_dmarc_pass(parsed: ParsedEmail, address: str, trusted_authserv_id: str) -> bool:
    trusted = trusted_authserv_id.strip().lower()
    if not trusted or parsed.from_ is None or parsed.from_.normalized != address:
        return False
    domain = parsed.from_.domain.strip().lower().rstrip(".")
    for value in parsed.header_all("Authentication-Results"):
        verdict = parse_authentication_results(value)
        if verdict.authserv_id == trusted and verdict.dmarc == "pass" and verdict.header_from.rstrip(".") == domain:
            return True
    return False
