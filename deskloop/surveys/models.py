"""Surveys: NPS, CSAT and one-question micro-surveys, the invitations that carry one-click answers, and the answers.

A response remembers where it came from (contact, organization, ticket, product area, agent, team) as it was when
the customer answered, so the results can be cut by any of them without following the ticket's later changes.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT")
    MICRO = "micro", _("Micro-survey")


class CsatScale(models.TextChoices):
    GOOD_BAD = "good_bad", _("Good / bad")
    ONE_TO_FIVE = "1_5", _("1 to 5")


class AnswerType(models.TextChoices):
    """What a micro-survey asks for."""

    ONE_TO_FIVE = "1_5", _("A rating from 1 to 5")
    YES_NO = "yes_no", _("Yes or no")
    TEXT = "text", _("A short text")


class ResponseChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    WIDGET = "widget", _("Widget")
    API = "api", _("API")


class Survey(WorkspaceOwned):
    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    name = models.CharField(_("name"), max_length=200)
    # The question in the default language, and per language ("es", "ru") beside it.
    question = models.CharField(_("question"), max_length=500)
    question_translations = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # No contact is asked (or may answer anew) more often than once per this many days: the service enforces it for
    # every channel, so email and widget together never ask twice within the gap.
    min_days_between = models.PositiveIntegerField(_("minimum days between two asks"), default=90)
    # Who is asked (NPS by email, micro-surveys in the widget); none = everyone.
    segment = models.ForeignKey("customers.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    csat_scale = models.CharField(_("CSAT scale"), max_length=10, choices=CsatScale.choices, default=CsatScale.GOOD_BAD)
    answer_type = models.CharField(
        _("answer type"), max_length=10, choices=AnswerType.choices, default=AnswerType.ONE_TO_FIVE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def localized_question(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        code = (language or get_language() or "").split("-")[0].lower()
        translations = self.question_translations if isinstance(self.question_translations, dict) else {}
        return str(translations.get(code) or self.question)


class SurveyInvitation(WorkspaceOwned):
    """One ask of one contact (an NPS email, a CSAT email after a solved ticket). The link's token is stored only as
    its SHA-256: the token is the contact's proof, so a database reader cannot answer for them."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="survey_invitations")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A solved ticket asks its requester once, however often the outbox redelivers ticket.updated.
            models.UniqueConstraint(
                fields=["survey", "ticket"], condition=Q(ticket__isnull=False), name="survey_invitation_once_per_ticket"
            ),
        ]
        indexes = [models.Index(fields=["contact", "created_at"], name="survey_invite_contact")]


class SurveyResponse(WorkspaceOwned):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    # Copied from the survey so the results read one table.
    kind = models.CharField(max_length=10, choices=SurveyKind.choices)
    # The invitation answered (one response per invitation: a second click changes it).
    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="response"
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_responses"
    )
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_responses"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_responses"
    )
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_responses"
    )
    agent = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    team = models.ForeignKey("accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # NPS 0-10; CSAT 1-5, or 0 (bad) / 1 (good) on the good/bad scale; micro 1-5 or 0/1 (no/yes); null for text.
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    # CSAT only: whether the answer counts as satisfied (good, or 4-5), fixed when it is recorded.
    satisfied = models.BooleanField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=ResponseChannel.choices)
    # The vote an agent made of the comment, and the ticket opened for a detractor.
    idea_vote = models.ForeignKey("ideas.IdeaVote", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    follow_up_ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "kind", "created_at"], name="survey_resp_ws_kind_created"),
            models.Index(fields=["contact", "survey", "created_at"], name="survey_resp_contact"),
        ]

    @property
    def is_detractor(self) -> bool:
        return self.kind == SurveyKind.NPS and self.score is not None and self.score <= 6
