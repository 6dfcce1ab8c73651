"""Article suggestions over the API: what the agents' article finder and integrations ask while someone types."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES
from deskloop.core.api_support import api_policy, problems
from deskloop.knowledge.models import ArticleLocale
from deskloop.knowledge.suggestions import MAX_LIMIT, QUERY_MAX_CHARS, Suggestion, suggest_articles

router = Router(tags=["knowledge"])


class SuggestionQuery(Schema):
    q: str = Field(..., min_length=1, max_length=QUERY_MAX_CHARS, description="What the customer or agent typed.")
    locale: ArticleLocale | None = Field(None, description="The articles' language; the workspace's by default.")
    limit: int = Field(3, ge=1, le=MAX_LIMIT)


class SuggestionOut(Schema):
    id: int = Field(..., description="The article's id.")
    external_id: str
    title: str
    url: str = Field(..., description="The article's help-center page (path).")
    score: float = Field(..., description="Higher is better; only comparable within one answer.")

    @staticmethod
    def resolve_id(obj: Suggestion) -> int:
        return obj.article_id


@router.get(
    "/knowledge/suggestions",
    response={200: list[SuggestionOut], **problems(401, 422, 429)},
    summary="Suggest articles for a question",
    description=(
        "The best published articles for `q`, best first, internal ones included (agents may read them); "
        "an empty list when none is a good answer."
    ),
)
@api_policy(ALL_ROLES)
def suggestions(request: HttpRequest, params: Query[SuggestionQuery]) -> list[Suggestion]:
    agent = caller_agent(request)
    return suggest_articles(
        workspace_id=agent.workspace_id,
        query=params.q,
        locale=params.locale or agent.workspace.default_language,
        limit=params.limit,
        audience="agents",
    )
