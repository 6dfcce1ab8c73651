from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "deskloop.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job
        from deskloop.webhooks.services import consume_outbox_event, send_due_deliveries

        register_consumer(consume_outbox_event)
        # Retries whose deferred task was lost (or a backend that cannot defer) are swept by the scheduler.
        register_job("send_due_webhooks", 60, send_due_deliveries)

        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "webhooks:endpoints",
                _("Webhooks"),
                _("Signed HTTP calls to your systems when tickets change."),
                SettingsGroup.INTEGRATIONS,
                Capability.ADMIN,
                ("webhooks:",),
                30,
            )
        )
