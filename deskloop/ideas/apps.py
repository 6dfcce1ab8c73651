from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "deskloop.ideas"
    label = "ideas"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job
        from deskloop.ideas.services.values import refresh_all_workspaces_values

        # An organization's MRR changes in the customers app, which knows nothing of ideas: the cached scores catch up
        # here (each vote already refreshes its own idea at once).
        register_job("refresh_idea_values", 600, refresh_all_workspaces_values)
        self._register_settings_screen()
        self._register_ticket_page_panel()

    def _register_ticket_page_panel(self) -> None:
        from deskloop.ideas.ticket_panel import ideas_panel
        from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel

        # Tickets sits below ideas and cannot name it: the ideas a conversation asked for, and voting for its
        # customer, join the ticket page's sidebar from here.
        register_panel(TicketPagePanel("ideas", PanelSlot.SIDEBAR, "ideas/ticket/_panel.html", ideas_panel, 30))

    def _register_settings_screen(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "ideas_settings:board",
                _("Ideas board"),
                _("Whether customers can read the board, and what a vote of each importance is worth."),
                SettingsGroup.WORKSPACE,
                Capability.ADMIN,
                ("ideas_settings:",),
                60,
            )
        )
