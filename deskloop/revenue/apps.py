from django.apps import AppConfig


class RevenueConfig(AppConfig):
    name = "deskloop.revenue"
    label = "revenue"
