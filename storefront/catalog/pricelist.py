"""Importing Microsoft's new-commerce price list and offer matrix into the catalog.

1. Download the market's `updatedlicensebased` file through the Partner Center client (no transaction open).
2. Skip it when its SHA-256 equals the last imported file's (the daily check), unless forced.
3. Parse: BOM, header names in any case, SKU ids padded back to four digits, Charity -> nonprofit, trials
   (BillingPlan None), and mid-month duplicates (the latest EffectiveStartDate wins).
4. Apply in one transaction with bulk statements: add new offers, update changed ones, record a price history
   row for each new or changed price, and retire offers that left the list (never delete: orders point at them).
   The future timeline changes no offer: it records next month's prices as history marked future.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from csp.connection import partner_center
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import PartnerCenterError
from storefront.catalog.models import CatalogSettings, OfferPrice, PriceListImport, Product, Segment

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
TERMS = {"P1M", "P1Y", "P3Y"}
BILLING_PLANS = {
    "monthly": "monthly",
    "annual": "annual",
    "triennial": "triennial",
    "none": "none",
    "": "none",
}
SEGMENTS = {
    "commercial": Segment.COMMERCIAL,
    "education": Segment.EDUCATION,
    "charity": Segment.NONPROFIT,
    "nonprofit": Segment.NONPROFIT,
    "government": Segment.GOVERNMENT,
}
FAMILIES = [
    ("Microsoft 365 Copilot", "Copilot"),
    ("Microsoft Copilot", "Copilot"),
    ("Microsoft 365", "Microsoft 365"),
    ("Office 365", "Office 365"),
    ("Exchange", "Exchange"),
    ("Microsoft Teams", "Teams"),
    ("Teams", "Teams"),
    ("Dynamics 365", "Dynamics 365"),
    ("Windows", "Windows"),
    ("Power ", "Power Platform"),
    ("Visio", "Visio and Project"),
    ("Project", "Visio and Project"),
    ("Microsoft Entra", "Security"),
    ("Microsoft Defender", "Security"),
    ("Microsoft Intune", "Security"),
    ("Microsoft Purview", "Security"),
]
UPDATED_FIELDS = [
    "name",
    "sku_title",
    "description",
    "family",
    "publisher",
    "price",
    "erp_price",
    "effective_start",
    "effective_end",
    "is_trial",
    "is_active",
    "retired_at",
]
BATCH = 1000


class PriceListError(Exception):
    """A file we cannot use at all (not a price list); the message is for the operator."""


@dataclass
class OfferRow:
    product_id: str
    sku_id: str
    term_duration: str
    billing_cycle: str
    segment: str
    currency: str
    name: str
    sku_title: str
    description: str
    publisher: str
    price: Decimal
    erp_price: Decimal
    effective_start: datetime | None
    effective_end: datetime | None
    is_trial: bool

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (
            self.product_id,
            self.sku_id,
            self.term_duration,
            self.billing_cycle,
            self.segment,
            self.currency,
        )


@dataclass
class ParsedPriceList:
    offers: dict[tuple, OfferRow]
    rows: int
    skipped: list[str] = field(default_factory=list)
    duplicates: int = 0


def family_for(title: str) -> str:
    """The product family shown as a catalog filter, from the product's title."""
    for prefix, family in FAMILIES:
        if title.startswith(prefix):
            return family
    return "Other"


def sku_id_normalize(raw: str) -> str:
    """All-digit SKU ids are four digits; a file that went through a spreadsheet lost the leading zeros."""
    value = raw.strip()
    return value.zfill(4) if value.isdigit() else value


def _date(raw: str | None) -> datetime | None:
    value = (raw or "").strip()
    if not value:
        return None
    for parse in (
        lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        lambda v: datetime.strptime(v.split(" ")[0], "%m/%d/%Y"),
    ):
        try:
            moment = parse(value)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _money(raw: str | None) -> Decimal | None:
    value = (raw or "").strip().replace(",", "")
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() and amount >= 0 else None


