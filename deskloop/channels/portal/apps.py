from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "deskloop.channels.portal"
    label = "portal"
    verbose_name = "Customer portal"

    def ready(self) -> None:
        from deskloop.core.periodic import register_job

        from .services import purge_sign_in_links

        # Used and expired sign-in links are of no use to anyone; their rows go after a day.
        register_job("purge_sign_in_links", 3600, purge_sign_in_links)
