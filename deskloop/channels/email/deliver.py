"""Delivering a decided email through the ticket and customer services: thread it onto its ticket or open one,
copy the people it was written to, and act on bounces. Writes the outcome onto the ``InboundEmail`` instance;
the pipeline stores it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, TypedDict

from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.core.plain_sql import related_rows
from deskloop.customers.models import Contact
from deskloop.customers.queries import identity_with_contact
from deskloop.customers.services import (
    clear_email_bouncing,
    find_or_create_contacts,
    mark_emails_bouncing,
    normalize_email,
)
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import Channel, Message, StatusCategory, Ticket
from deskloop.tickets.services.channel_writes import add_cc_contacts, add_system_note, link_inline_images
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message, add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket

from . import bounce_address, conversation_threads, sender_trust
from .decide import DETAIL_MAX, Bounce, Refusal
from .models import InboundEmail, InboundState, Mailbox, OutboundEmail, UnknownSenderRule
from .parsing import ParsedEmail
from .reading import Mail
from .spam import SpamVerdict

MAX_CC_CONTACTS = 20


class Outcome:
    NEW_TICKET = "new_ticket"
    FOLLOW_UP = "follow_up"
    THREADED = "threaded"


def usable_address(address: str) -> str | None:
    """The address as contacts are stored under it, or None when it is not a valid address."""
    try:
        return normalize_email(address)
    except ValidationFailed:
        return None


# The workspace's agents with their users' addresses, in one join prepared once per process.
_AGENTS = related_rows(Agent, related=("user",), where=("workspace_id",))


@dataclass(frozen=True)
class _Agents:
    """The workspace's agents' addresses: whether the sender is an (active) agent, and whom not to copy on a ticket
    (every agent, active or not)."""

    active_by_email: dict[str, Agent]  # lower-cased address -> agent (the lowest id when several share it)
    emails: frozenset[str]

    @classmethod
    def of(cls, workspace_id: int) -> _Agents:
        active: dict[str, Agent] = {}
        emails: set[str] = set()
        for agent, user in _AGENTS.fetch([workspace_id]):
            agent.user = user
            address = (user.email or "").lower()
            emails.add(address)
            if agent.is_active:
                active.setdefault(address, agent)
        return cls(active_by_email=active, emails=frozenset(emails))


def deliver(
    inbound: InboundEmail, mail: Mail, *, sender: str, own_addresses: frozenset[str], spam: SpamVerdict | None = None
) -> None:
    """Thread ``mail`` onto its ticket or open one (see docs/architecture.md, "Inbound email transports");
    ``sender``: the usable sender address the decision found; ``spam``: why the message is suspected spam (a new
    ticket from it opens in the Spam view; a message joining a conversation keeps the verdict in its meta only).
    Raises on any error (the pipeline quarantines)."""
    mailbox, parsed = inbound.mailbox, mail.parsed
    workspace = mailbox.workspace
    # With the organization: a ticket opened for this contact indexes its name (search.index_ticket).
    identity = identity_with_contact(workspace.pk, sender)
    contact = identity.contact if identity is not None else None
    if contact is not None and contact.is_blocked:
        _refuse(inbound, Refusal.BLOCKED_SENDER)
        return
    if identity is not None and identity.bouncing_since is not None and not mail.reading.dmarc_failed:
        clear_email_bouncing(identity=identity)
    meta = _channel_meta(inbound, mailbox, mail)
    if spam is not None:
        meta["spam"] = dataclasses.asdict(spam)
    when = _when(inbound, parsed)
    match = conversation_threads.find_ticket(
        mailbox=mailbox,
        workspace=workspace,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        subject=parsed.subject,
        requester_id=contact.pk if contact else None,
        now=when,
    )
    if match is not None and mail.reading.dmarc_failed:
        # A message failing DMARC may not be who it claims; it never joins an existing conversation by itself.
        meta["unthreaded_from"] = match.ticket.number
        match = None
    agents = _Agents.of(workspace.pk)
    agent = _proven_agent(agents, parsed, sender=sender, mailbox=mailbox, match=match, meta=meta)
    if match is not None and agent is not None:
        # An agent writing about a ticket adds a note, never a reply that would be emailed out again.
        note = add_internal_note(
            ticket=match.ticket,
            agent=agent,
            body_text=_text(mail),
            body_html=mail.html,
            attachments=mail.attachments,
            via="email",
        )
        _delivered(inbound, match.ticket, note, Outcome.THREADED)
        return
    # The sender (when new) and everyone else the customer wrote to, found or created in one lookup.
    name = parsed.from_.name if parsed.from_ is not None and parsed.from_.normalized == sender else ""
    wanted = [] if contact is not None else [(sender, name)]
    people = find_or_create_contacts(
        workspace=workspace, wanted=wanted + _copied(parsed, sender, own_addresses, agents)
    )
    if contact is None:
        contact, people = people[0], people[1:]
    ticket = match.ticket if match is not None else None
    if ticket is not None:
        on_ticket = contact.pk == ticket.requester_id or ticket.cc_contacts.filter(pk=contact.pk).exists()
        if not on_ticket and mailbox.unknown_sender_rule == UnknownSenderRule.ADD_AS_CC:
            add_cc_contacts(ticket=ticket, contacts=[contact], via="email")
            on_ticket = True
        if not on_ticket:
            meta["related_to"] = ticket.number
        elif ticket.status.category == StatusCategory.CLOSED:
            meta["follow_up_of"] = ticket.number
        else:
            message = add_customer_message(
                ticket=ticket,
                contact=contact,
                message=CustomerMessage(**_message_fields(mail, meta, when)),
                via="email",
            )
            _copy_and_link(ticket, message, people)
            _delivered(inbound, ticket, message, Outcome.THREADED)
            return
    _open(inbound, mail, contact, people, meta, when, closed=ticket if "follow_up_of" in meta else None)


def _proven_agent(
    agents: _Agents,
    parsed: ParsedEmail,
    *,
    sender: str,
    mailbox: Mailbox,
    match: conversation_threads.ThreadMatch | None,
    meta: dict[str, Any],
) -> Agent | None:
    """The active agent whose address sent the mail when the mail proves it (sender_trust), else None.

    Anyone can write an agent's address into From: unproven mail is the customer's, flagged in ``meta`` for the
    agents."""
    agent = agents.active_by_email.get(sender)
    if agent is None:
        return None
    unproven = sender_trust.unproven_reason(
        parsed,
        agent_address=sender,
        ticket_id=match.ticket.pk if match is not None else None,
        trusted_authserv_id=mailbox.trusted_authserv_id,
    )
    if unproven:
        meta["unverified_agent"] = {"agent": agent.pk, "reason": unproven}
        return None
    return agent


def _open(
    inbound: InboundEmail,
    mail: Mail,
    requester: Contact,
    people: list[Contact],
    meta: dict[str, Any],
    when: dt.datetime,
    closed: Ticket | None,
) -> None:
    """Open a ticket for ``mail`` (every call of ``open_ticket`` of the pipeline is here); ``closed``: the closed
    ticket this one follows up, which gets a note pointing at it."""
    mailbox = inbound.mailbox
    new = NewTicket(
        requester=requester,
        subject=mail.parsed.subject.strip() or _("(no subject)"),
        team=mailbox.default_team,
        product_area=mailbox.default_product_area,
        spam_verdict=meta.get("spam"),
        **_message_fields(mail, meta, when),
    )
    ticket, first = open_ticket(workspace=mailbox.workspace, ticket=new, via="email")
    _copy_and_link(ticket, first, people)
    if closed is not None:
        add_system_note(
            ticket=closed,
            body_text=_("The customer wrote again after this ticket was closed; follow-up: #%(number)s.")
            % {"number": ticket.number},
            via="email",
        )
    _delivered(inbound, ticket, first, Outcome.FOLLOW_UP if closed is not None else Outcome.NEW_TICKET)


class _MessageFields(TypedDict):
    body_text: str
    body_html: str
    channel: str
    attachments: list[IncomingFile]
    created_at: dt.datetime
    channel_meta: dict[str, Any]


def _message_fields(mail: Mail, meta: dict[str, Any], when: dt.datetime) -> _MessageFields:
    """The customer's message as the ticket services take it, whether it opens a ticket or joins one."""
    return _MessageFields(
        body_text=_text(mail),
        body_html=mail.html,
        channel=Channel.EMAIL,
        attachments=mail.attachments,
        created_at=when,
        channel_meta=meta,
    )


