from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "deskloop.webhooks"
    label = "webhooks"
