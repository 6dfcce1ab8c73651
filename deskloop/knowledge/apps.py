from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "deskloop.knowledge"
    label = "knowledge"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job
        from deskloop.knowledge.services.deflection_sweep import judge_request_sessions
        from deskloop.knowledge.ticket_panel import sessions_panel
        from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel

        # Idle sessions end after 30 minutes and windows after 72 hours: every five minutes is fine-grained enough.
        register_job("judge_request_sessions", 300, judge_request_sessions)
        register_panel(
            TicketPagePanel(
                "knowledge_request_sessions",
                PanelSlot.SIDEBAR,
                "knowledge/deflection/_ticket_panel.html",
                sessions_panel,
                20,
            )
        )
