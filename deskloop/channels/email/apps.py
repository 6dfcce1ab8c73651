from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "deskloop.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer

        from .consumers import consume_outbox_event

        # Replies and notifications become emails from the outbox.
        register_consumer(consume_outbox_event)
