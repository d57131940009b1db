from django.contrib import admin
from django.urls import include, path

from storefront.catalog.views import catalog, catalog_add

admin.site.site_header = "CSP Storefront administration"
admin.site.site_title = "CSP Storefront"

urlpatterns = [
    path("", catalog, name="catalog"),
    path("catalog/add/", catalog_add, name="catalog_add"),
    path("", include("storefront.checkout.urls")),
    path("orders/", include("storefront.orders.urls")),
    path("dashboard/events/", include("storefront.events.urls")),
    path("dashboard/", include("storefront.dashboard.urls")),
    path("accounts/", include("storefront.accounts.urls")),
    path("gdap/", include("storefront.gdap.urls")),
    path("csp/", include("csp.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("storefront.events.api_urls")),
    path("", include("storefront.api.urls")),
]
