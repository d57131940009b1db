"""`python manage.py partner_center_sandbox --port 8765`: serve the sandbox in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from csp.sandbox.server import SandboxServer


class Command(BaseCommand):
    help = (
        "Serve the Partner Center sandbox (Partner Center, sign-in, Graph, admin portal) in the foreground."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--latency-ms", type=int, default=0, help="added to every Partner Center/Graph call"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = SandboxServer(
            host=options["host"], port=options["port"], latency_ms=options["latency_ms"], quiet=False
        )
        self.stdout.write(f"Partner Center sandbox listening on {server.url} (Ctrl+C to stop)")
        self.stdout.write(f"  sign-in:  {server.url}/<tenant>/oauth2/v2.0/token (any client id/secret)")
        self.stdout.write(f"  control:  {server.url}/_sandbox/state")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Partner Center sandbox stopped.")
