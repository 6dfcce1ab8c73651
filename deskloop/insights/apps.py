from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "deskloop.insights"
    label = "insights"
