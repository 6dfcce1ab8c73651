"""Every route x every role x own-workspace object x another workspace's object.

The matrix walks the URL resolver, so a new route is covered the moment it exists: a route without a declared
policy fails here, and so does a URL parameter this test does not know how to fill (add a sample below).
A foreign workspace's object must answer 404 (or 403 for a role the route refuses anyway), never its data,
and a POST against it must change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from deskloop.accounts.models import ALL_ROLES
from deskloop.conftest import Cast, signed_in_client
from deskloop.core.policy import RoutePolicy, Tenancy, policy_of
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import TicketEvent
from deskloop.tickets.services.messages import add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket

# A marker that appears in every foreign object's visible text; it must never reach an Acme agent.
FOREIGN_MARKER = "UMBRELLA-CONFIDENTIAL"


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "tickets/<int:number>/"
    name: str
    callback: Callable[..., Any]
    params: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if prefix + str(entry.pattern) == "api/v1/":
                continue  # the API is walked operation by operation below
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            params = tuple(re.findall(r"<(?:\w+:)?(\w+)>", pattern))
            yield Route(pattern=pattern, name=f"{namespace}{entry.name or ''}", callback=entry.callback, params=params)


def html_routes() -> list[Route]:
    return [r for r in _walk(get_resolver().url_patterns) if not r.pattern.startswith(("static/", "media/"))]


@dataclass
class World:
    acme: Cast
    umbrella: Cast
    own: dict[str, Any]
    foreign: dict[str, Any]


def _samples(cast: Cast) -> dict[str, Any]:
    """A value for every URL parameter name used by the routes, pointing at an object of ``cast``'s workspace."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from deskloop.accounts.services import create_api_token, invite_agent
    from deskloop.tickets.models import Attachment, CustomField, Macro, ProductArea, SavedView, Status, Tag

    ticket = cast.ticket
    note = add_internal_note(
        ticket=ticket,
        agent=cast.agent,
        body_text=f"note {cast.workspace.slug}",
        # So the attachment download route has an object of each workspace to fetch.
        attachments=[IncomingFile(filename="matrix.txt", content=f"file {cast.workspace.slug}".encode())],
    )
    token, _secret = create_api_token(agent=cast.agent, name=f"token {cast.workspace.slug}")
    invitation, secret = invite_agent(actor=cast.owner, email=f"new@{cast.workspace.slug}.example")
    area = ProductArea.objects.create(workspace=cast.workspace, name="Billing", path="Billing")
    tag = Tag.objects.create(workspace=cast.workspace, name=f"tag-{cast.workspace.slug}")
    field = CustomField.objects.create(workspace=cast.workspace, key="plan_code", label="Plan code", field_type="text")
    macro = Macro.objects.create(workspace=cast.workspace, name="Thanks", body="Thanks!")
    view = SavedView.objects.create(workspace=cast.workspace, name="VIP", owner=None, filters={})
    attachment = Attachment.objects.filter(message__ticket=ticket).first()
    samples: dict[str, Any] = {
        "number": ticket.number,
        "ticket_number": ticket.number,
        "message_id": note.pk,
        "contact_id": cast.customer.pk,
        "organization_id": cast.organization.pk,
        "agent_id": cast.agent.pk,
        "team_id": cast.support.pk,
        "token_id": token.pk,
        "invitation_id": invitation.pk,
        "token": secret,
        "status_id": Status.objects.filter(workspace=cast.workspace).first().pk,  # type: ignore[union-attr]
        "product_area_id": area.pk,
        "area_id": area.pk,
        "tag_id": tag.pk,
        "field_id": field.pk,
        "custom_field_id": field.pk,
        "macro_id": macro.pk,
        "view_id": view.pk,
        "saved_view_id": view.pk,
        "attachment_id": attachment.pk if attachment else 0,
        "notification_id": 0,
        "email_id": cast.customer.emails.get().pk,
        # A password-reset link of the workspace's agent (public: the link itself is the credential).
        "uidb64": urlsafe_base64_encode(force_bytes(cast.agent.user_id)),
        "workspace_slug": cast.workspace.slug,
    }
    from deskloop.webhooks.models import Delivery, DeliveryState, Endpoint

    # Made directly, not through the service: the service resolves the URL's host (SSRF check), which tests avoid.
    endpoint = Endpoint.objects.create(
        workspace=cast.workspace,
        url=f"https://hooks.{cast.workspace.slug}.example/in",
        secret="s",
        events=["ticket.created"],
    )
    delivery = Delivery.objects.create(
        workspace=cast.workspace, endpoint=endpoint, event="ticket.created", body="{}", state=DeliveryState.DELIVERED
    )
    samples["endpoint_id"] = endpoint.pk
    samples["delivery_id"] = delivery.pk
    from deskloop.service_levels.models import SlaPolicy

    samples["policy_id"] = SlaPolicy.objects.create(
        workspace=cast.workspace, name=f"SLA {cast.workspace.slug}", first_response_minutes=60
    ).pk
    from deskloop.channels.email.models import Mailbox
    from deskloop.channels.email.pipeline import ingest_raw

    mailbox = Mailbox.objects.create(workspace=cast.workspace, address=f"support@{cast.workspace.slug}.example")
    # A message without a sender: refused, so the quarantine pages have a row of each workspace to show.
    inbound = ingest_raw(mailbox=mailbox, raw=f"Subject: matrix {cast.workspace.slug}\r\n\r\nhi".encode(), via="http")
    samples.update(_knowledge_samples(cast))
    samples.update(_ideas_samples(cast))
    samples.update(_revenue_samples(cast))
    samples.update(_calendar_samples(cast))
    samples["mailbox_id"] = mailbox.pk
    samples["inbound_id"] = inbound.inbound_id
    from deskloop.channels.email.models import SenderAllowance

    samples["allowance_id"] = SenderAllowance.objects.create(
        workspace=cast.workspace, pattern=f"{cast.workspace.slug}.example"
    ).pk
    # The portal's and the help center's routes are named by the workspace's slug.
    samples["slug"] = cast.workspace.slug
    from deskloop.customers.models import Segment
    from deskloop.ideas.models import ProductTask

    samples["segment_id"] = Segment.objects.create(workspace=cast.workspace, name=f"{cast.workspace.slug} big").pk
    samples["task_id"] = ProductTask.objects.create(
        workspace=cast.workspace, title=f"task {cast.workspace.slug}", product_area=area
    ).pk
    import datetime as dt

    from django.utils import timezone

    from deskloop.channels.widget.models import EmailConfirmation

    samples.update(_survey_samples(cast))
    samples.update(_quality_samples(cast))
    samples.update(_automation_samples(cast))
    samples["confirmation_id"] = EmailConfirmation.objects.create(
        workspace=cast.workspace,
        secret_hash=f"matrix-{cast.workspace.slug}",
        code="123456",
        email=cast.customer.primary_email,
        expires_at=timezone.now() + dt.timedelta(minutes=15),
    ).public_id
    return samples


