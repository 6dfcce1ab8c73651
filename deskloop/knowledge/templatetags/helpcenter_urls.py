"""``{% help_url site "article" locale=... %}``: a help-center URL in the form the request came in (under
/help/<workspace-slug>/ or on the help center's own host), see helpcenter.site.HelpSite."""

from __future__ import annotations

from typing import Any

from django import template

from deskloop.knowledge.helpcenter.site import HelpSite

register = template.Library()


@register.simple_tag
def help_url(site: HelpSite, name: str, **kwargs: Any) -> str:
    return site.url(name, **kwargs)
