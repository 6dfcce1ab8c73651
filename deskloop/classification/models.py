"""Auto-classification: each ticket's sentence vector, the workspace's trained model, and what it suggested.

A ticket is embedded once (its subject and the customer's first message, ``TicketVector``) when it is classified
or imported; training reads those stored vectors, so retraining never runs the sentence model again.
``Classifier`` is one trained model of a workspace (the newest is the one in use); ``TicketSuggestion`` is what it
suggested for a ticket and what the agents did with it. A correction needs no row of its own: the ticket's product
area and request type, set by an agent, are the labels the next training reads.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class TicketVector(WorkspaceOwned):
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="classification_vector")
    # knowledge.embedding.to_bytes: 384 little-endian float32.
    vector = models.BinaryField()
    # knowledge.embedding.EMBEDDING_VERSION: a vector of another version is computed again.
    version = models.CharField(max_length=60)
    # The text that was embedded, so the lexical half of the model reads exactly what the vector saw.
    text = models.TextField()


class Classifier(WorkspaceOwned):
    """One training run's model. Its parameters are an ``.npz`` (``learning.Model.to_bytes``)."""

    created_at = models.DateTimeField()
    embedding_version = models.CharField(max_length=60)
    parameters = models.BinaryField()
    # What it was trained on and how it did on the part held back: shown by the command and the settings.
    labelled_tickets = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="classifier_newest")]


class SuggestionOutcome(models.TextChoices):
    PENDING = "pending", _("Not decided")
    ACCEPTED = "accepted", _("Accepted")
    CORRECTED = "corrected", _("Corrected")
    IGNORED = "ignored", _("Ignored")


class TicketSuggestion(WorkspaceOwned):
    """The model's guess for a ticket. Null where it abstained (not confident enough) or the ticket had it set."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="classification")
    classifier = models.ForeignKey(Classifier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    product_area = models.ForeignKey(
        "tickets.ProductArea", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    area_confidence = models.FloatField(null=True, blank=True)
    request_type = models.CharField(max_length=20, blank=True)
    type_confidence = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=SuggestionOutcome.choices, default=SuggestionOutcome.PENDING)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    @property
    def is_empty(self) -> bool:
        return self.product_area_id is None and not self.request_type