def _automation_samples(cast: Cast) -> dict[str, Any]:
    """An automation rule of ``cast``'s workspace that has run once (Umbrella's carries the marker in its name and
    its run log), so the rule, builder and run log pages of each workspace have something to show, or to leak."""
    from deskloop.automations.engine import run_rule
    from deskloop.automations.services import RuleDraft, create_rule

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    rule = create_rule(
        actor=cast.admin,
        draft=RuleDraft(
            name=f"{marker} rule",
            events=["ticket.created"],
            actions=[{"type": "add_note", "text": f"{marker} note"}],
        ),
    )
    run_rule(rule=rule, ticket_id=cast.ticket.pk, event_name="ticket.created", cycle="matrix")
    return {"rule_id": rule.pk}


def _calendar_samples(cast: Cast) -> dict[str, Any]:
    """A business calendar with a holiday, Maria's shifts in it and Support routed round-robin; Umbrella's names
    carry the marker."""
    import datetime as dt

    from deskloop.assignment.models import AgentSchedule, TeamRouting
    from deskloop.calendars.models import BusinessCalendar, Holiday

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    calendar = BusinessCalendar.objects.create(
        workspace=cast.workspace,
        name=f"{marker} calendar",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "07:00", "end": "02:00"} for day in range(7)],
    )
    holiday = Holiday.objects.create(
        workspace=cast.workspace, calendar=calendar, date=dt.date(2026, 12, 25), name=f"{marker} holiday"
    )
    AgentSchedule.objects.create(workspace=cast.workspace, agent=cast.agent, calendar=calendar, capacity=5)
    TeamRouting.objects.create(workspace=cast.workspace, team=cast.support, mode="round_robin")
    return {"calendar_id": calendar.pk, "holiday_id": holiday.pk}


