from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "deskloop.ideas"
    label = "ideas"
