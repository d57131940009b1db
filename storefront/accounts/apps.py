from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "storefront.accounts"
    label = "accounts"

    def ready(self) -> None:
        from storefront.accounts import signals  # noqa: F401