def _ideas_samples(cast: Cast) -> dict[str, Any]:
    """A public idea of ``cast``'s workspace with the customer's vote (and so a follower) and an internal comment;
    Umbrella's carry the marker, so showing them to anyone of Acme is a leak. Both boards are public, so the public
    board's pages have each workspace's idea to show, or to leak."""
    from deskloop.ideas.models import IdeaBoard, IdeaComment, VoteSource
    from deskloop.ideas.services.ideas import create_idea
    from deskloop.ideas.services.votes import Voter, cast_vote

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    IdeaBoard.objects.update_or_create(workspace=cast.workspace, defaults={"is_public": True})
    idea = create_idea(workspace=cast.workspace, title=f"{marker} idea", description=f"{marker} idea body")
    vote = cast_vote(idea=idea, voter=Voter(contact=cast.customer), source=VoteSource.PORTAL).vote
    IdeaComment.objects.create(
        workspace=cast.workspace, idea=idea, author_agent=cast.agent, body=f"{marker} internal", is_internal=True
    )
    return {"idea_id": idea.pk, "vote_id": vote.pk}


def _survey_samples(cast: Cast) -> dict[str, Any]:
    """A survey of ``cast``'s workspace and its customer's answer; Umbrella's carry the marker in their name and
    comment, so an Acme page that shows one leaks."""
    from deskloop.surveys.models import ResponseChannel, SurveyKind
    from deskloop.surveys.services.responses import record_response
    from deskloop.surveys.services.surveys import SurveySettings, save_survey

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    survey = save_survey(
        agent=cast.admin, settings=SurveySettings(kind=SurveyKind.NPS, name=f"{marker} NPS", question="Recommend us?")
    )
    response = record_response(
        survey=survey, contact=cast.customer, score=9, comment=f"{marker} comment", channel=ResponseChannel.API
    )
    return {"survey_id": survey.pk, "response_id": response.pk, "score": 9}


def _quality_samples(cast: Cast) -> dict[str, Any]:
    """A scorecard criterion of ``cast``'s workspace and a review of its agent's reply on the cast's ticket;
    Umbrella's carry the marker in the criterion's name and the review's comment."""
    from deskloop.quality.services import CriterionValues, ReviewValues, add_criterion, submit_review
    from deskloop.tickets.services.messages import add_agent_reply

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    criterion = add_criterion(actor=cast.admin, values=CriterionValues(name=f"{marker} empathy", weight=2))
    add_agent_reply(ticket=cast.ticket, agent=cast.agent, body_text=f"{marker} reply")
    review = submit_review(
        reviewer=cast.admin,
        ticket=cast.ticket,
        values=ReviewValues(agent=cast.agent, ratings={criterion.pk: 3}, comment=f"{marker} review"),
    )
    return {"criterion_id": criterion.pk, "review_id": review.pk}


def _knowledge_samples(cast: Cast) -> dict[str, Any]:
    """A published public article (English, revision 1, an image) in a section of ``cast``'s workspace, so every
    agents', help-center and portal page of it has something to show; Umbrella's carry the marker in their title,
    body and name, so showing them to anyone of Acme is a leak."""
    from deskloop.knowledge.models import ArticleImage
    from deskloop.knowledge.services.articles import ArticleAbout, create_article
    from deskloop.knowledge.services.categories import create_category
    from deskloop.tickets.attachments import store_blob

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    category = create_category(actor=cast.admin, workspace=cast.workspace, name=f"{marker} category")
    section = create_category(actor=cast.admin, workspace=cast.workspace, name=f"{marker} guides", parent=category)
    article = create_article(
        actor=cast.agent,
        workspace=cast.workspace,
        locale="en",
        title=f"{marker} article",
        body_html=f"<p>{marker} body</p>",
        publish=True,
        about=ArticleAbout(category=section),
    )
    image = ArticleImage.objects.create(
        workspace=cast.workspace,
        article=article,
        blob=store_blob(b"\x89PNG\r\n\x1a\n" + cast.workspace.slug.encode()),
        filename="matrix.png",
        content_type="image/png",
        size=8,
    )
    translation = article.translations.get()
    return {
        "article_id": article.pk,
        "locale": "en",
        "revision_number": 1,
        "category_id": category.pk,
        "category_slug": section.slug,
        "article_slug": translation.slug,
        "image_key": image.key,
    }