def _copy_and_link(ticket: Ticket, message: Message | None, people: list[Contact]) -> None:
    if message is not None:
        link_inline_images(message=message)
    if people:
        add_cc_contacts(ticket=ticket, contacts=people, via="email")


def _copied(parsed: ParsedEmail, sender: str, own_addresses: frozenset[str], agents: _Agents) -> list[tuple[str, str]]:
    """Everyone else the customer wrote to (To and Cc, minus our mailboxes and agents), as (address, name)."""
    wanted: list[tuple[str, str]] = []
    seen = {sender} | own_addresses | agents.emails
    for recipient in [*parsed.to, *parsed.cc]:
        usable = usable_address(recipient.address)
        if usable is None or usable in seen:
            continue
        seen.add(usable)
        wanted.append((usable, recipient.name))
    return wanted[:MAX_CC_CONTACTS]


def _text(mail: Mail) -> str:
    """The full text body; a placeholder when it is empty (the parser already made text from HTML-only mail),
    so the message is never blank."""
    return mail.reading.full_text if mail.reading.full_text.strip() else _("(This email had no text.)")


def _when(inbound: InboundEmail, parsed: ParsedEmail) -> dt.datetime:
    """Archive imports keep the Date header (so history reads right); live mail uses the arrival time."""
    now = timezone.now()
    if inbound.received_via == "import" and parsed.date is not None and parsed.date <= now:
        return parsed.date
    return now


