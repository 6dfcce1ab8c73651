"""The revenue settings screen, mounted under /settings/."""

from django.urls import path

from deskloop.revenue.views import settings

app_name = "revenue_settings"

urlpatterns = [
    path("revenue/", settings.revenue_settings, name="settings"),
    path("revenue/lost-reasons/", settings.lost_reason_add, name="lost_reason_add"),
    path("revenue/lost-reasons/<int:lost_reason_id>/delete/", settings.lost_reason_delete, name="lost_reason_delete"),
]
