"""The end-customer remembers the tenant its authorization verified, if it has none yet."""

from django.dispatch import receiver

from csp.signals import authorization_verified, new_tenant_created
from storefront.customers.models import EndCustomer


@receiver(authorization_verified, dispatch_uid="end-customer-remembers-verified-tenant")
def remember_tenant(sender, authorization, **kwargs) -> None:
    if not authorization.end_customer_id:
        return
    EndCustomer.objects.filter(
        pk=authorization.end_customer_id, reseller_id=authorization.organization_id, tenant_id=""
    ).update(tenant_id=authorization.customer_tenant_id, domain=authorization.default_domain)


@receiver(new_tenant_created, dispatch_uid="end-customer-remembers-created-tenant")
def remember_created_tenant(sender, order, tenant_id: str, domain: str, **kwargs) -> None:
    if not order.end_customer_id:
        return
    EndCustomer.objects.filter(pk=order.end_customer_id, reseller_id=order.organization_id).update(
        tenant_id=tenant_id, domain=domain
    )
