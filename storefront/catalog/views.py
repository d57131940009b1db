from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.errors import StorefrontError
from storefront.catalog.models import Product, Segment
from storefront.catalog.pricing import organization_pricing_for_display
from storefront.catalog.selectors import CatalogFilters, catalog_families, catalog_page


def _organization(request: HttpRequest):
    return (
        request.user.organization if request.user.is_authenticated and request.user.organization_id else None
    )


def catalog(request: HttpRequest) -> HttpResponse:
    """The catalog: search and filters, one card per product with a picker for SKU, term and billing plan."""
    organization = _organization(request)
    pricing = organization_pricing_for_display(organization)
    filters = CatalogFilters.from_query(request.GET)
    cards, page = catalog_page(pricing=pricing, filters=filters, page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/catalog.html",
        {
            "cards": cards,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "families": catalog_families(pricing=pricing),
            "segments": [(value, label) for value, label in Segment.choices if value in pricing.segments],
            "terms": Product.Term.choices,
            "billings": [c for c in Product.BillingCycle.choices if c[0] != Product.BillingCycle.NONE],
            "is_reseller": pricing.is_reseller,
        },
    )


@login_required
@require_POST
def catalog_add(request: HttpRequest) -> HttpResponse:
    """Add the offer picked on a card (SKU, term and billing plan in one choice) to the cart."""
    from storefront.checkout import services

    if request.user.organization_id is None:
        raise PermissionDenied("Distributor staff order through Django admin, not the storefront.")
    offer = request.POST.get("offer", "")
    try:
        if not offer.isdigit():
            raise services.InvalidInput("Choose a licence, term and billing plan.", field="offer")
        draft = services.checkout_draft_get(user=request.user)
        services.cart_add(draft=draft, product_id=int(offer), quantity=request.POST.get("quantity", 1))
    except StorefrontError as error:
        messages.error(request, error.message)
        return redirect(
            request.POST.get("back") if str(request.POST.get("back", "")).startswith("/?") else "catalog"
        )
    messages.success(request, "Added to your cart.")
    return redirect("checkout:cart")
