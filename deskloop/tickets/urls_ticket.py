"""The ticket page and what it posts to."""

from django.urls import path

from deskloop.tickets.views import new_ticket, ticket, ticket_actions, ticket_attachments

urlpatterns = [
    path("tickets/new/", new_ticket.new_ticket, name="new"),
    path("tickets/new/requesters/", new_ticket.requester_matches, name="new_requesters"),
    path("tickets/<int:number>/", ticket.ticket_detail, name="detail"),
    path("tickets/<int:number>/properties/", ticket.ticket_update, name="update"),
    path("tickets/<int:number>/messages/", ticket.ticket_compose, name="compose"),
    path("tickets/<int:number>/follow/", ticket.ticket_follow, name="follow"),
    path("tickets/<int:number>/presence/", ticket.ticket_presence, name="presence"),
    path("tickets/<int:number>/macros/<int:macro_id>/", ticket.ticket_macro, name="macro"),
    path("tickets/<int:number>/merge/", ticket_actions.ticket_merge, name="merge"),
    path("tickets/<int:number>/spam/", ticket_actions.ticket_spam, name="spam"),
    path("tickets/<int:number>/delete/", ticket_actions.ticket_delete, name="delete"),
    path("tickets/<int:number>/restore/", ticket_actions.ticket_restore, name="restore"),
    path("attachments/<int:attachment_id>/", ticket_attachments.attachment_download, name="attachment"),
]