def _revenue_samples(cast: Cast) -> dict[str, Any]:
    """A lost deal, a churn record and a lost reason of ``cast``'s workspace (Umbrella's carry the marker)."""
    import datetime as dt

    from deskloop.revenue.services.churn import ChurnValues, record_churn
    from deskloop.revenue.services.deals import DealValues, record_deal
    from deskloop.revenue.services.setup import lost_reasons_of

    marker = FOREIGN_MARKER if cast.workspace.slug == "umbrella" else "Acme"
    reason = lost_reasons_of(cast.workspace.pk)[0]
    deal = record_deal(
        workspace=cast.workspace,
        actor=cast.agent,
        values=DealValues(organization=cast.organization, name=f"{marker} deal", status="lost", lost_reason=reason),
    )
    record = record_churn(
        workspace=cast.workspace,
        actor=cast.agent,
        values=ChurnValues(
            organization=cast.organization, churned_on=dt.date(2026, 1, 31), reason="other", notes=f"{marker} notes"
        ),
    )
    return {"deal_id": deal.pk, "churn_record_id": record.pk, "lost_reason_id": reason.pk}


@pytest.fixture
def world(acme: Cast, umbrella: Cast) -> World:
    # Give Umbrella more tickets than Acme, so Umbrella's ticket numbers do not exist in Acme at all.
    for i in range(3):
        umbrella.ticket = open_ticket(
            workspace=umbrella.workspace,
            ticket=NewTicket(
                requester=find_or_create_contact(
                    workspace=umbrella.workspace, email=f"spy{i}@umbrella.example", name=f"{FOREIGN_MARKER} {i}"
                ),
                subject=f"{FOREIGN_MARKER} ticket {i}",
                body_text=f"{FOREIGN_MARKER} body",
            ),
        )[0]
    return World(acme=acme, umbrella=umbrella, own=_samples(acme), foreign=_samples(umbrella))


def test_every_html_route_declares_a_policy() -> None:
    missing = [f"{r.pattern} ({r.name})" for r in html_routes() if policy_of(r.callback) is None]
    assert missing == []


def test_every_url_parameter_has_a_sample(world: World) -> None:
    unknown = sorted({p for r in html_routes() for p in r.params if p not in world.own})
    assert unknown == [], "add samples for these URL parameters in _samples()"


def _url(route: Route, values: dict[str, Any]) -> str:
    url = "/" + route.pattern
    for param in route.params:
        url = re.sub(rf"<(?:\w+:)?{param}>", str(values[param]), url)
    return url


def _foreign_fingerprint(world: World) -> tuple[Any, ...]:
    ws = world.umbrella.workspace
    from deskloop.accounts.models import Agent, Invitation
    from deskloop.assignment.models import AgentSchedule, TeamRouting
    from deskloop.automations.models import AutomationRule
    from deskloop.calendars.models import BusinessCalendar, Holiday
    from deskloop.ideas.models import Idea, IdeaBoard, IdeaComment, IdeaSubscription, IdeaVote
    from deskloop.knowledge.models import Article, ArticleRevision, ArticleTranslation, HelpCenter, KnowledgeCategory
    from deskloop.quality.models import Review, ReviewAssignment, Scorecard, ScorecardCriterion
    from deskloop.revenue.models import ChurnRecord, Deal, LostReason, RevenueSettings
    from deskloop.service_levels.models import SlaPolicy
    from deskloop.surveys.models import Survey, SurveyResponse
    from deskloop.tickets.models import CustomField, Macro, Message, SavedView, Ticket
    from deskloop.webhooks.models import Endpoint

    def rows(model: Any, *fields: str) -> list[Any]:
        return sorted(model.objects.filter(workspace=ws).values_list("pk", *fields))

    return (
        Ticket.objects.filter(workspace=ws).count(),
        Message.objects.filter(workspace=ws).count(),
        TicketEvent.objects.filter(workspace=ws).count(),
        sum(Ticket.objects.filter(workspace=ws).values_list("version", flat=True)),
        # What the settings routes (UI and API) change: deleted, renamed, moved, rotated, revoked or demoted.
        rows(Ticket, "deleted_at"),
        rows(Endpoint, "url", "secret", "is_active", "events"),
        rows(Macro, "name", "body", "actions"),
        rows(CustomField, "label", "choices", "position", "required_on_solve"),
        rows(SavedView, "name"),
        rows(Agent, "role", "is_active"),
        rows(Invitation, "token_hash", "revoked_at"),
        rows(ArticleTranslation, "title", "body_html", "state"),
        rows(Article, "visibility", "category_id", "last_reviewed_at"),
        rows(ArticleRevision, "number"),
        rows(KnowledgeCategory, "name", "position", "name_translations"),
        rows(HelpCenter, "host_name", "holdout_percent", "widget_secret"),
        rows(Idea, "title", "description", "status", "is_public", "merged_into_id", "product_area_id", "score"),
        rows(IdeaVote, "idea_id", "importance"),
        rows(IdeaComment, "idea_id", "body"),
        rows(IdeaSubscription, "idea_id", "contact_id", "agent_id"),
        rows(IdeaBoard, "is_public", "weight_nice_to_have", "weight_important", "weight_critical"),
        rows(Deal, "name", "status", "amount", "lost_reason_id", "updated_at"),
        rows(ChurnRecord, "reason", "notes", "mrr_lost", "won_back_on"),
        rows(LostReason, "name", "missing_functionality"),
        rows(RevenueSettings, "target_industries"),
        rows(Survey, "name", "question", "is_active", "min_days_between"),
        rows(SurveyResponse, "score", "comment", "idea_vote_id"),
        rows(Scorecard, "name", "is_active", "sample_size"),
        rows(ScorecardCriterion, "name", "weight", "is_archived"),
        rows(Review, "score", "comment", "agent_id"),
        rows(ReviewAssignment, "review_id"),
        rows(AutomationRule, "name", "is_active", "conditions", "actions", "created_by_id"),
        rows(BusinessCalendar, "name", "time_zone", "weekly_hours", "is_default"),
        rows(Holiday, "date", "name"),
        rows(AgentSchedule, "calendar_id", "capacity", "availability"),
        rows(TeamRouting, "mode", "reassign_after_minutes", "last_assigned_agent_id"),
        rows(SlaPolicy, "name", "conditions", "first_response_minutes", "is_active"),
    )


