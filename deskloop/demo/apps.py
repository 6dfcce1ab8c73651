from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo workspace (`seed_demo`) and the one-command local runner (`runserver_with_worker`). No models."""

    name = "deskloop.demo"
    label = "demo"
    verbose_name = "Demo"

    def ready(self) -> None:
        from deskloop.channels.widget.demo_host import register_demo_visitor

        from .seed import demo_widget_visitor

        # /widget-demo/ embeds the demo workspace's widget, signed in as its busiest customer.
        register_demo_visitor(demo_widget_visitor)
