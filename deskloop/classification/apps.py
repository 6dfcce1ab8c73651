from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "deskloop.classification"
    label = "classification"

    def ready(self) -> None:
        from deskloop.classification.suggestions import consume_outbox_event
        from deskloop.classification.ticket_panel import suggestion_panel
        from deskloop.classification.training import retrain_due
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job
        from deskloop.tickets.page_panels import PanelSlot, TicketPagePanel, register_panel

        register_consumer(consume_outbox_event)
        # Hourly is soon enough for labels to reach the model; a training only starts when enough changed.
        register_job("retrain_classifiers", 3600, retrain_due)
        register_panel(
            TicketPagePanel(
                "classification_suggestion",
                PanelSlot.SIDEBAR,
                "classification/_suggestion_panel.html",
                suggestion_panel,
                5,
            )
        )