def _body(response: Any) -> bytes:
    # Downloads stream (FileResponse), which has no .content.
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def _clients(world: World) -> dict[str, Client]:
    clients = {role: signed_in_client(world.acme.by_role(role)) for role in sorted(ALL_ROLES)}
    clients["anonymous"] = Client()
    return clients


def test_html_matrix(world: World) -> None:
    """For each route and role: allowed roles get through on their own objects, refused roles get 403,
    anonymous callers are sent to sign in, and nobody sees or changes Umbrella's objects."""
    clients = _clients(world)
    before = _foreign_fingerprint(world)
    failures: list[str] = []
    for route in html_routes():
        policy = policy_of(route.callback)
        assert isinstance(policy, RoutePolicy)
        own_url, foreign_url = _url(route, world.own), _url(route, world.foreign)
        for who, client in clients.items():
            own = client.get(own_url)
            if policy.tenancy == Tenancy.PUBLIC:
                if own.status_code >= 500:
                    failures.append(f"{who} GET {own_url}: {own.status_code}")
                continue
            if policy.tenancy == Tenancy.CONTACT:
                # Customers' pages: an agent's sign-in is not a customer's; everyone here is sent to sign in
                # (test_portal_contact_matrix walks them with signed-in customers).
                failures += _sent_to_portal_sign_in(who, client, own_url, foreign_url)
                continue
            if who == "anonymous":
                if own.status_code not in (302, 401) or (own.status_code == 302 and "/login/" not in own["Location"]):
                    failures.append(f"anonymous GET {own_url}: {own.status_code}, expected a redirect to sign in")
                continue
            if policy.tenancy == Tenancy.WORKSPACE and who not in policy.roles:
                if own.status_code != 403:
                    failures.append(f"{who} GET {own_url}: {own.status_code}, expected 403")
            elif own.status_code in (403, 404) or own.status_code >= 500:
                failures.append(f"{who} GET {own_url}: {own.status_code}, expected access")
            if FOREIGN_MARKER.encode() in _body(own):
                failures.append(f"{who} GET {own_url}: shows another workspace's data")
            if route.params:
                for method in ("get", "post"):
                    foreign = getattr(client, method)(foreign_url)
                    leaked = FOREIGN_MARKER.encode() in _body(foreign)
                    if foreign.status_code not in (403, 404, 405) or leaked:
                        failures.append(f"{who} {method.upper()} {foreign_url}: {foreign.status_code} leaked={leaked}")
    assert failures == []
    assert _foreign_fingerprint(world) == before


