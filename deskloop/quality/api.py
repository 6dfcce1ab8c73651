"""Quality reviews over the API: reviewers read every review of the workspace, other agents their own."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES, Agent
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import ValidationFailed
from deskloop.quality import queries
from deskloop.quality.schemas import ReviewListQuery, ReviewPage

router = Router(tags=["quality"])


@router.get(
    "/quality/reviews",
    response={200: ReviewPage, **problems(401, 422, 429)},
    summary="List quality reviews",
    description=(
        "Reviews of conversations, oldest first. A reviewer (admin, owner, or an agent named on the scorecard) sees "
        "every review of the workspace; anyone else only the reviews of their own conversations."
    ),
)
@api_policy(ALL_ROLES)
def list_reviews(request: HttpRequest, filters: Query[ReviewListQuery], page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationFailed(_("“since” is after “until”."), field="since")
    if (
        filters.agent_id is not None
        and not Agent.objects.filter(workspace_id=agent.workspace_id, pk=filters.agent_id).exists()
    ):
        raise ValidationFailed(_("No such agent in this workspace."), field="agent_id")
    reviews = queries.reviews_for_agent(
        agent, reviewed_agent_id=filters.agent_id, since=filters.since, until=filters.until
    )
    return keyset_page(reviews, cursor=page.cursor, limit=page.limit)
