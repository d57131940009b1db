from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Registers the sandbox for its management command only; it has no models."""

    name = "csp.sandbox"
    label = "sandbox"
    verbose_name = "Partner Center sandbox"
