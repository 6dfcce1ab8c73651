"""Who reads the reports: owners, admins, and viewers (the read-only seat given to a manager who does not answer
tickets). Agents see their own work in the inbox; the team's figures are the managers' (docs/architecture.md)."""

from deskloop.accounts.models import ADMIN_ROLES, Role

REPORT_ROLES = ADMIN_ROLES | {Role.VIEWER.value}
