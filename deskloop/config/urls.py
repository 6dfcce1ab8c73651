"""Every route of Deskloop. Each view declares its tenancy and role policy (see deskloop.core.policy)."""

from django.urls import include, path

from deskloop.config.api import api
from deskloop.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("settings/", include("deskloop.accounts.urls_settings")),
    path("settings/", include("deskloop.tickets.urls_admin")),
    path("settings/webhooks/", include("deskloop.webhooks.urls")),
    path("settings/automations/", include("deskloop.automations.urls")),
    path("settings/calendars/", include("deskloop.calendars.urls")),
    path("settings/routing/", include("deskloop.assignment.urls_settings")),
    path("", include("deskloop.assignment.urls")),
    path("settings/sla/", include("deskloop.service_levels.urls")),
    path("settings/", include("deskloop.knowledge.urls_settings")),
    path("settings/", include("deskloop.ideas.urls_settings")),
    path("ideas/", include("deskloop.ideas.urls")),
    path("settings/", include("deskloop.revenue.urls_settings")),
    path("knowledge/deflection/", include("deskloop.knowledge.urls_deflection")),
    path("knowledge/", include("deskloop.knowledge.urls")),
    path("revenue/", include("deskloop.revenue.urls")),
    path("insights/", include("deskloop.insights.urls")),
    path("quality/", include("deskloop.quality.urls")),
    path("staffing/", include("deskloop.staffing.urls")),
    path("reports/", include("deskloop.reports.urls")),
    path("help/<slug:workspace_slug>/", include("deskloop.knowledge.helpcenter.urls")),
    path("", include("deskloop.accounts.urls")),
    path("", include("deskloop.customers.urls")),
    path("", include("deskloop.tickets.urls")),
    path("", include("deskloop.ideas.urls_ticket")),
    path("", include("deskloop.channels.email.urls")),
    path("", include("deskloop.channels.portal.urls")),
    path("", include("deskloop.channels.portal.board_urls")),
    path("", include("deskloop.channels.widget.urls")),
    path("", include("deskloop.knowledge.urls_suggestions")),
    path("s/", include("deskloop.surveys.urls_links")),
    path("surveys/", include("deskloop.surveys.urls")),
    path("", include("deskloop.classification.urls")),
]

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused by Django with a 400; this answers 413 with a readable page.
handler400 = core_views.bad_request
