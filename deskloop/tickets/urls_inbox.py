from django.urls import path

from deskloop.tickets.views import inbox

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
]