def _sent_to_portal_sign_in(who: str, client: Client, *urls: str) -> list[str]:
    failures = []
    for url in urls:
        response = client.get(url)
        slug = url.split("/")[2]
        signin = f"/portal/{slug}/signin/"
        if response.status_code != 302 or not response["Location"].startswith(signin):
            failures.append(f"{who} GET {url}: {response.status_code}, expected a redirect to {signin}")
        if FOREIGN_MARKER.encode() in _body(response):
            failures.append(f"{who} GET {url}: shows another workspace's data")
    return failures


def test_help_center_pages_never_show_another_workspaces_articles(world: World) -> None:
    """Every public help-center route under Acme's slug, with Umbrella's article and category in the URL: 404 (405
    for the other method), never Umbrella's text; anonymous visitors and signed-in agents alike."""
    from deskloop.knowledge.models import ArticleFeedback

    routes = [r for r in html_routes() if r.name.startswith("helpcenter:") and set(r.params) - {"workspace_slug"}]
    assert {r.name for r in routes} >= {"helpcenter:category", "helpcenter:article", "helpcenter:feedback"}
    mixed = {**world.foreign, "workspace_slug": world.acme.workspace.slug, "locale": "en"}
    failures = []
    for route in routes:
        url = _url(route, mixed)
        if route.params == ("workspace_slug", "locale"):
            continue  # nothing of Umbrella's in the URL
        for who, client in _clients(world).items():
            for method in ("get", "post"):
                answer = getattr(client, method)(url)
                if answer.status_code not in (404, 405) or FOREIGN_MARKER.encode() in answer.content:
                    failures.append(f"{who} {method.upper()} {url}: {answer.status_code}")
    assert failures == []
    assert ArticleFeedback.objects.count() == 0
    search = Client().get(f"/help/{world.acme.workspace.slug}/en/search", {"q": "Acme article body"}).content
    assert FOREIGN_MARKER.encode() not in search
    assert b"Acme article" in search


def test_api_matrix(world: World) -> None:
    """Every API operation declares a policy; with an Acme token, Umbrella's objects are 404 and unchanged."""
    from deskloop.accounts.services import create_api_token
    from deskloop.core.api_support import iter_api_operations  # type: ignore[attr-defined]

    operations = list(iter_api_operations())
    assert [f"{m} {p}" for m, p, _view, policy in operations if policy is None] == []
    before = _foreign_fingerprint(world)
    failures: list[str] = []
    for role in sorted(ALL_ROLES):
        _token, secret = create_api_token(agent=world.acme.by_role(role), name="matrix")
        client = Client(headers={"authorization": f"Bearer {secret}"})
        anonymous = Client()
        for method, path, _view, policy in operations:
            params = re.findall(r"\{(\w+)\}", path)
            unknown = [p for p in params if p not in world.foreign]
            if unknown:
                failures.append(f"{method} {path}: no sample for {unknown}")
                continue
            url = "/api/v1" + path
            for p in params:
                url = url.replace("{" + p + "}", str(world.foreign[p]))
            call = getattr(client, method.lower())
            response = (
                call(url, data="{}", content_type="application/json", headers={"if-match": '"0-0"'})
                if method != "GET"
                else call(url)
            )
            leaked = FOREIGN_MARKER.encode() in response.content
            if leaked or (params and response.status_code not in (403, 404, 405)):
                failures.append(f"{role} {method} {url}: {response.status_code} leaked={leaked}")
            if policy.tenancy != Tenancy.PUBLIC:
                anonymous_response = getattr(anonymous, method.lower())(url)
                if anonymous_response.status_code != 401:
                    failures.append(f"anonymous {method} {url}: {anonymous_response.status_code}, expected 401")
    assert failures == []
    assert _foreign_fingerprint(world) == before


# An internal note on the Acme ticket the customer can see: no customer page may ever show it.
INTERNAL_MARKER = "AGENTS-ONLY-NOTE"


def _contact_client(contact: Any) -> Client:
    """A browser in which ``contact`` followed a sign-in link of their workspace's portal."""
    import time

    client = Client()
    session = client.session
    session[f"deskloop_portal:{contact.workspace_id}"] = {"contact": contact.pk, "at": int(time.time())}
    session.save()
    return client


def _set_portal_sharing(organization: Any, shares: bool) -> None:
    from deskloop.customers.models import Organization

    Organization.objects.filter(pk=organization.pk).update(portal_shares_tickets=shares)


