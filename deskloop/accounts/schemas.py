"""API shapes for agents and teams (never secrets: no password hashes, no token hashes)."""

import datetime as dt

from ninja import Field, Schema

from deskloop.accounts.models import Agent, Team


class AgentRef(Schema):
    id: int
    name: str


class TeamRef(Schema):
    id: int
    name: str
    names: dict[str, str] = Field(
        default_factory=dict, description='The name per language: "default" (as `name`) and each translated language.'
    )


class AgentOut(Schema):
    id: int
    name: str
    email: str
    role: str
    is_active: bool
    language: str
    time_zone: str
    team_ids: list[int]
    created_at: dt.datetime

    @staticmethod
    def resolve_email(obj: Agent) -> str:
        return obj.user.email

    @staticmethod
    def resolve_language(obj: Agent) -> str:
        return obj.user.language

    @staticmethod
    def resolve_time_zone(obj: Agent) -> str:
        return obj.user.time_zone

    @staticmethod
    def resolve_team_ids(obj: Agent) -> list[int]:
        return sorted(team.pk for team in obj.teams.all())


class AgentPage(Schema):
    items: list[AgentOut]
    next_cursor: str | None


class TeamOut(Schema):
    id: int
    name: str
    names: dict[str, str] = Field(
        default_factory=dict, description='The name per language: "default" (as `name`) and each translated language.'
    )
    member_ids: list[int]

    @staticmethod
    def resolve_member_ids(obj: Team) -> list[int]:
        return sorted(member.pk for member in obj.members.all())


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    ticket_prefix: str


class MeOut(Schema):
    """The caller: the agent the token belongs to and its workspace."""

    agent: AgentOut
    workspace: WorkspaceOut
