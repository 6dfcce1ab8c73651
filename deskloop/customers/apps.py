from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "deskloop.customers"
    label = "customers"
