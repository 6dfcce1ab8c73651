from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo workspace (`seed_demo`) and the one-command local runner (`runserver_with_worker`). No models."""

    name = "deskloop.demo"
    label = "demo"
    verbose_name = "Demo"
