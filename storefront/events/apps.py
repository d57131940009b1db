from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "storefront.events"
    label = "events"
    verbose_name = "Event notifications"

    def ready(self) -> None:
        from storefront.events import receivers  # noqa: F401  (connects the listeners to csp's signals)
