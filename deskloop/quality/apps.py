"""Conversation quality reviews: a weighted scorecard per workspace, a weekly random sample per agent to review,
and the scores agents and managers see next to speed and CSAT."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "deskloop.quality"
    label = "quality"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen
        from deskloop.core.periodic import register_job
        from deskloop.quality.sampling import propose_last_weeks_samples
        from deskloop.quality.ticket_panel import review_panel
        from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel

        # Hourly: a workspace's week ends at its own midnight, so last week's sample appears within the hour.
        register_job("propose_quality_samples", 3600, propose_last_weeks_samples)
        register_panel(
            TicketPagePanel("quality_review", PanelSlot.SIDEBAR, "quality/_review_panel.html", review_panel, 60)
        )
        register_screen(
            Screen(
                "quality:settings",
                _("Quality scorecard"),
                _("Criteria and weights reviewers score conversations on, who reviews, the weekly sample."),
                SettingsGroup.TICKETS,
                Capability.ADMIN,
                ("quality:settings", "quality:criterion"),
                80,
            )
        )
