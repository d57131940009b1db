from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from storefront.catalog.models import Product


def catalog(request: HttpRequest) -> HttpResponse:
    """The catalog of Microsoft offers with Add to cart."""
    products = Product.objects.filter(is_active=True)
    return render(request, "catalog/catalog.html", {"products": products})
