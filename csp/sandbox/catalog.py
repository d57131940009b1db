"""The sandbox's new-commerce catalog: products, SKUs, availabilities, the price list and the offer matrix.

One deterministic generator feeds every endpoint, so the catalog endpoints, the price list of each market and the
cart checks agree. It carries what real files carry (partner-center-api.md 15): UnitPrice for the whole term,
ERP Price, segments (the price list's Charity is the catalog's nonprofit), trials with BillingPlan None, a
mid-month republish that duplicates rows, an all-digit SKU id that lost its leading zeros, and a European market
billed in six currencies.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from urllib.parse import unquote

from csp.sandbox.state import SandboxError
from csp.sandbox.web import PARTNER_CENTER, Request, Response, Route, json_response, pc_error

if TYPE_CHECKING:
    from csp.sandbox.server import SandboxApp

SALES_AUDIENCE = "https://api.partner.microsoft.com"
PRICE_COLUMNS = [
    "ProductTitle", "ProductId", "SkuId", "SkuTitle", "Publisher", "SkuDescription", "UnitOfMeasure",
    "TermDuration", "BillingPlan", "Market", "Currency", "UnitPrice", "PricingTierRangeMin",
    "PricingTierRangeMax", "EffectiveStartDate", "EffectiveEndDate", "Tags", "ERP Price", "Segment",
    "ChangeIndicator", "PreviousValues",
]  # fmt: skip
MATRIX_COLUMNS = [
    "ProductTitle", "ProductId", "SkuId", "SkuTitle", "Segment", "MinLicenses", "MaxLicenses",
    "AssetOwnershipLimit", "ProductSkuPreRequisites", "ProductSkuConversion", "AllowedCountries",
]  # fmt: skip
MARKETS: dict[str, dict[str, Decimal]] = {
    "US": {"USD": Decimal("1")},
    # Microsoft's European files hold each row in every European billing currency.
    "DK": {
        "EUR": Decimal("0.94"),
        "GBP": Decimal("0.79"),
        "SEK": Decimal("10.6"),
        "NOK": Decimal("10.9"),
        "DKK": Decimal("7.02"),
        "CHF": Decimal("0.88"),
    },
}
EUROPE = ["AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "NL", "NO", "PL", "PT", "SE"]
SEGMENT_FACTORS = {
    "Commercial": Decimal("1"),
    "Education": Decimal("0.62"),
    "Charity": Decimal("0.75"),
    "Government": Decimal("1.08"),
}
CATALOG_SEGMENTS = {"Commercial": "commercial", "Education": "education", "Charity": "nonprofit", "Government": "government"}  # fmt: skip
CYCLE_PLANS = {"monthly": "Monthly", "annual": "Annual", "triennial": "Triennial", "none": "None"}
CAP_ERROR_CODE = 800067


@dataclass(frozen=True)
class Sku:
    id: str
    title: str
    monthly: Decimal  # USD per licence per month on an annual term billed annually (commercial)
    terms: tuple[tuple[str, str], ...]
    min_quantity: int = 1
    max_quantity: int = 10000
    trial: bool = False
    attestation: bool = False


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    family: str
    description: str
    skus: tuple[Sku, ...]
    segments: tuple[str, ...] = ("Commercial",)
    margin: Decimal = Decimal("0.80")  # UnitPrice / ERP Price


STANDARD = (("P1M", "monthly"), ("P1Y", "monthly"), ("P1Y", "annual"))
WITH_3Y = STANDARD + (("P3Y", "triennial"), ("P3Y", "annual"))
YEAR_ONLY = (("P1Y", "monthly"), ("P1Y", "annual"))
TRIAL = (("P1M", "none"),)
ALL_SEGMENTS = ("Commercial", "Education", "Charity", "Government")
EDU_NPO = ("Commercial", "Education", "Charity")


def _id(title: str) -> str:
    """A stable product id in Microsoft's shape (CFQ7TTC0 + four characters) for titles without a real one."""
    alphabet = "0123456789BCDFGHJKLMNPQRSTVWXZ"
    digest = int(hashlib.sha256(title.encode()).hexdigest(), 16)
    tail = ""
    for _ in range(4):
        digest, index = divmod(digest, len(alphabet))
        tail += alphabet[index]
    return "CFQ7TTC0" + tail


