from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "deskloop.reports"
    label = "reports"
