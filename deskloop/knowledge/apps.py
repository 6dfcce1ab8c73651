from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "deskloop.knowledge"
    label = "knowledge"
