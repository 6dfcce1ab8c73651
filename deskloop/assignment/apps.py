from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "deskloop.assignment"
    label = "assignment"