def _p(title: str, family: str, description: str, monthly: str, **options: object) -> Product:
    """A product with one main SKU (and the options' extra SKUs)."""
    terms = options.pop("terms", STANDARD)
    main = Sku(
        "0001",
        title,
        Decimal(monthly),
        terms,  # type: ignore[arg-type]
        max_quantity=int(options.pop("max_quantity", 10000)),  # type: ignore[call-overload]
        attestation=bool(options.pop("attestation", False)),
    )
    extra = tuple(options.pop("extra", ()))  # type: ignore[call-overload]
    product_id = str(options.pop("product_id", "") or _id(title))
    return Product(product_id, title, family, description, (main, *extra), **options)  # type: ignore[arg-type]


PRODUCTS: tuple[Product, ...] = (
    _p(
        "Microsoft 365 Business Basic",
        "Microsoft 365",
        "Web and mobile Office apps, Teams, 1 TB OneDrive and business email.",
        "6.00",
        product_id="CFQ7TTC0LH18",
        max_quantity=300,
        segments=EDU_NPO,
        extra=(
            Sku(
                "0002", "Microsoft 365 Business Basic Trial", Decimal("0"), TRIAL, max_quantity=25, trial=True
            ),
        ),
    ),  # noqa: E501
    _p(
        "Microsoft 365 Business Standard",
        "Microsoft 365",
        "Everything in Business Basic plus desktop Office apps, webinars and Bookings.",
        "12.50",
        product_id="CFQ7TTC0LDPB",
        max_quantity=300,
        segments=EDU_NPO,
        terms=WITH_3Y,
    ),  # noqa: E501
    _p(
        "Microsoft 365 Business Premium",
        "Microsoft 365",
        "Everything in Business Standard plus advanced security, Intune and Entra ID P1.",
        "22.00",
        product_id="CFQ7TTC0LCHC",
        max_quantity=300,
        segments=EDU_NPO,
        extra=(
            Sku(
                "0002",
                "Microsoft 365 Business Premium (no Teams)",
                Decimal("19.75"),
                STANDARD,
                max_quantity=300,
                attestation=True,
            ),
        ),
    ),  # noqa: E501
    _p(
        "Exchange Online (Plan 1)",
        "Exchange",
        "Business email with a 50 GB mailbox, calendar and contacts.",
        "4.00",
        product_id="CFQ7TTC0LH16",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Teams Essentials",
        "Teams",
        "Unlimited group meetings for up to 30 hours, chat and 10 GB cloud storage per user.",
        "4.00",
        product_id="CFQ7TTC0RQ8T",
        max_quantity=300,
    ),  # noqa: E501
    _p(
        "Exchange Online (Plan 2)",
        "Exchange",
        "Exchange Online Plan 1 plus a 100 GB mailbox, archiving and voicemail.",
        "8.00",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p("Exchange Online Kiosk", "Exchange", "A 2 GB mailbox for frontline workers.", "2.00"),
    _p(
        "Microsoft 365 E3",
        "Microsoft 365",
        "Office apps, Windows Enterprise, Intune and compliance for large organisations.",
        "36.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
        extra=(Sku("0002", "Microsoft 365 E3 (no Teams)", Decimal("33.75"), WITH_3Y, attestation=True),),
    ),  # noqa: E501
    _p(
        "Microsoft 365 E5",
        "Microsoft 365",
        "Microsoft 365 E3 plus advanced security, analytics and voice.",
        "57.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
        extra=(Sku("0002", "Microsoft 365 E5 (no Teams)", Decimal("54.75"), WITH_3Y, attestation=True),),
    ),  # noqa: E501
    _p(
        "Microsoft 365 F1",
        "Microsoft 365",
        "Teams, SharePoint and OneDrive for frontline workers.",
        "2.25",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft 365 F3",
        "Microsoft 365",
        "Web and mobile Office apps and Windows Enterprise for frontline workers.",
        "8.00",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft 365 Apps for business",
        "Microsoft 365",
        "Desktop Office apps with 1 TB OneDrive, without business email.",
        "8.25",
        max_quantity=300,
        segments=EDU_NPO,
        extra=(
            Sku(
                "0002",
                "Microsoft 365 Apps for business Trial",
                Decimal("0"),
                TRIAL,
                max_quantity=25,
                trial=True,
            ),
        ),
    ),  # noqa: E501
    _p(
        "Microsoft 365 Apps for enterprise",
        "Microsoft 365",
        "Desktop Office apps for large organisations.",
        "12.00",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Office 365 E1",
        "Office 365",
        "Web Office apps, Teams, email and 1 TB OneDrive.",
        "10.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Office 365 E3",
        "Office 365",
        "Desktop Office apps, email, Teams and compliance.",
        "23.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Office 365 E5",
        "Office 365",
        "Office 365 E3 plus voice, analytics and advanced security.",
        "38.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Teams Enterprise",
        "Teams",
        "Teams for organisations that buy their suite without it.",
        "5.25",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Teams Premium",
        "Teams",
        "Intelligent recaps, branded meetings and advanced webinars.",
        "10.00",
        terms=YEAR_ONLY,
        extra=(
            Sku("0003", "Microsoft Teams Premium Trial", Decimal("0"), TRIAL, max_quantity=25, trial=True),
        ),
    ),  # noqa: E501
    _p(
        "Microsoft Teams Phone Standard",
        "Teams",
        "Calling in Teams with a phone system.",
        "8.00",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Teams Rooms Pro",
        "Teams",
        "Meeting-room devices with management and premium features.",
        "40.00",
        terms=YEAR_ONLY,
    ),  # noqa: E501
    _p(
        "Microsoft 365 Copilot",
        "Copilot",
        "Copilot in Word, Excel, PowerPoint, Outlook and Teams.",
        "30.00",
        terms=(("P1M", "monthly"), ("P1Y", "monthly"), ("P1Y", "annual"), ("P3Y", "triennial")),
        margin=Decimal("0.85"),
    ),  # noqa: E501
    _p(
        "Microsoft Copilot Studio",
        "Copilot",
        "Build custom copilots and agents (25,000 messages a month).",
        "200.00",
        terms=(("P1M", "monthly"), ("P1Y", "annual")),
        margin=Decimal("0.85"),
    ),  # noqa: E501
    _p(
        "Microsoft Entra ID P1",
        "Security",
        "Conditional access, self-service password reset and hybrid identity.",
        "6.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Entra ID P2",
        "Security",
        "Entra ID P1 plus identity protection and privileged identity management.",
        "9.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Defender for Business",
        "Security",
        "Endpoint protection for organisations of up to 300 users.",
        "3.00",
        max_quantity=300,
    ),  # noqa: E501
    _p(
        "Microsoft Defender for Endpoint P2",
        "Security",
        "Endpoint detection and response, threat hunting and analytics.",
        "5.20",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Microsoft Intune Plan 1",
        "Security",
        "Device and application management.",
        "8.00",
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Windows 11 Enterprise E3",
        "Windows",
        "Windows Enterprise with advanced security and management.",
        "7.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Windows 365 Business",
        "Windows",
        "A cloud PC for each user, 2 vCPU, 8 GB RAM, 128 GB storage.",
        "41.00",
        terms=YEAR_ONLY,
        max_quantity=300,
        extra=(
            Sku(
                "0002",
                "Windows 365 Business 4 vCPU, 16 GB, 128 GB",
                Decimal("66.00"),
                YEAR_ONLY,
                max_quantity=300,
            ),
        ),
    ),  # noqa: E501
    _p(
        "Visio Plan 2",
        "Visio and Project",
        "Visio desktop and web apps for diagrams.",
        "15.00",
        segments=EDU_NPO,
    ),  # noqa: E501
    _p(
        "Project Plan 3",
        "Visio and Project",
        "Project desktop and web with resource management.",
        "30.00",
        segments=EDU_NPO,
    ),  # noqa: E501
    _p(
        "Power BI Pro",
        "Power Platform",
        "Self-service analytics and sharing of reports.",
        "14.00",
        terms=WITH_3Y,
        segments=ALL_SEGMENTS,
    ),  # noqa: E501
    _p(
        "Power Automate Premium",
        "Power Platform",
        "Cloud and desktop flows with premium connectors.",
        "15.00",
    ),  # noqa: E501
    _p(
        "Dynamics 365 Business Central Essentials",
        "Dynamics 365",
        "Financials, sales, purchasing and inventory for small businesses.",
        "80.00",
        terms=YEAR_ONLY,
        extra=(Sku("0010", "Dynamics 365 Business Central Team Members", Decimal("8.00"), YEAR_ONLY),),
    ),  # noqa: E501
    _p(
        "Dynamics 365 Sales Professional",
        "Dynamics 365",
        "Sales automation, forecasting and Outlook integration.",
        "65.00",
        terms=YEAR_ONLY,
        segments=EDU_NPO,
    ),  # noqa: E501
)
PRODUCTS_BY_ID = {p.id: p for p in PRODUCTS}
# Next month: one product leaves the list, one joins, and a few prices move.
RETIRED_NEXT_MONTH = _id("Exchange Online Kiosk")
ADDED_NEXT_MONTH = _p(
    "Microsoft Purview Suite", "Security", "Data security, compliance and risk management.", "12.00"
)  # noqa: E501
REPRICED_NEXT_MONTH = {"CFQ7TTC0LCHC": Decimal("1.05"), _id("Microsoft 365 E3"): Decimal("1.03")}
# A file that went through a spreadsheet: this all-digit SKU id arrives as "10", not "0010".
LOST_ZEROS_PRODUCT = _id("Dynamics 365 Business Central Essentials")
# A mid-month republish: these rows appear twice, the later EffectiveStartDate carrying the new price.
REPUBLISHED_MID_MONTH = (_id("Power BI Pro"), "0001")
MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}