@pytest.mark.parametrize("organization_shares", [False, True])
def test_portal_contact_matrix(world: World, organization_shares: bool) -> None:
    """Every customer route x the customers who could ask: the requester sees their ticket, a colleague of the same
    organization only when it shares, a contact of another organization never, a customer of another workspace is
    sent to sign in; nobody sees an internal note, an attachment of one, or another workspace's anything."""
    from deskloop.tickets.models import Message
    from deskloop.tickets.services.messages import CustomerMessage, add_customer_message

    acme = world.acme
    _set_portal_sharing(acme.organization, organization_shares)
    add_internal_note(ticket=acme.ticket, agent=acme.agent, body_text=f"{INTERNAL_MARKER} refund approved")
    public_reply = add_customer_message(
        ticket=acme.ticket,
        contact=acme.customer,
        message=CustomerMessage(
            body_text="Here is the invoice", attachments=[IncomingFile(filename="invoice.txt", content=b"VAT")]
        ),
    )
    own = {**world.own, "attachment_id": public_reply.attachments.get().pk}
    actors = {
        "requester": acme.customer,
        "colleague": find_or_create_contact(workspace=acme.workspace, email="gus@globex-acme.example", name="Gus"),
        "other organization": find_or_create_contact(workspace=acme.workspace, email="olga@initech.example"),
        "other workspace": world.umbrella.customer,
    }
    assert actors["colleague"].organization_id == acme.organization.pk
    sees_ticket = {"requester": True, "colleague": organization_shares, "other organization": False}
    messages_before = Message.objects.filter(ticket=acme.ticket).count()
    foreign_before = _foreign_fingerprint(world)
    failures: list[str] = []
    routes = [r for r in html_routes() if (p := policy_of(r.callback)) is not None and p.tenancy == Tenancy.CONTACT]
    assert {r.name for r in routes} >= {"portal:home", "portal:ticket", "portal:attachment", "portal:new_request"}
    for route in routes:
        own_url = _url(route, own)
        # Acme's portal, asked for Umbrella's objects (a ticket number Acme lacks, Umbrella's article and files).
        mixed_url = _url(route, {**world.foreign, "slug": "acme"})
        # The internal note's attachment, under the customer's own portal.
        note_file_url = _url(route, {**own, "attachment_id": world.own["attachment_id"]})
        for who, contact in actors.items():
            client = _contact_client(contact)
            if who == "other workspace":
                failures += _sent_to_portal_sign_in(who, client, own_url, mixed_url)
                continue
            response = client.get(own_url)
            body = _body(response)
            if INTERNAL_MARKER.encode() in body or FOREIGN_MARKER.encode() in body:
                failures.append(f"{who} GET {own_url}: shows an internal note or another workspace's data")
            private = {"number", "attachment_id", "confirmation_id"} & set(route.params)
            # A widget email confirmation asked for the requester's address is theirs alone, shared or not.
            sees = who == "requester" if "confirmation_id" in route.params else sees_ticket[who]
            expected_ok = not private or sees
            if expected_ok and response.status_code not in (200, 302, 405):
                failures.append(f"{who} GET {own_url}: {response.status_code}, expected access")
            if not expected_ok and response.status_code not in (404, 405):
                failures.append(f"{who} GET {own_url}: {response.status_code}, expected 404")
            if not expected_ok:
                client.post(own_url, {"body": "sneaky reply"})
            for url in (mixed_url, note_file_url) if route.params != ("slug",) else ():
                if url == note_file_url and "attachment_id" not in route.params:
                    continue
                for method in ("get", "post"):
                    answer = getattr(client, method)(url)
                    leaked = FOREIGN_MARKER.encode() in _body(answer) or INTERNAL_MARKER.encode() in _body(answer)
                    if answer.status_code not in (404, 405) or leaked:
                        failures.append(f"{who} {method.upper()} {url}: {answer.status_code} leaked={leaked}")
    assert failures == []
    # The refused posts changed nothing: no message on Acme's ticket from them, nothing of Umbrella's.
    assert Message.objects.filter(ticket=acme.ticket).count() == messages_before
    assert _foreign_fingerprint(world) == foreign_before


