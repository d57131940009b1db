from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "storefront.configuration"
    label = "configuration"
