from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "deskloop.classification"
    label = "classification"
