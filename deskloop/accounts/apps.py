from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "deskloop.accounts"
    label = "accounts"

    def ready(self) -> None:
        from deskloop.accounts.settings_screens import register_account_screens
        from deskloop.accounts.signin_throttle import purge_signin_counters
        from deskloop.core.periodic import register_job

        register_account_screens()
        register_job("purge_signin_counters", 3600, purge_signin_counters)
