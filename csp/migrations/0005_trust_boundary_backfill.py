"""Existing data under the trust boundary: resellers own their MPN ID, verified tenants are held."""

from django.db import migrations


def backfill(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    ResellerMpnId = apps.get_model("csp", "ResellerMpnId")
    TenantAuthorization = apps.get_model("csp", "TenantAuthorization")
    TenantHolding = apps.get_model("csp", "TenantHolding")
    Order = apps.get_model("billing", "Order")
    for organization in Organization.objects.filter(kind="reseller").exclude(mpn_id="").order_by("pk"):
        ResellerMpnId.objects.get_or_create(
            mpn_id=organization.mpn_id.strip(), defaults={"organization_id": organization.pk}
        )
    verified = TenantAuthorization.objects.filter(status="verified").exclude(customer_tenant_id="").order_by("pk")
    for authorization in verified:
        TenantHolding.objects.get_or_create(
            tenant_id=authorization.customer_tenant_id.lower(),
            organization_id=authorization.organization_id,
            defaults={"source": "authorization", "authorization_id": authorization.pk},
        )
    for order in Order.objects.filter(status="completed", tenant="new").exclude(customer_tenant_id=""):
        TenantHolding.objects.get_or_create(
            tenant_id=order.customer_tenant_id.lower(),
            organization_id=order.organization_id,
            defaults={"source": "new_tenant_order"},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("csp", "0004_trust_boundary"),
        ("billing", "0003_order_buyer_notified_at"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
