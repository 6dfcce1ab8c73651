from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "deskloop.tickets"
    label = "tickets"
