"""Outgoing email rendered from three templates: ``<name>_subject.txt``, ``<name>.txt`` and ``<name>.html``.

The subject and the plain-text body are rendered with autoescaping off (they are not HTML); the HTML body is
autoescaped like every page. Mail is rendered in the recipient's language, not the sender's.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(
    template_base: str, context: Mapping[str, Any], *, language: str, time_zone: str = "UTC"
) -> RenderedEmail:
    """Render in the recipient's language and time zone (dates in the templates follow both)."""
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(time_zone)):
        subject = render_to_string(f"{template_base}_subject.txt", dict(context))
        text = render_to_string(f"{template_base}.txt", dict(context))
        html = render_to_string(f"{template_base}.html", dict(context))
    # A subject is one line: a newline in it would start a new header.
    return RenderedEmail(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html)


def send_templated_email(
    *,
    template_base: str,
    context: Mapping[str, Any],
    to: Sequence[str],
    language: str,
    time_zone: str = "UTC",
    reply_to: Sequence[str] = (),
) -> RenderedEmail:
    """Render and send one message through Django's configured mail backend; returns what was sent."""
    rendered = render_email(template_base, context, language=language, time_zone=time_zone)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to),
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    return rendered
