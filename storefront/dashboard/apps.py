from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "storefront.dashboard"
    label = "dashboard"
