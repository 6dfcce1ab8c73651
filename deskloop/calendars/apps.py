from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "deskloop.calendars"
    label = "calendars"
