"""A fixed month of Acme's support, the data every report test counts by hand.

Acme works in Europe/Madrid (UTC+1 in March 2026, before the clocks change on the 29th). "Now" is
2026-03-20 12:00 UTC; the reports' range is 2026-03-01 .. 2026-03-20 (Madrid dates).

ticket  created (UTC)       channel  assignee  area              tags         status   1st resp (cal/bus min)  solved (cal/bus min)  reopened
T1      02-28 23:30 (Mar 1) email    Maria     Billing>Invoices  vat          solved   60 / 60                 600 / 300             1
T2      03-02 09:00         email    Maria     Billing           vat, refund  solved   30 / 30                 1440 / 480
T3      03-03 10:00         web      Boris     Login             -            open     120 / 90                -
T4      03-09 08:00         widget   Boris     -                 -            new      -                       -
T5      03-10 15:00         email    Maria     Billing>Invoices  refund       closed   10 / 10                 90 / 90
base    03-20 12:00         email    -         -                 -            new      (the cast's own ticket: Carmen's VAT question)
T6      02-27 12:00         email    Maria     -                 -            pending  outside the range: only the backlog counts it
T7      03-05 10:00         email    -         -                 -            spam     never counted
T8      02-15 10:00         email    Maria     Billing>Invoices  -            solved   the previous period of "top problems"

SLA policy "Standard": first response achieved on T1, T2, T5, breached on T3, running on T4; resolution breached on
T1, achieved on T2 and T5, running on T3. CSAT: T2 good, T5 bad (Maria's), T3 good (Boris's). Public replies: Maria
1 on T1, 2 on T2, 1 on T5; Boris 1 on T3 and an internal note on T2 (not a reply). Quality reviews of Maria: 80 (T1,
5 March) and 90 (T2, 6 March) in the range, 40 (T8, 20 February) before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from deskloop.conftest import Cast
from deskloop.quality.models import Review, Scorecard
from deskloop.service_levels.models import SlaPolicy, SlaTarget
from deskloop.surveys.models import Survey, SurveyKind, SurveyResponse
from deskloop.tickets.models import Message, MessageKind, ProductArea, Status, Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
RANGE = {"since": "2026-03-01", "until": "2026-03-20"}


@dataclass
class Story:
    base: Ticket
    t1: Ticket
    t2: Ticket
    t3: Ticket
    t4: Ticket
    t5: Ticket
    t6: Ticket
    t7: Ticket
    t8: Ticket
    billing: ProductArea
    invoices: ProductArea
    login: ProductArea
    policy: SlaPolicy

    def numbers(self, *names: str) -> list[int]:
        return sorted(getattr(self, name).number for name in names)


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def build_story(cast: Cast) -> Story:
    """Call inside ``time_machine.travel(NOW)``: the cast's ticket is then created "now"."""
    workspace = cast.workspace
    workspace.time_zone = "Europe/Madrid"
    workspace.save(update_fields=["time_zone"])
    billing = ProductArea.objects.create(workspace=workspace, name="Billing", path="Billing")
    invoices = ProductArea.objects.create(
        workspace=workspace, name="Invoices", parent=billing, path="Billing > Invoices"
    )
    login = ProductArea.objects.create(workspace=workspace, name="Login", path="Login")
    status = {s.category: s for s in Status.objects.filter(workspace=workspace, is_default=True)}
    maria, boris = cast.agent, cast.other_team_agent
    # The cast's ticket was opened when the fixture ran; the story has it opened "now".
    Ticket.objects.filter(pk=cast.ticket.pk).update(created_at=NOW, updated_at=NOW)
    cast.ticket.refresh_from_db()

    def ticket(subject: str, created: dt.datetime, **fields: object) -> Ticket:
        tags = fields.pop("tags", ())
        opened, _message = open_ticket(
            workspace=workspace,
            ticket=NewTicket(
                requester=cast.customer,
                subject=subject,
                body_text=subject,
                channel=str(fields.pop("channel", "email")),
                created_at=created,
                tags=tags,  # type: ignore[arg-type]
            ),
        )
        category = str(fields.pop("category", "new"))
        Ticket.objects.filter(pk=opened.pk).update(status=status[category], **fields)
        opened.refresh_from_db()
        return opened

    def minutes(start: dt.datetime, count: int) -> dt.datetime:
        return start + dt.timedelta(minutes=count)

    t1c, t2c, t3c, t5c = _at(2, 28, 23, 30), _at(3, 2, 9), _at(3, 3, 10), _at(3, 10, 15)
    t1 = ticket(
        "VAT number wrong on the invoice",
        t1c,
        channel="email",
        assignee=maria,
        product_area=invoices,
        tags=["vat"],
        request_type="problem",
        category="solved",
        first_response_at=minutes(t1c, 60),
        first_response_business_minutes=60,
        solved_at=minutes(t1c, 600),
        resolution_business_minutes=300,
        reopen_count=1,
    )
    t2 = ticket(
        '=HYPERLINK("http://evil.example","Refund") please',
        t2c,
        channel="email",
        assignee=maria,
        product_area=billing,
        tags=["vat", "refund"],
        request_type="bug",
        category="solved",
        first_response_at=minutes(t2c, 30),
        first_response_business_minutes=30,
        solved_at=minutes(t2c, 1440),
        resolution_business_minutes=480,
    )
    t3 = ticket(
        "Cannot sign in",
        t3c,
        channel="web",
        assignee=boris,
        product_area=login,
        request_type="question",
        category="open",
        first_response_at=minutes(t3c, 120),
        first_response_business_minutes=90,
    )
    t4 = ticket("Widget question", _at(3, 9, 8), channel="widget", assignee=boris, request_type="question")
    t5 = ticket(
        "Refund for the duplicate invoice",
        t5c,
        channel="email",
        assignee=maria,
        product_area=invoices,
        tags=["refund"],
        request_type="problem",
        category="closed",
        first_response_at=minutes(t5c, 10),
        first_response_business_minutes=10,
        solved_at=minutes(t5c, 90),
        resolution_business_minutes=90,
    )
    t6 = ticket("Waiting for the bank", _at(2, 27, 12), assignee=maria, category="pending")
    t7 = ticket("Cheap watches", _at(3, 5, 10), is_spam=True)
    t8 = ticket(
        "Invoice PDF empty",
        _at(2, 15, 10),
        assignee=maria,
        product_area=invoices,
        category="solved",
        first_response_at=_at(2, 15, 11),
        first_response_business_minutes=60,
        solved_at=_at(2, 15, 12),
        resolution_business_minutes=120,
    )
    for replied, author, count in ((t1, maria, 1), (t2, maria, 2), (t5, maria, 1), (t3, boris, 1)):
        for index in range(count):
            Message.objects.create(
                workspace=workspace,
                ticket=replied,
                kind=MessageKind.REPLY,
                author_agent=author,
                body_text="Thanks, looking into it.",
                created_at=minutes(replied.created_at, 10 + index),
            )
    Message.objects.create(workspace=workspace, ticket=t2, kind=MessageKind.NOTE, author_agent=boris, body_text="fyi")

    policy = SlaPolicy.objects.create(
        workspace=workspace, name="Standard", first_response_minutes=60, resolution_minutes=480
    )

    def target(on: Ticket, metric: str, *, stopped: bool, breached: bool) -> None:
        SlaTarget.objects.create(
            workspace=workspace,
            ticket=on,
            policy=policy,
            metric=metric,
            started_at=on.created_at,
            due_at=minutes(on.created_at, 60),
            stopped_at=minutes(on.created_at, 120) if stopped else None,
            breached_at=minutes(on.created_at, 60) if breached else None,
        )

    for on in (t1, t2, t5):
        target(on, "first_response", stopped=True, breached=False)
    target(t3, "first_response", stopped=True, breached=True)
    target(t4, "first_response", stopped=False, breached=False)
    target(t1, "resolution", stopped=True, breached=True)
    for on in (t2, t5):
        target(on, "resolution", stopped=True, breached=False)
    target(t3, "resolution", stopped=False, breached=False)

    csat = Survey.objects.create(workspace=workspace, kind=SurveyKind.CSAT, name="CSAT", question="Happy?")
    for on, agent, good in ((t2, maria, True), (t5, maria, False), (t3, boris, True)):
        SurveyResponse.objects.create(
            workspace=workspace,
            survey=csat,
            kind=SurveyKind.CSAT,
            contact=cast.customer,
            ticket=on,
            agent=agent,
            score=1 if good else 0,
            satisfied=good,
            channel="email",
            created_at=minutes(on.created_at, 2000),
        )
    # Quality reviews of Maria's conversations written in the range (80 and 90) and one before it (not counted).
    scorecard = Scorecard.objects.create(workspace=workspace)
    for on, score, written in ((t1, 80, _at(3, 5, 9)), (t2, 90, _at(3, 6, 9)), (t8, 40, _at(2, 20, 9))):
        Review.objects.create(
            workspace=workspace,
            ticket=on,
            agent=maria,
            reviewer=cast.admin if on != t2 else cast.owner,
            scorecard=scorecard,
            score=score,
            created_at=written,
            week=(written - dt.timedelta(days=written.weekday())).date(),
        )
    return Story(
        base=cast.ticket,
        t1=t1,
        t2=t2,
        t3=t3,
        t4=t4,
        t5=t5,
        t6=t6,
        t7=t7,
        t8=t8,
        billing=billing,
        invoices=invoices,
        login=login,
        policy=policy,
    )
