from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "storefront.api"
    label = "api"
