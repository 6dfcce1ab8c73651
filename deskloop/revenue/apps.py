from django.apps import AppConfig


class RevenueConfig(AppConfig):
    name = "deskloop.revenue"
    label = "revenue"

    def ready(self) -> None:
        from deskloop.core.outbox import register_consumer
        from deskloop.revenue.services.churn import won_back_on_lifecycle_change

        # customers publishes the stage change and knows nothing of churn: the win-back is counted here.
        register_consumer(won_back_on_lifecycle_change)
        self._register_settings_screen()

    def _register_settings_screen(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "revenue_settings:settings",
                _("Deals and churn"),
                _("Why deals are lost, and the industries you sell into."),
                SettingsGroup.WORKSPACE,
                Capability.ADMIN,
                ("revenue_settings:",),
                60,
            )
        )
