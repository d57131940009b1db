"""`python manage.py import_price_list --market US [--timeline current|future] [--force]`."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csp.partner_center.exceptions import PartnerCenterError
from storefront.catalog.models import PriceListImport
from storefront.catalog.pricelist import PriceListError, offer_matrix_import, price_list_import

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import Microsoft's new-commerce price list of one market (and this month's offer matrix)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--market", required=True, help="two-letter market code, e.g. US or DK")
        parser.add_argument("--timeline", choices=["current", "future"], default="current")
        parser.add_argument("--force", action="store_true", help="import even if the file has not changed")
        parser.add_argument("--no-offer-matrix", action="store_true", help="skip the offer matrix")

    def _progress(self, done: int, total: int) -> None:
        """A bar on a terminal; nothing in logs and pipes."""
        if not sys.stdout.isatty():
            return
        if total:
            filled = int(BAR_WIDTH * done / total)
            line = f"\r  [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} offers"
        else:
            line = f"\r  reading... {done} rows"
        self.stdout.write(line, ending="")
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        market = options["market"].strip().upper()
        if len(market) != 2 or not market.isalpha():
            raise CommandError(f"--market must be a two-letter country code, not {options['market']!r}.")
        started = time.monotonic()
        self.stdout.write(f"Downloading the {options['timeline']} price list for {market}...")
        try:
            run = price_list_import(
                market=market, timeline=options["timeline"], force=options["force"], progress=self._progress
            )
        except (PartnerCenterError, PriceListError) as error:
            raise CommandError(f"The price list could not be imported: {error}") from error
        self.stdout.write("")
        seconds = time.monotonic() - started
        if run.status == PriceListImport.Status.DONE:
            verb = "next month" if run.timeline == "future" else "imported"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{market} {verb}: {run.rows} rows, {run.added} added, {run.changed} changed, "
                    f"{run.retired} retired, {run.unchanged} unchanged in {seconds:.1f} s."
                )
            )
        else:
            self.stdout.write(f"{market}: {run.get_status_display()}. {run.message}")
        if run.message and run.status == PriceListImport.Status.DONE:
            self.stdout.write(f"  Note: {run.message}")
        if options["timeline"] == "current" and not options["no_offer_matrix"]:
            try:
                count = offer_matrix_import()
            except PartnerCenterError as error:
                self.stdout.write(self.style.WARNING(f"Offer matrix not imported: {error}"))
            else:
                self.stdout.write(f"Offer matrix: seat limits updated on {count} offers.")
