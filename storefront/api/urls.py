"""API v1, its OpenAPI schema and its docs; included at the site root by storefront/urls.py."""

from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView

from storefront.api import docs, views
from storefront.api.errors import not_found


class IdConverter:
    """A database id: digits, small enough for a 64-bit column (a longer number is simply not found)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class AnyTextConverter:
    """Any text at all, slashes and newlines included, so even odd input reaches the rule that explains it."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "api_id")
register_converter(AnyTextConverter, "api_text")

v1 = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/tokens/", views.TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<str:token_id>/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("products/", views.ProductListView.as_view(), name="products"),
    path("end-customers/", views.EndCustomerListCreateView.as_view(), name="end-customers"),
    path(
        "end-customers/<api_id:end_customer_id>/", views.EndCustomerDetailView.as_view(), name="end-customer"
    ),
    path("domains/<api_text:prefix>/", views.DomainCheckView.as_view(), name="domain"),
    path("mpn-validations/", views.MpnValidationView.as_view(), name="mpn-validations"),
    path("authorizations/", views.AuthorizationCreateView.as_view(), name="authorizations"),
    path(
        "authorizations/<api_id:authorization_id>/",
        views.AuthorizationDetailView.as_view(),
        name="authorization",
    ),
    path(
        "authorizations/<api_id:authorization_id>/verify/",
        views.AuthorizationVerifyView.as_view(),
        name="authorization-verify",
    ),
    path("gdap-role-templates/", views.GdapRoleTemplateListView.as_view(), name="gdap-role-templates"),
    path("gdap-requests/", views.GdapRequestListView.as_view(), name="gdap-requests"),
    path(
        "gdap-requests/<api_id:gdap_request_id>/",
        views.GdapRequestDetailView.as_view(),
        name="gdap-request",
    ),
    path("orders/", views.OrderCreateView.as_view(), name="orders"),
    path("orders/<api_id:order_id>/", views.OrderDetailView.as_view(), name="order"),
]

app_name = "api"
urlpatterns = [
    path("api/v1/", include(v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs.docs, name="docs"),
    path("api/docs/assets/<str:name>", docs.docs_asset, name="docs-asset"),
    re_path(r"^api/", not_found),
]
