"""`python manage.py partner_center_check`: read-only probes of every Partner Center permission; exit 0 if all pass."""

import sys

from django.core.management.base import BaseCommand

from csp.health import health_check


class Command(BaseCommand):
    help = "Checks the Partner Center connection and permissions (read-only); prints what to fix."

    def handle(self, *args, **options) -> None:
        probes = health_check()
        for probe in probes:
            if probe.ok:
                self.stdout.write(self.style.SUCCESS(f"ok    {probe.name}: {probe.detail}"))
            else:
                self.stdout.write(self.style.ERROR(f"FAIL  {probe.name}: {probe.detail}"))
                self.stdout.write(f"      To fix: {probe.fix}")
        failed = sum(not probe.ok for probe in probes)
        if failed:
            self.stdout.write(self.style.ERROR(f"{failed} of {len(probes)} checks failed."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"All {len(probes)} checks passed."))
