from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "deskloop.staffing"
    label = "staffing"
