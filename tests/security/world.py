"""The objects the security tests aim at: everything belongs to the owner's organisation."""

from __future__ import annotations

from dataclasses import dataclass

from billing.models import Order
from csp.models import TenantAuthorization
from storefront.catalog.models import Product
from storefront.customers.models import EndCustomer
from tests.factories import EndCustomerFactory, OrderFactory, ProductFactory, TenantAuthorizationFactory
from tests.sandbox_ids import CONTOSO_TENANT


@dataclass
class World:
    product: Product
    end_customer: EndCustomer
    authorization: TenantAuthorization
    order: Order
    gdap_request: object | None
    event_endpoint: object | None = None
    event_delivery: object | None = None

    def kwargs_for(self, pattern) -> dict:
        """Fills a route's URL arguments with the owner's objects (by argument name)."""
        values = {
            "product_id": self.product.pk,
            "end_customer_id": self.end_customer.pk,
            "authorization_id": self.authorization.pk,
            "order_id": self.order.pk,
            "gdap_request_id": getattr(self.gdap_request, "pk", 999999),
            "endpoint_id": getattr(self.event_endpoint, "pk", 999999),
            "delivery_id": getattr(self.event_delivery, "pk", 999999),
            "prefix": "contoso",
            "name": "swagger-ui.css",
            "pk": 1,
            "id": 1,
            "token_id": "no-such-token",
            "uidb64": "MQ",
            "token": "set-password",
        }
        names = list(pattern.pattern.regex.groupindex)
        return {name: values[name] for name in names}


def build_world(owner) -> World:
    organization = owner.organization
    product = ProductFactory(name="Microsoft 365 Business Basic")
    end_customer = EndCustomerFactory(reseller=organization, company_name="Contoso Ltd")
    authorization = TenantAuthorizationFactory(
        organization=organization, end_customer=end_customer, domain_prefix="contoso", requested_by=owner
    )
    order = OrderFactory(
        organization=organization,
        end_customer=end_customer,
        placed_by=owner,
        status=Order.Status.COMPLETED,
        billing_profile=end_customer.billing_profile_dict(),
    )
    gdap_request = None
    try:
        from csp.models import GdapRequest, GdapRoleTemplate
    except ImportError:  # GDAP not built yet
        GdapRequest = None
    if GdapRequest is not None:
        template = GdapRoleTemplate.objects.first() or GdapRoleTemplate.objects.create(
            name="Helpdesk", roles=[{"name": "Directory Readers", "role_definition_id": "88d8e3e3"}]
        )
        gdap_request = GdapRequest.objects.create(
            organization=organization,
            requested_by=owner,
            customer_tenant_id=CONTOSO_TENANT,
            customer_name="Contoso Ltd",
            role_template=template,
            roles=template.roles,
            display_name="security-test-gdap",
        )
    from storefront.events.services import event_endpoint_create, event_endpoint_test

    endpoint, _ = event_endpoint_create(
        organization_id=organization.pk,
        user_id=owner.pk,
        url="https://psa.fabrikam.example/hooks",
        event_types=["order.completed"],
    )
    delivery = event_endpoint_test(endpoint=endpoint)
    return World(product, end_customer, authorization, order, gdap_request, endpoint, delivery)
