from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "deskloop.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job
        from deskloop.knowledge.services.deflection_sweep import judge_request_sessions

        # Idle sessions end after 30 minutes and windows after 72 hours: every five minutes is fine-grained enough.
        register_job("judge_request_sessions", 300, judge_request_sessions)
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
        from deskloop.knowledge.ticket_panel import sessions_panel
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
        register_panel(
            TicketPagePanel(
                "knowledge_request_sessions",
                PanelSlot.SIDEBAR,
                "knowledge/deflection/_ticket_panel.html",
                sessions_panel,
                20,
            )
        )
