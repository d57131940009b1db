"""manage.py seed_demo: the catalog, demo accounts and settings that make the storefront usable at once.

It only adds what is missing, so `make run` can call it every time without undoing an admin's edits.
"""

from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from csp.models import CloudServicesSettings, GdapRoleTemplate
from storefront.accounts.models import Organization, User
from storefront.catalog.models import Product
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

P1Y, P1M, MONTHLY = Product.Term.P1Y, Product.Term.P1M, Product.BillingCycle.MONTHLY

# Microsoft new-commerce offers: (name, product id, sku id, availability id, term, billing cycle, USD price).
CATALOG = [
    ("Microsoft 365 Business Basic", "CFQ7TTC0LH18", "0001", "CFQ7TTC0LH1K", P1Y, MONTHLY, "6.00"),
    ("Microsoft 365 Business Basic", "CFQ7TTC0LH18", "0001", "CFQ7TTC0LH1K", P1M, MONTHLY, "7.20"),
    ("Microsoft 365 Business Standard", "CFQ7TTC0LDPB", "0001", "CFQ7TTC0LDQ1", P1Y, MONTHLY, "12.50"),
    ("Microsoft 365 Business Premium", "CFQ7TTC0LCHC", "0002", "CFQ7TTC0LCJ8", P1Y, MONTHLY, "22.00"),
    ("Exchange Online (Plan 1)", "CFQ7TTC0LH16", "0001", "CFQ7TTC0LH1G", P1Y, MONTHLY, "4.00"),
    ("Microsoft Teams Essentials", "CFQ7TTC0RQ8T", "0001", "CFQ7TTC0RQ9N", P1Y, MONTHLY, "4.00"),
]
DESCRIPTIONS = {
    "CFQ7TTC0LH18": "Web and mobile Office apps, Teams, 1 TB OneDrive and business email.",
    "CFQ7TTC0LDPB": "Everything in Business Basic plus desktop Office apps, webinars and Bookings.",
    "CFQ7TTC0LCHC": "Everything in Business Standard plus advanced security, Intune and Entra ID P1.",
    "CFQ7TTC0LH16": "Business email with a 50 GB mailbox, calendar and contacts.",
    "CFQ7TTC0RQ8T": "Unlimited group meetings for up to 30 hours, chat and 10 GB cloud storage per user.",
}

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
        with transaction.atomic():
            products = self.seed_catalog()
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
        for position, (name, product_id, sku_id, availability_id, term, cycle, price) in enumerate(CATALOG):
            Product.objects.get_or_create(
                product_id=product_id,
                sku_id=sku_id,
                availability_id=availability_id,
                term_duration=term,
                billing_cycle=cycle,
                defaults={
                    "name": name,
                    "description": DESCRIPTIONS[product_id],
                    "price": Decimal(price),
                    "currency": "USD",
                    "is_active": True,
                    "sort_order": (position + 1) * 10,
                },
            )
        return len(CATALOG)

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