def price_list_parse(data: bytes, *, progress: Progress | None = None) -> ParsedPriceList:
    """The offers of one price list file, one per key, with what was skipped and why."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise PriceListError("The price list is empty.")
    columns = {name.strip().lower(): index for index, name in enumerate(header)}
    missing = {"productid", "skuid", "termduration", "billingplan", "currency", "unitprice"} - set(columns)
    if missing:
        raise PriceListError(f"This is not a new-commerce price list: columns {sorted(missing)} are missing.")

    def cell(row: list[str], name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    parsed = ParsedPriceList(offers={}, rows=0)
    for number, row in enumerate(reader, start=2):
        if not any(row):
            continue
        parsed.rows += 1
        if progress and parsed.rows % 500 == 0:
            progress(parsed.rows, 0)
        term = cell(row, "termduration").upper()
        plan = BILLING_PLANS.get(cell(row, "billingplan").lower())
        segment = SEGMENTS.get((cell(row, "segment") or "commercial").lower())
        price = _money(cell(row, "unitprice"))
        product_id = cell(row, "productid").upper()
        sku_id = sku_id_normalize(cell(row, "skuid"))
        currency = cell(row, "currency").upper()
        problem = (
            "no product or SKU id"
            if not product_id or not sku_id
            else f"term {term!r}"
            if term not in TERMS
            else f"billing plan {cell(row, 'billingplan')!r}"
            if plan is None
            else f"segment {cell(row, 'segment')!r}"
            if segment is None
            else f"currency {currency!r}"
            if len(currency) != 3
            else f"unit price {cell(row, 'unitprice')!r}"
            if price is None
            else None
        )
        if problem:
            parsed.skipped.append(f"line {number}: {problem}")
            continue
        tags = cell(row, "tags").lower()
        offer = OfferRow(
            product_id=product_id,
            sku_id=sku_id,
            term_duration=term,
            billing_cycle=plan,
            segment=segment,
            currency=currency,
            name=cell(row, "producttitle")[:200] or product_id,
            sku_title=cell(row, "skutitle")[:200],
            description=cell(row, "skudescription"),
            publisher=cell(row, "publisher")[:100],
            price=price,
            erp_price=_money(cell(row, "erp price")) or Decimal("0.00"),
            effective_start=_date(cell(row, "effectivestartdate")),
            effective_end=_date(cell(row, "effectiveenddate")),
            is_trial=plan == "none" or "trial" in tags,
        )
        known = parsed.offers.get(offer.key)
        if known is not None:
            parsed.duplicates += 1
            earlier = datetime.min.replace(tzinfo=UTC)
            if (offer.effective_start or earlier) < (known.effective_start or earlier):
                continue  # a mid-month republish: the latest EffectiveStartDate is the price
        parsed.offers[offer.key] = offer
    return parsed


def _key(product: Product) -> tuple:
    return (
        product.product_id,
        product.sku_id,
        product.term_duration,
        product.billing_cycle,
        product.segment,
        product.currency,
    )


def _price_row(product: Product, run: PriceListImport, offer: OfferRow, *, is_future: bool) -> OfferPrice:
    """One line of an offer's price history, as this file states it."""
    return OfferPrice(
        product=product,
        price_list=run,
        price=offer.price,
        erp_price=offer.erp_price,
        effective_start=offer.effective_start,
        effective_end=offer.effective_end,
        is_future=is_future,
    )


def _fill(product: Product, offer: OfferRow) -> bool:
    """Copy the file's values onto the offer; True when anything changed."""
    values = {
        "name": offer.name,
        "sku_title": offer.sku_title,
        "description": offer.description,
        "family": family_for(offer.name),
        "publisher": offer.publisher,
        "price": offer.price,
        "erp_price": offer.erp_price,
        "effective_start": offer.effective_start,
        "effective_end": offer.effective_end,
        "is_trial": offer.is_trial,
        "is_active": True,
        "retired_at": None,
    }
    changed = False
    for name, value in values.items():
        if getattr(product, name) != value:
            setattr(product, name, value)
            changed = True
    return changed


def price_list_apply(
    *, market: str, timeline: str, data: bytes, force: bool = False, progress: Progress | None = None
) -> PriceListImport:
    """Apply one downloaded file to the catalog (see the module's steps 2 to 4)."""
    market = market.upper()
    digest = hashlib.sha256(data).hexdigest()
    last = (
        PriceListImport.objects.filter(
            market=market,
            timeline=timeline,
            status__in=[PriceListImport.Status.DONE, PriceListImport.Status.UNCHANGED],
        )
        .only("sha256")
        .first()
    )
    if last and last.sha256 == digest and not force:
        return PriceListImport.objects.create(
            market=market,
            timeline=timeline,
            sha256=digest,
            status=PriceListImport.Status.UNCHANGED,
            message="Same file as the last import: nothing to do.",
            finished_at=timezone.now(),
        )
    parsed = price_list_parse(data, progress=progress)
    total = len(parsed.offers)
    now = timezone.now()
    with transaction.atomic():
        run = PriceListImport.objects.create(
            market=market,
            timeline=timeline,
            sha256=digest,
            status=PriceListImport.Status.DONE,
            rows=parsed.rows,
        )
        existing = {_key(p): p for p in Product.objects.filter(market=market)}
        added: list[Product] = []
        changed: list[Product] = []
        history: list[OfferPrice] = []
        future = timeline == "future"
        for done, (key, offer) in enumerate(parsed.offers.items(), start=1):
            if progress and done % 250 == 0:
                progress(done, total)
            product = existing.get(key)
            if future:
                if product is None:
                    run.added += 1
                elif product.price != offer.price or product.erp_price != offer.erp_price:
                    run.changed += 1
                    history.append(_price_row(product, run, offer, is_future=True))
                else:
                    run.unchanged += 1
                continue
            if product is None:
                product = Product(market=market, product_id=key[0], sku_id=key[1], term_duration=key[2],
                                  billing_cycle=key[3], segment=key[4], currency=key[5])  # fmt: skip
                _fill(product, offer)
                added.append(product)
                continue
            old_price, old_erp = product.price, product.erp_price
            if _fill(product, offer):
                changed.append(product)
                if (old_price, old_erp) != (offer.price, offer.erp_price):
                    history.append(_price_row(product, run, offer, is_future=False))
            else:
                run.unchanged += 1
        if future:
            run.retired = sum(1 for key, p in existing.items() if p.is_active and key not in parsed.offers)
        else:
            Product.objects.bulk_create(added, batch_size=BATCH)
            Product.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=BATCH)
            history.extend(
                _price_row(product, run, parsed.offers[_key(product)], is_future=False) for product in added
            )
            gone = [p.pk for key, p in existing.items() if p.is_active and key not in parsed.offers]
            run.retired = Product.objects.filter(pk__in=gone).update(is_active=False, retired_at=now)
            run.added, run.changed = len(added), len(changed)
        OfferPrice.objects.bulk_create(history, batch_size=BATCH)
        notes = []
        if parsed.duplicates:
            notes.append(f"{parsed.duplicates} duplicate rows (the latest effective date kept)")
        if parsed.skipped:
            notes.append(f"{len(parsed.skipped)} rows skipped: " + "; ".join(parsed.skipped[:10]))
        run.message = ". ".join(notes)
        run.finished_at = timezone.now()
        run.save()
    if progress:
        progress(total, total)
    return run


