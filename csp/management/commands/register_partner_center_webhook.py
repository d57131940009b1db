"""`python manage.py register_partner_center_webhook`: subscribe our receiver to Partner Center events."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from csp import webhooks
from csp.partner_center.exceptions import PartnerCenterError


class Command(BaseCommand):
    help = "Registers (or replaces) the Partner Center webhook pointing at this storefront."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default="",
            help="The public receiver URL (default: STOREFRONT_BASE_URL + /csp/webhooks/partner-center/).",
        )

    def handle(self, *args, url: str, **options):
        url = url or settings.STOREFRONT_BASE_URL.rstrip("/") + reverse("csp:partner-center-webhook")
        try:
            registered, events = webhooks.webhook_register(url=url)
        except PartnerCenterError as error:
            raise CommandError(f"Partner Center refused the registration: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Registered {registered} for {', '.join(events)}"))
