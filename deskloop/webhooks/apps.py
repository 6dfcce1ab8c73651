from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "deskloop.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.webhooks.services import consume_outbox_event

        register_consumer(consume_outbox_event)
