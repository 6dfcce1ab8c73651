from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deskloop.core"
    label = "core"
