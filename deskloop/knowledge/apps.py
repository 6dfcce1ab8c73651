from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "deskloop.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        self._register_settings_screens()
        self._register_ticket_page_panels()

    def _register_settings_screens(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "knowledge_settings:help_center",
                _("Help center"),
                _("Its own host name, the holdout that measures deflection, the widget's secret."),
                SettingsGroup.INTEGRATIONS,
                Capability.ADMIN,
                ("knowledge_settings:",),
                50,
            )
        )

    def _register_ticket_page_panels(self) -> None:
        from deskloop.knowledge.views.finder import answer_panel, finder_panel
        from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel

        register_panel(
            TicketPagePanel(
                "knowledge_finder",
                PanelSlot.COMPOSER,
                "knowledge/agents/_finder_panel.html",
                finder_panel,
                10,
                scripts=("knowledge/finder.js",),
                stylesheets=("knowledge/knowledge.css",),
            )
        )
        register_panel(
            TicketPagePanel(
                "knowledge_from_answer",
                PanelSlot.MESSAGE_ACTIONS,
                "knowledge/agents/_from_answer_action.html",
                answer_panel,
                10,
            )
        )
