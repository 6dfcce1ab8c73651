"""Agent workspace routes: the inbox screens and the ticket screens live in separate modules."""

from deskloop.tickets.urls_inbox import urlpatterns as inbox_urlpatterns
from deskloop.tickets.urls_ticket import urlpatterns as ticket_urlpatterns

app_name = "tickets"

urlpatterns = [*inbox_urlpatterns, *ticket_urlpatterns]
