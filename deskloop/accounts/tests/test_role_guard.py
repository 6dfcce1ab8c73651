"""The one role guard services use (accounts.access.require_role)."""

from __future__ import annotations

import pytest

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent, Role
from deskloop.core.errors import PermissionDenied

ALLOWED = {
    Capability.OWN: {Role.OWNER},
    Capability.ADMIN: {Role.OWNER, Role.ADMIN},
    Capability.WRITE: {Role.OWNER, Role.ADMIN, Role.AGENT},
    Capability.NOTE: {Role.OWNER, Role.ADMIN, Role.AGENT, Role.LIGHT_AGENT},
}


@pytest.mark.parametrize("capability", list(Capability))
@pytest.mark.parametrize("role", list(Role))
def test_a_role_passes_the_guard_exactly_when_it_has_the_capability(capability: Capability, role: Role) -> None:
    agent = Agent(role=role.value)
    if role in ALLOWED[capability]:
        require_role(agent, capability, "refused")
    else:
        with pytest.raises(PermissionDenied) as refused:
            require_role(agent, capability, "refused")
        assert (refused.value.message, refused.value.http_status) == ("refused", 403)