def price_list_import(
    *,
    market: str,
    timeline: str = "current",
    client: PartnerCenterClient | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> PriceListImport:
    """Download one market's price list from Microsoft and apply it; a failure is recorded, then raised."""
    if client is None:
        client = partner_center()
    try:
        data = client.price_sheet(market, timeline=timeline)
    except PartnerCenterError as error:
        PriceListImport.objects.create(
            market=market.upper(),
            timeline=timeline,
            status=PriceListImport.Status.FAILED,
            message=str(error)[:2000],
            finished_at=timezone.now(),
        )
        raise
    if data is None:
        return PriceListImport.objects.create(
            market=market.upper(),
            timeline=timeline,
            status=PriceListImport.Status.NO_FILE,
            message="Microsoft has no file for this timeline (for the future: next month brings no change).",
            finished_at=timezone.now(),
        )
    try:
        return price_list_apply(market=market, timeline=timeline, data=data, force=force, progress=progress)
    except PriceListError as error:
        PriceListImport.objects.create(
            market=market.upper(),
            timeline=timeline,
            status=PriceListImport.Status.FAILED,
            message=str(error),
            finished_at=timezone.now(),
        )
        raise


def offer_matrix_apply(*, data: bytes) -> int:
    """Seat limits, prerequisites and allowed countries from the offer matrix onto every offer of each SKU."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    limits: dict[tuple[str, str], dict] = {}
    for row in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        product_id, sku_id = row.get("productid", "").upper(), sku_id_normalize(row.get("skuid", ""))
        if not product_id or not sku_id:
            continue
        minimum, maximum = row.get("minlicenses", ""), row.get("maxlicenses", "")
        limits[(product_id, sku_id)] = {
            "min_quantity": int(minimum) if minimum.isdigit() and int(minimum) > 0 else 1,
            "max_quantity": int(maximum) if maximum.isdigit() and int(maximum) > 0 else None,
            "prerequisites": row.get("productskuprerequisites", ""),
            "allowed_countries": row.get("allowedcountries", ""),
        }
    products = list(
        Product.objects.filter(product_id__in={key[0] for key in limits}).only(
            "pk", "product_id", "sku_id", "min_quantity", "max_quantity", "prerequisites", "allowed_countries"
        )
    )
    changed = []
    for product in products:
        values = limits.get((product.product_id, product.sku_id))
        if values and any(getattr(product, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(product, name, value)
            changed.append(product)
    Product.objects.bulk_update(
        changed, ["min_quantity", "max_quantity", "prerequisites", "allowed_countries"], batch_size=BATCH
    )
    return len(changed)


def offer_matrix_import(*, month: str | None = None, client: PartnerCenterClient | None = None) -> int:
    """Download this month's offer matrix and apply it."""
    if client is None:
        client = partner_center()
    month = month or timezone.now().strftime("%Y%m")
    return offer_matrix_apply(data=client.offer_matrix(month))


def price_lists_refresh() -> list[PriceListImport]:
    """The beat's daily check: each market the distributor sells in, current and next month, then the matrix."""
    runs = []
    for market in CatalogSettings.load().market_list:
        for timeline in ("current", "future"):
            try:
                runs.append(price_list_import(market=market, timeline=timeline))
            except (PartnerCenterError, PriceListError) as error:
                logger.warning("Price list %s %s not imported: %s", market, timeline, error)
    try:
        offer_matrix_import()
    except PartnerCenterError as error:
        logger.warning("Offer matrix not imported: %s", error)
    return runs
