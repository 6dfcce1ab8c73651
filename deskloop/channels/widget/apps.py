from django.apps import AppConfig


class WidgetChannelConfig(AppConfig):
    name = "deskloop.channels.widget"
    label = "widget_channel"
    verbose_name = "In-app widget"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job

        from .confirmation import purge_confirmations

        # Email confirmations live 15 minutes; the expired ones go a day later.
        register_job("purge_widget_confirmations", 3600, purge_confirmations)
        self._register_tabs()

    def _register_tabs(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from .slots import WidgetTab, register_tab

        # NPS and micro-surveys for the identified contact (surveys sits below the channels; the tab plugs in here).
        register_tab(WidgetTab("survey", _("Survey"), "widget:survey"))
        register_tab(WidgetTab("ideas", _("Ideas"), "widget:ideas"))
