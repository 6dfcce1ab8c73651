from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "deskloop.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.webhooks.services import consume_outbox_event

        register_consumer(consume_outbox_event)

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
