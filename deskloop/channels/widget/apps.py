from django.apps import AppConfig


class WidgetChannelConfig(AppConfig):
    name = "deskloop.channels.widget"
    label = "widget_channel"
    verbose_name = "In-app widget"