def _delivered(inbound: InboundEmail, ticket: Ticket, message: Message | None, outcome: str) -> None:
    inbound.state = InboundState.PROCESSED
    inbound.refusal_reason = ""
    inbound.outcome = outcome
    inbound.ticket = ticket
    inbound.message = message


def _refuse(inbound: InboundEmail, reason: str) -> None:
    inbound.state = InboundState.REFUSED
    inbound.refusal_reason = reason
    inbound.outcome = ""
    inbound.detail = ""


def _channel_meta(inbound: InboundEmail, mailbox: Mailbox, mail: Mail) -> dict[str, Any]:
    parsed = mail.parsed
    auth = parsed.authentication
    meta: dict[str, Any] = {
        # A mail without a Message-ID is known by the synthetic id dedupe stored for it.
        "message_id": inbound.header_message_id if parsed.message_id_synthesized else parsed.message_id[:990],
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references[-50:]),
        "auth": {
            name: value for name, value in (("spf", auth.spf), ("dkim", auth.dkim), ("dmarc", auth.dmarc)) if value
        },
        "mailbox": mailbox.address,
        "inbound_email": inbound.pk,
        "from": mail.reading.sender,
        "to": [a.address for a in parsed.to][:MAX_CC_CONTACTS],
        "cc": [a.address for a in parsed.cc][:MAX_CC_CONTACTS],
    }
    if mail.reading.quote_hidden:
        meta["stripped_text"] = mail.reading.stripped_text
    if mail.reading.dmarc_failed:
        meta["dmarc_failed"] = True
    if mail.too_large:
        meta["attachments_too_large"] = mail.too_large
    return meta


