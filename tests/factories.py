"""factory_boy factories for the storefront's models; each builds a valid row with realistic values."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from billing.models import Order, OrderLine
from csp.models import IndirectReseller, ResellerMpnId, TenantAuthorization, TenantHolding
from storefront.accounts.models import Organization, User
from storefront.catalog.models import Product
from storefront.customers.models import EndCustomer

PASSWORD = "correct-horse-42"


def guid(n: int, prefix: str = "44444444-4444-4444-8444") -> str:
    return f"{prefix}-{n:012d}"


class BillingProfileFactory(DjangoModelFactory):
    first_name = "Pat"
    last_name = "Buyer"
    email = factory.Sequence(lambda n: f"billing{n}@example.com")
    phone = "+1 425 555 0100"
    address_line1 = factory.Sequence(lambda n: f"{100 + n} Main Street")
    address_line2 = ""
    city = "Redmond"
    state = "WA"
    postal_code = "98052"
    country = "US"

    class Meta:
        abstract = True


class OrganizationFactory(BillingProfileFactory):
    """A reseller organisation with an MPN ID outside the sandbox's demo values."""

    class Meta:
        model = Organization

    company_name = factory.Sequence(lambda n: f"Reseller {n} LLC")
    kind = Organization.Kind.RESELLER
    mpn_id = factory.Sequence(lambda n: str(6000000 + n))


class DirectCustomerFactory(OrganizationFactory):
    company_name = factory.Sequence(lambda n: f"Direct Customer {n} Inc")
    kind = Organization.Kind.DIRECT
    mpn_id = ""


class UserFactory(DjangoModelFactory):
    """A reseller user by default; `staff=True` gives a distributor admin without an organisation."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        staff = factory.Trait(is_staff=True, is_superuser=True, organization=None)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"User{n}")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.django.Password(PASSWORD)
    is_active = True


class EndCustomerFactory(BillingProfileFactory):
    class Meta:
        model = EndCustomer

    reseller = factory.SubFactory(OrganizationFactory)
    company_name = factory.Sequence(lambda n: f"End Customer {n} Ltd")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Microsoft 365 Test Plan {n}")
    product_id = factory.Sequence(lambda n: f"CFQ7TTC0{n:04d}")
    sku_id = "0001"
    availability_id = factory.Sequence(lambda n: f"CFQ7TTC1{n:04d}")
    term_duration = Product.Term.P1Y
    billing_cycle = Product.BillingCycle.MONTHLY
    price = Decimal("6.00")
    currency = "USD"
    is_active = True


class ResellerMpnIdFactory(DjangoModelFactory):
    """One more MPN ID of a reseller organisation (its partner location ids)."""

    class Meta:
        model = ResellerMpnId

    organization = factory.SubFactory(OrganizationFactory)
    mpn_id = factory.Sequence(lambda n: str(7_000_000 + n))


class TenantAuthorizationFactory(DjangoModelFactory):
    """A pending indirect-reseller authorization; traits `verified` and `direct`."""

    class Meta:
        model = TenantAuthorization
        skip_postgeneration_save = True

    class Params:
        verified = factory.Trait(
            status=TenantAuthorization.Status.VERIFIED,
            verified_at=factory.LazyFunction(timezone.now),
            customer_tenant_id=factory.Sequence(lambda n: guid(n, "33333333-3333-4333-8333")),
        )
        direct = factory.Trait(
            kind=TenantAuthorization.Kind.DIRECT,
            organization=factory.SubFactory(DirectCustomerFactory),
            end_customer=None,
            reseller_mpn_id="",
        )

    kind = TenantAuthorization.Kind.INDIRECT_RESELLER
    status = TenantAuthorization.Status.PENDING
    organization = factory.SubFactory(OrganizationFactory)
    end_customer = factory.SubFactory(EndCustomerFactory, reseller=factory.SelfAttribute("..organization"))
    domain_prefix = factory.Sequence(lambda n: f"tenant{n}")
    authorization_link = factory.LazyAttribute(
        lambda o: (
            "https://admin.microsoft.com/Adminportal/Home?invType=IndirectResellerRelationship"
            f"&partnerId=d1570b00-0000-4000-8000-000000000001&indirectCSPId={o.organization.mpn_id}#/BillingAccounts"
        )
    )
    reseller_mpn_id = factory.SelfAttribute("organization.mpn_id")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    expected_tenant_id = factory.LazyAttribute(lambda o: o.customer_tenant_id)
    tenant_was_customer = False

    @factory.post_generation
    def holding(obj, create, extracted, **kwargs):
        """A verified authorization means its organisation holds the tenant (as `csp.authorizations` records it)."""
        if create and obj.status == TenantAuthorization.Status.VERIFIED and obj.customer_tenant_id:
            TenantHolding.objects.get_or_create(
                tenant_id=obj.customer_tenant_id.lower(),
                organization=obj.organization,
                defaults={"source": TenantHolding.Source.AUTHORIZATION, "authorization": obj},
            )


class OrderFactory(DjangoModelFactory):
    """A submitted new-tenant order of a reseller for one of its end-customers."""

    class Meta:
        model = Order

    number = factory.LazyFunction(Order.new_number)
    organization = factory.SubFactory(OrganizationFactory)
    end_customer = factory.SubFactory(EndCustomerFactory, reseller=factory.SelfAttribute("..organization"))
    status = Order.Status.SUBMITTED
    tenant = Order.Tenant.NEW
    domain_prefix = factory.Sequence(lambda n: f"neworder{n}")
    partner_mpn_id = factory.SelfAttribute("organization.mpn_id")
    billing_profile = factory.LazyAttribute(
        lambda o: (o.end_customer or o.organization).billing_profile_dict()
    )
    agreement_first_name = "Megan"
    agreement_last_name = "Bowen"
    agreement_email = "megan.bowen@contoso.com"
    agreement_phone = "+1 425 555 0199"
    agreement_accepted_at = factory.LazyFunction(timezone.now)
    total = Decimal("0.00")


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.SelfAttribute("product.name")
    catalog_item_id = factory.LazyAttribute(lambda o: o.product.catalog_item_id)
    term_duration = factory.SelfAttribute("product.term_duration")
    billing_cycle = factory.SelfAttribute("product.billing_cycle")
    quantity = 1
    unit_price = factory.SelfAttribute("product.price")


class IndirectResellerFactory(DjangoModelFactory):
    """A reseller in the distributor's network, active with the Microsoft Partner Agreement signed."""

    class Meta:
        model = IndirectReseller

    tenant_id = factory.Sequence(lambda n: guid(n, "22222222-2222-4222-8222"))
    name = factory.Sequence(lambda n: f"Network Reseller {n}")
    mpn_id = factory.Sequence(lambda n: str(7000000 + n))
    state = "Active"
    location = "US"
    agreement_signed = True
    refreshed_at = factory.LazyFunction(timezone.now)
