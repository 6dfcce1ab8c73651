from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "deskloop.automations"
    label = "automations"

    def ready(self) -> None:
        from deskloop.automations.engine import consume_outbox_event, run_time_rules
        from deskloop.core.outbox import register_consumer
        from deskloop.core.periodic import register_job

        register_consumer(consume_outbox_event)
        # Time rules count hours; five minutes late is on time for them, and a round is one query per rule.
        register_job("run_time_rules", 300, run_time_rules)

        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "automations:rules",
                _("Automations"),
                _("Rules that change, assign, tag, note, notify, email or call a webhook when tickets change or wait."),
                SettingsGroup.TICKETS,
                Capability.ADMIN,
                ("automations:",),
                60,
            )
        )