def act_on_bounce(inbound: InboundEmail, bounce: Bounce) -> bool:
    """A bounce never opens a ticket. When it proves to be about an email we sent (bounce_address, or our signed
    Message-ID), mark those of that email's recipients it says failed for good as bouncing and tell the ticket.
    Anyone can write a bounce: one that proves nothing, or an abuse complaint, changes no address. Writes why on
    ``inbound.detail``; returns whether ``inbound`` changed."""
    lines: list[str] = []
    sent = _bounced_email(inbound.workspace_id, bounce)
    if bounce.report.source == "arf":
        lines.append(_("An abuse complaint (feedback report), not a bounce: nobody is marked as bouncing."))
    elif sent is None:
        lines.append(
            _("Not about an email we sent (no bounce address or signed Message-ID of ours): nobody is marked.")
        )
    else:
        recipients = _recipients_of(sent)
        marked_ones = [address for address in bounce.failed if address in recipients]
        known = mark_emails_bouncing(workspace_id=inbound.workspace_id, emails=marked_ones, since=timezone.now())
        marked = [address for address in marked_ones if address in known]
        strangers = [address for address in bounce.failed if address not in recipients]
        if marked:
            lines.append(_("Marked as bouncing: %(list)s") % {"list": ", ".join(marked)})
        if strangers:
            lines.append(
                _("Not recipients of the bounced email, so not marked: %(list)s") % {"list": ", ".join(strangers)}
            )
    if sent is not None and sent.ticket is not None and sent.ticket.deleted_at is None:
        add_system_note(ticket=sent.ticket, body_text=_bounce_note(bounce), via="email")
        inbound.ticket = sent.ticket
    inbound.detail = "\n".join([inbound.detail, *lines])[:DETAIL_MAX]
    return True


def _recipients_of(sent: OutboundEmail) -> set[str]:
    """The addresses an email we sent went to (``to``/``cc`` hold [name, address] pairs)."""
    addresses = {sent.recipient}
    for entry in [*sent.to, *sent.cc]:
        address = entry[-1] if isinstance(entry, list) and entry else entry
        if isinstance(address, str):
            addresses.add(address)
    return {normalized for address in addresses if (normalized := usable_address(address)) is not None}


def _bounced_email(workspace_id: int, bounce: Bounce) -> OutboundEmail | None:
    """The email of ours the bounce is about: named by our tagged envelope sender, else by a Message-ID of an email
    we sent (the returned message's, or one the bounce answers). A Message-ID in our format counts only signed."""
    sent = OutboundEmail.objects.filter(workspace_id=workspace_id).select_related("ticket")
    for value in bounce.envelope_headers:
        outbound_id = bounce_address.sent_email_of(value)
        if outbound_id is not None:
            found = sent.filter(pk=outbound_id).first()
            if found is not None:
                return found
    keys = []
    for reference in (bounce.report.original_message_id, *bounce.references):
        key = conversation_threads.normalize_message_id(reference)
        if key and (not conversation_threads.is_ours(key) or conversation_threads.verify_message_id(key) is not None):
            keys += [key, f"<{key}>"]
    if not keys:
        return None
    return sent.filter(header_message_id__in=keys).order_by("-id").first()


def _bounce_note(bounce: Bounce) -> str:
    report = bounce.report
    failed = report.failed or report.recipients
    recipients = ", ".join(r.address for r in failed) or _("an unknown recipient")
    reason = next((r.diagnostic or r.status for r in failed if r.diagnostic or r.status), "") or _("no reason given")
    if failed and all(r.action == "delayed" for r in failed):
        return _("Delivery of an email about this ticket to %(recipients)s is delayed: %(reason)s") % {
            "recipients": recipients,
            "reason": reason,
        }
    return _("An email about this ticket could not be delivered to %(recipients)s: %(reason)s") % {
        "recipients": recipients,
        "reason": reason,
    }
