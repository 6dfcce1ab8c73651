from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "deskloop.quality"
    label = "quality"
