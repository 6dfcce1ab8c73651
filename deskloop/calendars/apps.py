"""Business calendars: the weekly opening hours (in a time zone, shifts may cross midnight) and holidays that SLA
clocks, agents' shifts and the staffing roster count time in."""

from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "deskloop.calendars"
    label = "calendars"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from deskloop.accounts.access import Capability
        from deskloop.accounts.settings_screens import Screen, SettingsGroup, register_screen

        register_screen(
            Screen(
                "calendars:calendars",
                _("Business calendars"),
                _("Opening hours, time zones and holidays that SLA clocks and shifts count in."),
                SettingsGroup.WORKSPACE,
                Capability.ADMIN,
                ("calendars:",),
                40,
            )
        )
