"""The one NinjaAPI at /api/v1/: token auth, problem-details errors, and each app's router."""

from deskloop.accounts.api import ApiTokenAuth
from deskloop.accounts.api import router as accounts_router
from deskloop.accounts.api_people import router as people_router
from deskloop.assignment.api import router as assignment_router
from deskloop.automations.api import router as automations_router
from deskloop.calendars.api import router as calendars_router
from deskloop.classification.api import router as classification_router
from deskloop.core.api_input import StorableInputParser
from deskloop.core.api_support import DeskloopNinjaAPI, install_problem_handlers
from deskloop.customers.api import router as customers_router
from deskloop.customers.api_segments import router as segments_router
from deskloop.ideas.api import router as ideas_router
from deskloop.knowledge.api import router as knowledge_router
from deskloop.knowledge.api_deflection import router as deflection_router
from deskloop.knowledge.api_suggestions import router as knowledge_suggestions_router
from deskloop.quality.api import router as quality_router
from deskloop.reports.api import router as reports_router
from deskloop.revenue.api import router as revenue_router
from deskloop.service_levels.api import router as sla_router
from deskloop.staffing.api import router as staffing_router
from deskloop.surveys.api import router as surveys_router
from deskloop.tickets.api import router as tickets_router
from deskloop.tickets.api_custom_fields import router as custom_fields_router
from deskloop.tickets.api_macros import router as macros_router
from deskloop.tickets.api_saved_views import router as saved_views_router
from deskloop.webhooks.api import router as webhooks_router

api = DeskloopNinjaAPI(
    title="Deskloop API",
    version="1.0.0",
    urls_namespace="api",
    auth=ApiTokenAuth(),
    parser=StorableInputParser(),
    description=(
        "The Deskloop helpdesk over HTTP. Authenticate with `Authorization: Bearer dl_...`; errors are "
        "RFC 9457 problem details; lists use cursor pagination. See docs/api.md."
    ),
)
install_problem_handlers(api)
api.add_router("", tickets_router)
api.add_router("", customers_router)
api.add_router("", segments_router)
api.add_router("", accounts_router)
api.add_router("", assignment_router)  # before people: /agents/availability is not /agents/{agent_id}
api.add_router("", people_router)
api.add_router("", calendars_router)
api.add_router("", macros_router)
api.add_router("", custom_fields_router)
api.add_router("", saved_views_router)
api.add_router("", webhooks_router)
api.add_router("", knowledge_router)
api.add_router("", knowledge_suggestions_router)
api.add_router("", deflection_router)
api.add_router("", ideas_router)
api.add_router("", revenue_router)
api.add_router("", surveys_router)
api.add_router("", classification_router)
api.add_router("", reports_router)
api.add_router("", quality_router)
api.add_router("", staffing_router)
api.add_router("", automations_router)
api.add_router("", sla_router)
