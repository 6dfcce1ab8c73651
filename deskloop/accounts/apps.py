from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "deskloop.accounts"
    label = "accounts"

    def ready(self) -> None:
        from deskloop.accounts.settings_screens import register_account_screens

        register_account_screens()