def test_widget_visitor_matrix(world: World) -> None:
    """Every widget route x who the widget pass says the visitor is: an anonymous visitor, the requester identified
    by the host application, a contact of another organization, and a pass of another workspace. Conversations
    are the requester's alone; nobody sees an internal note, an internal article or another workspace's anything,
    and a refused reply stores nothing."""
    from dataclasses import replace

    from deskloop.channels.widget.identity import PASS_HEADER
    from deskloop.channels.widget.services import open_panel
    from deskloop.tickets.models import Message

    acme, umbrella = world.acme, world.umbrella
    add_internal_note(ticket=acme.ticket, agent=acme.agent, body_text=f"{INTERNAL_MARKER} refund approved")
    anonymous = open_panel(workspace=acme.workspace, locale="en")
    outsider = find_or_create_contact(workspace=acme.workspace, email="olga@initech.example")
    passes = {
        "anonymous visitor": anonymous.dumps(),
        "requester": replace(anonymous, contact_id=acme.customer.pk).dumps(),
        "other organization": replace(anonymous, contact_id=outsider.pk).dumps(),
        "other workspace": replace(
            open_panel(workspace=umbrella.workspace, locale="en"), contact_id=umbrella.customer.pk
        ).dumps(),
    }
    # What each may get from a conversation route of Acme's requester's ticket.
    conversation_status = {
        "anonymous visitor": 401,
        "requester": 200,
        "other organization": 404,
        "other workspace": 401,
    }
    routes = [r for r in html_routes() if r.name.startswith("widget:") and "confirmation_id" not in r.params]
    messages_before = Message.objects.filter(ticket=acme.ticket).count()
    foreign_before = _foreign_fingerprint(world)
    failures: list[str] = []
    for route in routes:
        own_url = _url(route, world.own)
        for who, widget_pass in passes.items():
            client = Client()
            answer = client.get(own_url, headers={PASS_HEADER: widget_pass})
            body = _body(answer)
            if answer.status_code >= 500 or INTERNAL_MARKER.encode() in body or FOREIGN_MARKER.encode() in body:
                failures.append(f"{who} GET {own_url}: {answer.status_code}, leaked or failed")
            if route.name == "widget:conversation" and answer.status_code != conversation_status[who]:
                failures.append(f"{who} GET {own_url}: {answer.status_code}, expected {conversation_status[who]}")
            if route.name == "widget:conversation" and who != "requester":
                client.post(own_url, {"body": "sneaky reply"}, headers={PASS_HEADER: widget_pass})
            if "article_id" in route.params:
                foreign_article = _url(route, {**world.own, "article_id": world.foreign["article_id"]})
                leaked = client.get(foreign_article, headers={PASS_HEADER: widget_pass})
                if leaked.status_code not in (401, 404) or FOREIGN_MARKER.encode() in _body(leaked):
                    failures.append(f"{who} GET {foreign_article}: {leaked.status_code}, another workspace's article")
    assert failures == []
    assert Message.objects.filter(ticket=acme.ticket).count() == messages_before
    assert _foreign_fingerprint(world) == foreign_before


def test_the_ideas_board_never_shows_or_changes_another_workspaces_ideas(world: World) -> None:
    """Every board route under Acme's slug with Umbrella's idea in the URL, for anonymous visitors, Acme's agents and
    Acme's signed-in customer, by GET and POST: 404 (405 for the other method), never Umbrella's text, and nothing of
    Umbrella's idea changes (no vote, comment or follower)."""
    from deskloop.ideas.models import IdeaComment, IdeaSubscription, IdeaVote

    routes = [r for r in html_routes() if r.name.startswith("ideaboard:") and "idea_id" in r.params]
    assert {r.name for r in routes} >= {"ideaboard:idea", "ideaboard:vote", "ideaboard:comment"}
    foreign_idea = world.foreign["idea_id"]
    mixed = {**world.foreign, "slug": world.acme.workspace.slug}
    clients = {**_clients(world), "customer": _contact_client(world.acme.customer)}

    def stakes() -> tuple[int, int, int]:
        return (
            IdeaVote.objects.filter(idea_id=foreign_idea).count(),
            IdeaComment.objects.filter(idea_id=foreign_idea).count(),
            IdeaSubscription.objects.filter(idea_id=foreign_idea).count(),
        )

    before = stakes()
    failures = []
    for route in routes:
        url = _url(route, mixed)
        for who, client in clients.items():
            for method in ("get", "post"):
                answer = getattr(client, method)(url, {"body": "sneaky", "importance": "3"})
                expected = (302, 404, 405) if who != "customer" else (404, 405)
                if answer.status_code not in expected or FOREIGN_MARKER.encode() in answer.content:
                    failures.append(f"{who} {method.upper()} {url}: {answer.status_code}")
    assert failures == []
    assert stakes() == before
    for page in ("", "roadmap/", "changelog/"):
        assert FOREIGN_MARKER.encode() not in Client().get(f"/board/acme/{page}").content
