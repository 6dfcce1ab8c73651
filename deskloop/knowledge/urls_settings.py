"""The knowledge base's settings screen, mounted under /settings/."""

from django.urls import path

from deskloop.knowledge.views import help_center

app_name = "knowledge_settings"

urlpatterns = [
    path("help-center/", help_center.help_center_settings, name="help_center"),
    path("help-center/widget-secret/", help_center.widget_secret_rotate, name="widget_secret"),
]
