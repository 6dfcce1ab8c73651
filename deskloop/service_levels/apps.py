"""SLA policies and the clocks they start on each ticket: first response, next response and resolution targets
counted in business time, paused in pending and on-hold statuses, warned about and breached by a sweep."""

from django.apps import AppConfig


class ServiceLevelsConfig(AppConfig):
    name = "deskloop.service_levels"
    label = "service_levels"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job
        from deskloop.service_levels.consumer import consume_outbox_event
        from deskloop.service_levels.sweep import sweep

        register_consumer(consume_outbox_event)
        register_job("sla_sweep", 60, lambda: sweep())

        from deskloop.service_levels.panel import sla_panel
        from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel

        register_panel(
            TicketPagePanel(
                "service_levels",
                PanelSlot.SIDEBAR,
                "service_levels/_ticket_panel.html",
                sla_panel,
                5,
                scripts=("deskloop/sla.js",),
            )
        )

        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "service_levels:policies",
                _("SLA policies"),
                _("Response and resolution targets in business hours, per plan, priority or organization."),
                SettingsGroup.TICKETS,
                Capability.ADMIN,
                ("service_levels:",),
                40,
            )
        )
