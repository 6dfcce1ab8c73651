from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "deskloop.accounts"
    label = "accounts"