def month_start(offset: int = 0, now: datetime | None = None) -> datetime:
    """The first day (UTC) of this month plus `offset` months."""
    now = now or datetime.now(UTC)
    month = now.month - 1 + offset
    return datetime(now.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def unit_price(sku: Sku, term: str, cycle: str) -> Decimal:
    """Partner cost for the whole term in USD (commercial), with the ratios measured on real files."""
    yearly = sku.monthly * 12
    if term == "P1M":
        return sku.monthly * Decimal("1.2")
    if term == "P1Y":
        return yearly * (Decimal("1.05") if cycle == "monthly" else 1)
    return yearly * 3 * (Decimal("1.05") if cycle != "triennial" else 1)


def products_for(month_offset: int = 0) -> tuple[Product, ...]:
    """The products on the list in the given month (0: this month, 1: next month)."""
    if month_offset <= 0:
        return PRODUCTS
    return tuple(p for p in PRODUCTS if p.id != RETIRED_NEXT_MONTH) + (ADDED_NEXT_MONTH,)


def price_rows(market: str, month_offset: int = 0, now: datetime | None = None) -> list[dict[str, str]]:
    """The rows of one market's `updatedlicensebased` file."""
    start = month_start(month_offset, now)
    end = month_start(month_offset + 1, now) - timedelta(seconds=1)
    rows = []
    for product in products_for(month_offset):
        move = REPRICED_NEXT_MONTH.get(product.id, Decimal("1")) if month_offset > 0 else Decimal("1")
        for sku in product.skus:
            sku_id = sku.id.lstrip("0") if product.id == LOST_ZEROS_PRODUCT and sku.id == "0010" else sku.id
            for segment in product.segments:
                for term, cycle in sku.terms:
                    for currency, rate in MARKETS[market].items():
                        cost = _money(unit_price(sku, term, cycle) * SEGMENT_FACTORS[segment] * rate * move)
                        erp = _money(cost / product.margin)
                        rows.append(
                            {
                                "ProductTitle": product.title,
                                "ProductId": product.id,
                                "SkuId": sku_id,
                                "SkuTitle": sku.title,
                                "Publisher": "Microsoft Corporation",
                                "SkuDescription": product.description,
                                "UnitOfMeasure": "1 License",
                                "TermDuration": term,
                                "BillingPlan": CYCLE_PLANS[cycle],
                                "Market": market,
                                "Currency": currency,
                                "UnitPrice": str(cost),
                                "PricingTierRangeMin": "",
                                "PricingTierRangeMax": "",
                                "EffectiveStartDate": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "EffectiveEndDate": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "Tags": "Trial" if sku.trial else "License",
                                "ERP Price": str(erp),
                                "Segment": segment,
                                "ChangeIndicator": "Change" if move != 1 else "Unchanged",
                                "PreviousValues": "",
                            }
                        )
                        if (product.id, sku.id) == REPUBLISHED_MID_MONTH and month_offset == 0:
                            later = dict(rows[-1])
                            later["EffectiveStartDate"] = (start + timedelta(days=14)).strftime(
                                "%Y-%m-%dT%H:%M:%SZ"
                            )
                            later["UnitPrice"] = str(_money(cost * Decimal("0.98")))
                            later["ChangeIndicator"] = "Change"
                            rows.append(later)
    return rows


def to_csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    """CSV with the UTF-8 byte-order mark Microsoft's files start with."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def matrix_rows() -> list[dict[str, str]]:
    rows = []
    for product in PRODUCTS:
        for sku in product.skus:
            for segment in product.segments:
                rows.append(
                    {
                        "ProductTitle": product.title,
                        "ProductId": product.id,
                        "SkuId": sku.id,
                        "SkuTitle": sku.title,
                        "Segment": segment,
                        "MinLicenses": str(sku.min_quantity),
                        "MaxLicenses": str(sku.max_quantity),
                        "AssetOwnershipLimit": str(sku.max_quantity) if sku.max_quantity <= 300 else "",
                        "ProductSkuPreRequisites": "",
                        "ProductSkuConversion": "",
                        "AllowedCountries": ";".join(["US", "CA", *EUROPE]),
                    }
                )
    return rows


# -- availabilities ---------------------------------------------------------------------------------------------


def availability_id(product_id: str, sku_id: str, segment: str, generation: int) -> str:
    """Availability ids change when Microsoft reissues them (the sandbox's `catalog_generation`)."""
    digest = hashlib.sha256(f"{product_id}:{sku_id}:{segment}:{generation}".encode()).hexdigest()
    alphabet = "0123456789BCDFGHJKLMNPQRSTVWXZ"
    number = int(digest, 16)
    tail = ""
    for _ in range(4):
        number, index = divmod(number, len(alphabet))
        tail += alphabet[index]
    return "CFQ7TTC0" + tail


def _sku(product_id: str, sku_id: str) -> tuple[Product, Sku]:
    product = PRODUCTS_BY_ID.get(product_id.upper())
    sku = next((s for s in product.skus if s.id == sku_id), None) if product else None
    if product is None or sku is None:
        raise SandboxError(404, f"The product {product_id} or its SKU {sku_id} was not found.", 400013)
    return product, sku


def _sku_or_generic(product_id: str, sku_id: str) -> tuple[Product, Sku]:
    """Customer-scoped reads answer for product ids the sandbox's catalog does not know with a generic SKU
    (every term, no cap), as create_cart stays lenient for hand-made test carts."""
    if product_id.upper() in PRODUCTS_BY_ID:
        return _sku(product_id, sku_id)
    sku = Sku(sku_id, "Sandbox test SKU", Decimal("1"), WITH_3Y)
    return Product(product_id.upper(), "Sandbox test product", "Other", "", (sku,), ALL_SEGMENTS), sku


def _sku_json(product: Product, sku: Sku) -> dict[str, object]:
    return {
        "id": sku.id,
        "productId": product.id,
        "title": sku.title,
        "description": product.description,
        "minimumQuantity": sku.min_quantity,
        "maximumQuantity": sku.max_quantity,
        "isTrial": sku.trial,
        "supportedBillingCycles": sorted({cycle for _, cycle in sku.terms}),
        "purchasePrerequisites": [],
        "dynamicAttributes": {"isMicrosoftProduct": True},
        "attestationProperties": {
            "attestationType": "NoTeamsAttestation" if sku.attestation else "None",
            "enforceAttestation": sku.attestation,
        },
        "links": {"self": {"uri": f"/products/{product.id}/skus/{sku.id}", "method": "GET", "headers": []}},
    }


def _availabilities(app: SandboxApp, product: Product, sku: Sku, country: str, segment: str | None) -> list:
    generation = int(app.state.config.get("catalog_generation") or 0)
    wanted = (segment or "").lower()
    items = []
    for price_segment in product.segments:
        catalog_segment = CATALOG_SEGMENTS[price_segment]
        if wanted and catalog_segment != wanted:
            continue
        if not wanted and catalog_segment == "nonprofit":
            continue  # Microsoft: nonprofit comes back only when asked for by name
        av_id = availability_id(product.id, sku.id, price_segment, generation)
        currency = "USD" if country.upper() in ("US", "") else "EUR"
        items.append(
            {
                "id": av_id,
                "productId": product.id,
                "skuId": sku.id,
                "catalogItemId": f"{product.id}:{sku.id}:{av_id}",
                "defaultCurrency": {"code": currency, "symbol": "$" if currency == "USD" else "€"},
                "segment": catalog_segment,
                "country": country.upper() or "US",
                "isPurchasable": True,
                "isRenewable": not sku.trial,
                "terms": [
                    {
                        "id": f"{term}-{cycle}",
                        "duration": term,
                        "description": f"{MONTHS[term]} month(s), billed {cycle}",
                        "billingCycle": cycle,
                        "cancellationPolicies": [],
                    }
                    for term, cycle in sku.terms
                ],
            }
        )
    return items


def current_offer(app: SandboxApp, catalog_item_id: str) -> tuple[Product, Sku] | None:
    """The product and SKU of a catalog item id that names today's availability; None for a product the
    sandbox's catalog does not know (kept lenient for hand-made test carts)."""
    product_id, sku_id, av_id = (catalog_item_id.split(":") + ["", "", ""])[:3]
    product = PRODUCTS_BY_ID.get(product_id.upper())
    if product is None:
        return None
    generation = int(app.state.config.get("catalog_generation") or 0)
    for sku in product.skus:
        if sku.id == sku_id:
            for segment in product.segments:
                if availability_id(product.id, sku.id, segment, generation).upper() == av_id.upper():
                    return product, sku
    raise SandboxError(400, f"The catalog item {catalog_item_id} is not available.", 800002)


def line_cap_error(
    app: SandboxApp, customer_id: str, product: Product, sku: Sku, quantity: int
) -> dict | None:
    """Seat caps are pooled across partners: the cart line carries an error with the quantity still available."""
    used = app.state.seat_usage.get((customer_id.lower(), product.id, sku.id), 0)
    available = max(0, sku.max_quantity - used)
    if quantity <= available:
        return None
    return {
        "errorCode": CAP_ERROR_CODE,
        "errorDescription": f"The quantity exceeds the limit of {sku.max_quantity} licences for this SKU.",
        "availableQuantity": available,
    }


# -- handlers ---------------------------------------------------------------------------------------------------


def _customer(app: SandboxApp, customer_id: str) -> None:
    app.state.customer_found(customer_id)


def customer_sku(app: SandboxApp, req: Request, customer_id: str, product_id: str, sku_id: str) -> Response:
    _customer(app, customer_id)
    return json_response(200, _sku_json(*_sku_or_generic(product_id, sku_id)))


def customer_availabilities(
    app: SandboxApp, req: Request, customer_id: str, product_id: str, sku_id: str
) -> Response:
    _customer(app, customer_id)
    product, sku = _sku_or_generic(product_id, sku_id)
    items = _availabilities(app, product, sku, "US", req.query.get("targetsegment"))
    return json_response(
        200, {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}
    )


def _sales_authorized(app: SandboxApp, req: Request) -> bool:
    """The sales host accepts only tokens issued for its own audience (a Partner Center token gets 401)."""
    scheme, _, token = (req.header("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return (
        app.state.token_valid(token.strip())
        and app.state.token_audiences.get(token.strip()) == SALES_AUDIENCE
    )


def _file_response(req: Request, name: str, body: bytes) -> Response:
    """Zip when the caller accepts deflate (as Microsoft does), else the CSV itself."""
    if "deflate" in (req.header("Accept-Encoding") or "").lower():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, body)
        return Response(200, buffer.getvalue(), {}, "application/octet-stream")
    return Response(200, body, {}, "text/csv; charset=utf-8")


def sales_file(app: SandboxApp, req: Request, resource: str) -> Response:
    """`pricesheets(Market='US',PricesheetView='updatedlicensebased')` and `offermatrix(Month='YYYYMM')`."""
    if not _sales_authorized(app, req):
        response = pc_error(
            401, 401, "Unauthorized: a token for https://api.partner.microsoft.com is required."
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="sandbox", error="invalid_token"'
        return response
    import re

    resource = unquote(resource)
    sheet = re.fullmatch(
        r"pricesheets\(Market='([A-Za-z]{2})',PricesheetView='(\w+)'\)", resource, re.IGNORECASE
    )
    if sheet:
        market, view = sheet.group(1).upper(), sheet.group(2).lower()
        if view != "updatedlicensebased":
            raise SandboxError(400, f"The sandbox serves only the updatedlicensebased view, not {view}.", 400)
        if market not in MARKETS:
            raise SandboxError(404, f"No price sheet for market {market}.", 404)
        timeline = req.query.get("timeline", "current").lower()
        if timeline not in ("current", "future"):
            raise SandboxError(400, f"Timeline {timeline} is not supported by the sandbox.", 400)
        offset = 1 if timeline == "future" else 0
        if offset and not app.state.config.get("price_list_future", True):
            raise SandboxError(404, "No future price sheet: next month brings no change.", 404)
        body = to_csv(PRICE_COLUMNS, price_rows(market, offset))
        return _file_response(req, f"{market}_updatedlicensebased_{timeline}.csv", body)
    matrix = re.fullmatch(r"offermatrix\(Month='(\d{6})'\)", resource, re.IGNORECASE)
    if matrix:
        return _file_response(
            req, f"offermatrix_{matrix.group(1)}.csv", to_csv(MATRIX_COLUMNS, matrix_rows())
        )
    raise SandboxError(404, f"The resource {resource} was not found.", 404)


def routes() -> list[Route]:
    pc = PARTNER_CENTER
    c = "/v1/customers/{customer_id}/products"
    return [
        Route("GET", "/v1.0/sales/{resource}/\\$value", sales_file, pc, auth=False),
        Route("GET", c + "/{product_id}/skus/{sku_id}", customer_sku, pc),
        Route("GET", c + "/{product_id}/skus/{sku_id}/availabilities", customer_availabilities, pc),
    ]
