from django.apps import AppConfig


class CspConfig(AppConfig):
    name = "csp"
    verbose_name = "Microsoft CSP"

    def ready(self) -> None:
        from csp import connect  # noqa: F401  (listens for a refused sign-in)
