from django.apps import AppConfig


class ServiceLevelsConfig(AppConfig):
    name = "deskloop.service_levels"
    label = "service_levels"
