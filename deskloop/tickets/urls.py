"""Agent workspace routes: the inbox screens and the ticket screens live in separate modules; and the first-run
sign-up, which opens a workspace with its defaults (tickets owns them)."""

from django.urls import path

from deskloop.tickets.urls_inbox import urlpatterns as inbox_urlpatterns
from deskloop.tickets.urls_ticket import urlpatterns as ticket_urlpatterns
from deskloop.tickets.views import signup

app_name = "tickets"

urlpatterns = [*inbox_urlpatterns, *ticket_urlpatterns, path("signup/", signup.signup, name="signup")]
