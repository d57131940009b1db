"""manage.py seed_demo: the catalog, demo accounts and settings that make the storefront usable at once.

It only adds what is missing, so `make run` can call it every time without undoing an admin's edits.
"""

from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from csp.models import CloudServicesSettings, GdapRoleTemplate
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.schemas import PartnerCenterConfig
from csp.sandbox.server import SandboxServer
from storefront.accounts.models import Organization, User
from storefront.catalog.models import CatalogSettings, Product, SegmentMargin
from storefront.catalog.pricelist import offer_matrix_import, price_list_import
from storefront.configuration.models import StorefrontConfiguration
from storefront.customers.models import EndCustomer
from storefront.events.models import EventType
from storefront.events.selectors import event_endpoints_for
from storefront.events.services import event_endpoint_create

from ._accounts import organization_user_upsert

DEMO_PASSWORD = "demo12345"
ADMIN_EMAIL = "admin@example.com"
RESELLER_EMAIL = "reseller@example.com"
DIRECT_EMAIL = "direct@example.com"

DEMO_MARKETS = ("US", "DK")
DEFAULT_MARGINS = {"commercial": "12", "education": "8", "nonprofit": "8", "government": "10"}

FABRIKAM = {
    "first_name": "Alex",
    "last_name": "Rivera",
    "phone": "+1 425 555 0100",
    "address_line1": "4567 Main Street",
    "address_line2": "Suite 200",
    "city": "Redmond",
    "state": "WA",
    "postal_code": "98052",
    "country": "US",
}
WOODGROVE = {
    "first_name": "Dana",
    "last_name": "Whitley",
    "phone": "+1 212 555 0150",
    "address_line1": "350 Park Avenue",
    "address_line2": "",
    "city": "New York",
    "state": "NY",
    "postal_code": "10022",
    "country": "US",
}
END_CUSTOMERS = [
    {
        "company_name": "Contoso Ltd",
        "first_name": "Megan",
        "last_name": "Bowen",
        "email": "megan.bowen@contoso.com",
        "phone": "+1 425 555 0199",
        "address_line1": "1 Contoso Way",
        "address_line2": "",
        "city": "Redmond",
        "state": "WA",
        "postal_code": "98052",
        "country": "US",
    },
    {
        "company_name": "Wingtip Toys",
        "first_name": "Lee",
        "last_name": "Gu",
        "email": "lee.gu@wingtiptoys.com",
        "phone": "+1 206 555 0123",
        "address_line1": "500 Pine Street",
        "address_line2": "Floor 3",
        "city": "Seattle",
        "state": "WA",
        "postal_code": "98101",
        "country": "US",
    },
]


DEMO_SUPPORT_GROUP_ID = "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"


