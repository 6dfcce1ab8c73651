from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "deskloop.surveys"
    label = "surveys"
