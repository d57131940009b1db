"""The bench's accounts and drafts (idempotent): a reseller with a draft at Service Details, and a direct customer."""

from __future__ import annotations

from decimal import Decimal

BENCH_PASSWORD = "bench-password-42"
RESELLER_EMAIL = "bench.reseller@fabrikam.example"
DIRECT_EMAIL = "bench.direct@woodgrove.example"


def bench_users(*, fresh_drafts: bool = False):
    from storefront.accounts.models import Organization, User
    from storefront.catalog.models import Product
    from storefront.checkout.models import CheckoutDraft
    from storefront.customers.models import EndCustomer

    address = {
        "address_line1": "1 Microsoft Way",
        "city": "Redmond",
        "state": "WA",
        "postal_code": "98052",
        "country": "US",
        "phone": "+1 425 555 0100",
    }
    reseller_org, _ = Organization.objects.get_or_create(
        company_name="Fabrikam IT Services",
        defaults={
            "kind": "reseller",
            "mpn_id": "1234567",
            "first_name": "Pat",
            "last_name": "Lee",
            "email": "pat@fabrikam.example",
            **address,
        },
    )
    direct_org, _ = Organization.objects.get_or_create(
        company_name="Woodgrove Bank",
        defaults={
            "kind": "direct",
            "mpn_id": "",
            "first_name": "Sam",
            "last_name": "Roe",
            "email": "sam@woodgrove.example",
            **address,
        },
    )
    product, _ = Product.objects.get_or_create(
        product_id="CFQ7TTC0LH18",
        defaults={
            "name": "Microsoft 365 Business Basic",
            "sku_id": "0001",
            "availability_id": "CFQ7TTC0BENCH",
            "term_duration": "P1Y",
            "billing_cycle": "monthly",
            "price": Decimal("6.00"),
            "currency": "USD",
        },
    )
    contoso, _ = EndCustomer.objects.get_or_create(
        reseller=reseller_org,
        company_name="Contoso Ltd",
        defaults={"first_name": "Jane", "last_name": "Doe", "email": "jane@contoso.example", **address},
    )
    users = []
    for email, organization in ((RESELLER_EMAIL, reseller_org), (DIRECT_EMAIL, direct_org)):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=BENCH_PASSWORD, organization=organization)
        if fresh_drafts:
            CheckoutDraft.objects.filter(user=user, status="open").delete()
        draft, _ = CheckoutDraft.objects.get_or_create(
            user=user, status="open", defaults={"organization": organization}
        )
        draft.lines = {str(product.pk): 3}
        if organization.kind == "reseller":
            draft.end_customer = contoso
            draft.mpn_id = "1234567"
        else:
            draft.customer_confirmed = True
        draft.save()
        users.append(user)
    return users[0], users[1]


def load_users(count: int) -> list[tuple[str, str]]:
    """`count` resellers of Fabrikam, each with its own draft at Service Details, and their API tokens."""
    from storefront.accounts.models import User
    from storefront.accounts.tokens import api_token_create
    from storefront.checkout.models import CheckoutDraft

    reseller, _ = bench_users()
    template = CheckoutDraft.objects.get(user=reseller, status="open")
    out = []
    for n in range(count):
        email = f"bench.load{n}@fabrikam.example"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=BENCH_PASSWORD, organization=reseller.organization
        )
        CheckoutDraft.objects.filter(user=user, status="open").delete()
        CheckoutDraft.objects.create(
            user=user,
            organization=reseller.organization,
            lines=template.lines,
            end_customer=template.end_customer,
            mpn_id="1234567",
            domain_prefix=f"benchload{n}",
        )
        _, secret = api_token_create(user=user, name="bench")
        out.append((email, secret))
    return out


if __name__ == "__main__":
    import json
    import sys

    import django

    django.setup()
    from csp import mpn_ids

    bench_users()
    mpn_ids.network_refresh()
    sys.stdout.write("USERS " + json.dumps(load_users(int(sys.argv[1]) if len(sys.argv) > 1 else 8)) + "\n")
