"""Agents and invitations over the API, as on the Agents and Invitations settings pages: admins only, the same
deskloop.accounts.services and queries calls (owners alone change or deactivate owners, one owner always remains)."""

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from deskloop.accounts import queries, services
from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES, Agent, Invitation, Role
from deskloop.accounts.schemas import AgentOut
from deskloop.core.api_support import api_policy, problems

router = Router(tags=["agents"])


class AgentUpdateIn(Schema):
    """Only the fields sent change."""

    role: Role | None = None
    is_active: bool | None = Field(
        None, description="false deactivates: no more sign-in or API tokens; tickets and history stay."
    )


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    state: str = Field(..., description="pending or expired (expired ones can be resent).")
    created_at: dt.datetime
    expires_at: dt.datetime

    @staticmethod
    def resolve_state(obj: Invitation) -> str:
        return str(services.invitation_state(obj))


class InvitationList(Schema):
    items: list[InvitationOut] = Field(..., description="Open invitations, newest first.")
    next_cursor: str | None = Field(None, description="Always null: open invitations come in one page.")


class InvitationIn(Schema):
    email: str = Field(..., max_length=254)
    role: Role = Role.AGENT


@router.patch(
    "/agents/{agent_id}",
    response={200: AgentOut, **problems(401, 403, 404, 422, 429)},
    summary="Change an agent's role or deactivate them",
)
@api_policy(ADMIN_ROLES)
def update_agent(request: HttpRequest, agent_id: int, payload: AgentUpdateIn) -> Agent:
    actor = caller_agent(request)
    agent = queries.get_agent_for_admin(actor, agent_id)
    if payload.role is not None:
        services.set_agent_role(actor=actor, agent=agent, role=str(payload.role))
    if payload.is_active is not None:
        services.set_agent_active(actor=actor, agent=agent, active=payload.is_active)
    return agent  # the services set the new role and state on it (a no-op change leaves it as read)


@router.get("/invitations", response={200: InvitationList, **problems(401, 403, 429)}, summary="List open invitations")
@api_policy(ADMIN_ROLES)
def list_invitations(request: HttpRequest) -> dict[str, object]:
    return {"items": queries.open_invitations(caller_agent(request).workspace_id), "next_cursor": None}


@router.post(
    "/invitations",
    response={201: InvitationOut, **problems(401, 403, 409, 422, 429)},
    summary="Invite an agent",
    description="Emails the invitation link (valid for a limited time); the link is never in the response.",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def invite(request: HttpRequest, payload: InvitationIn, response: HttpResponse) -> Status[Invitation]:
    invitation, _secret = services.invite_agent(
        actor=caller_agent(request), email=payload.email, role=str(payload.role)
    )
    response["Location"] = f"{request.path.rstrip('/')}/{invitation.pk}"
    return Status(201, invitation)


@router.post(
    "/invitations/{invitation_id}/resend",
    response={200: InvitationOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Email a fresh invitation link",
    description="The previous link stops working.",
)
@api_policy(ADMIN_ROLES)
def resend(request: HttpRequest, invitation_id: int) -> Invitation:
    actor = caller_agent(request)
    invitation, _secret = services.resend_invitation(
        actor=actor, invitation=queries.get_invitation_for_admin(actor, invitation_id)
    )
    return invitation


@router.delete(
    "/invitations/{invitation_id}",
    response={204: None, **problems(401, 403, 404, 409, 422, 429)},
    summary="Withdraw an invitation",
)
@api_policy(ADMIN_ROLES)
def revoke(request: HttpRequest, invitation_id: int) -> Status[None]:
    actor = caller_agent(request)
    services.revoke_invitation(actor=actor, invitation=queries.get_invitation_for_admin(actor, invitation_id))
    return Status(204, None)


__all__ = ["router"]