class Command(BaseCommand):
    help = "Add the demo catalog, accounts and settings where missing (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DJANGO_ENV=production (creates accounts with a published password).",
        )

    def handle(self, *args, allow_production: bool = False, **options):
        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                "seed_demo creates accounts with the published password demo12345; "
                "refusing with DJANGO_ENV=production (pass --allow-production to insist)."
            )
        products = self.seed_catalog()  # before the transaction: it reads the price list over HTTP
        with transaction.atomic():
            self.seed_admin()
            reseller = self.seed_account(
                kind=Organization.Kind.RESELLER,
                name="Fabrikam IT Services",
                mpn_id="1234567",
                email=RESELLER_EMAIL,
                profile=FABRIKAM,
            )
            self.seed_account(
                kind=Organization.Kind.DIRECT, name="Woodgrove Bank", email=DIRECT_EMAIL, profile=WOODGROVE
            )
            for profile in END_CUSTOMERS:
                EndCustomer.objects.get_or_create(
                    reseller=reseller, company_name=profile["company_name"], defaults=profile
                )
            cloud = CloudServicesSettings.load()
            StorefrontConfiguration.load()
            receiver_url = self.seed_event_endpoint(reseller)
            # Staff can request the distributor's GDAP in the demo: the sandbox takes any group id.
            GdapRoleTemplate.objects.filter(is_default=True, security_group_id="").update(
                security_group_id=DEMO_SUPPORT_GROUP_ID, security_group_name="Demo support team (sandbox)"
            )
        self.print_logins(products, cloud)
        if receiver_url:
            self.stdout.write(
                f"  Event receiver   {settings.EVENT_RECEIVER_URL}/  (Fabrikam's events arrive here)"
            )

    def seed_catalog(self) -> int:
        """The demo catalog is imported, not typed: the sandbox's price lists through the Partner Center client.

        `make run` seeds before the sandbox process is up, so a temporary sandbox on a free port serves the files
        (the same generator the running sandbox uses, so ids and prices agree). In live mode nothing is imported
        here: run `import_price_list`.
        """
        for segment, margin in DEFAULT_MARGINS.items():
            SegmentMargin.objects.get_or_create(segment=segment, defaults={"margin_percent": Decimal(margin)})
        catalog_settings = CatalogSettings.load()
        if catalog_settings.markets == "US":
            catalog_settings.markets = ", ".join(DEMO_MARKETS)
            catalog_settings.save()
        if settings.PARTNER_CENTER_MODE != "sandbox":
            self.stdout.write(
                "Live mode: the catalog comes from Microsoft (manage.py import_price_list --market US)."
            )
            return Product.objects.filter(is_active=True).count()
        with SandboxServer() as sandbox:
            client = PartnerCenterClient(PartnerCenterConfig.for_sandbox(sandbox.url))
            for market in DEMO_MARKETS:
                run = price_list_import(market=market, client=client)
                self.stdout.write(
                    f"Price list {market}: {run.get_status_display()}, {run.added} added, {run.changed} changed."
                )
            offer_matrix_import(client=client)
        return Product.objects.filter(is_active=True).count()

    def seed_admin(self) -> User:
        admin = User.objects.filter(email__iexact=ADMIN_EMAIL).first()
        if admin is None:
            return User.objects.create_superuser(ADMIN_EMAIL, DEMO_PASSWORD)
        if not admin.is_staff:
            raise CommandError(f"{ADMIN_EMAIL} exists and is not staff; it cannot be the demo admin.")
        return admin

    def seed_account(self, *, kind: str, email: str, **fields) -> Organization:
        """The demo organisation of `email`, created with its user when missing; existing ones stay as edited."""
        user = User.objects.select_related("organization").filter(email__iexact=email).first()
        if user is None:
            return organization_user_upsert(
                kind=kind, email=email, password=DEMO_PASSWORD, **fields
            ).organization
        if user.organization is None or user.organization.kind != kind:
            raise CommandError(f"{email} exists but is not a {Organization.Kind(kind).label.lower()} user.")
        return user.organization

    def seed_event_endpoint(self, reseller: Organization) -> str:
        """Sandbox demo: Fabrikam's events go to the local receiver (`make run` starts it), to be seen working."""
        if not settings.EVENT_ENDPOINTS_ALLOW_LOOPBACK:
            return ""
        url = f"{settings.EVENT_RECEIVER_URL.rstrip('/')}/fabrikam"
        if not event_endpoints_for(organization_id=reseller.pk).filter(url=url).exists():
            event_endpoint_create(
                organization_id=reseller.pk,
                user_id=None,
                url=url,
                description="Demo receiver (python manage.py event_receiver)",
                event_types=list(EventType.values),
            )
        return url

    def print_logins(self, products: int, cloud: CloudServicesSettings) -> None:
        base = settings.STOREFRONT_BASE_URL.rstrip("/")
        write = self.stdout.write
        summary = f"Demo data ready: {products} catalog items, distributor {cloud.distributor_name}."
        write(self.style.SUCCESS(summary))
        write("")
        write(f"  Storefront  {base}/")
        write(f"  Admin       {base}/admin/")
        write("")
        write(f"  Admin            {ADMIN_EMAIL}")
        write(f"  Reseller         {RESELLER_EMAIL}  (Fabrikam IT Services, MPN ID 1234567)")
        write(f"  Direct customer  {DIRECT_EMAIL}  (Woodgrove Bank)")
        write(f"  Password for all: {DEMO_PASSWORD}")
