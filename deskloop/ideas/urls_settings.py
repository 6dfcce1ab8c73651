"""The ideas board's settings screen, mounted under /settings/."""

from django.urls import path

from deskloop.ideas.views import settings

app_name = "ideas_settings"

urlpatterns = [
    path("ideas-board/", settings.board_settings, name="board"),
]
