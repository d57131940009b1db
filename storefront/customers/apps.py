from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "storefront.customers"
    label = "customers"

    def ready(self) -> None:
        from storefront.customers import signals  # noqa: F401
