from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "storefront.checkout"
    label = "checkout"

    def ready(self) -> None:
        from storefront.checkout import emails  # noqa: F401  (the buyer's emails listen to csp's signals)
