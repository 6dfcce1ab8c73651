from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "deskloop.automations"
    label = "automations"
