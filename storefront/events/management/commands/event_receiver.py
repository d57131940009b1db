"""Runs the sandbox demo's event receiver (storefront/events/receiver.py) until interrupted."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from storefront.events.models import EventEndpoint
from storefront.events.receiver import make_server
from storefront.events.services import endpoint_secret


class Command(BaseCommand):
    help = "A local receiver for event notifications that verifies each delivery's signature (sandbox demo)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument(
            "--secret",
            default="",
            help="A whsec_ secret to verify with (default: the endpoint's for each URL).",
        )

    def handle(self, *args, host: str, port: int, secret: str, **options):
        if settings.PRODUCTION:
            raise CommandError("The event receiver is a sandbox demo; it does not run in production.")

        def secrets_for(url: str) -> list[str]:
            if secret:
                return [secret]
            return [endpoint_secret(e) for e in EventEndpoint.objects.filter(url=url)]

        server, _ = make_server(host, port, secrets_for, log=self.stdout.write)
        self.stdout.write(f"Event receiver on http://{host}:{port}/ (deliveries listed at GET /)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
