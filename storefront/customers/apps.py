from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "storefront.customers"
    label = "customers"
