"""REST API v1: one thin view per operation, calling the same services and selectors as the pages."""

from __future__ import annotations

import re

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import MethodNotAllowed, NotFound, Throttled
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView as BaseAPIView

from billing import selectors as billing_selectors
from common.errors import InvalidInput, StorefrontError
from csp import authorizations, connect, domains, gdap, trust
from csp import selectors as csp_selectors
from storefront.accounts.tokens import api_token_create, api_token_revoke, api_tokens_active
from storefront.api import serializers as s
from storefront.api.errors import IdempotencyKeyRequired, InvalidCredentials
from storefront.api.parsers import JSONParser
from storefront.api.permissions import IsOrganizationMember, IsReseller
from storefront.api.throttling import LookupRateThrottle, TokenRateThrottle, lookup_budget_spend
from storefront.catalog.models import Product, Segment
from storefront.catalog.pricing import organization_pricing_for_display
from storefront.catalog.selectors import CatalogFilters, buyable_offers
from storefront.checkout import services as checkout_services
from storefront.customers.models import EndCustomer
from storefront.customers.services import end_customer_create

IDEMPOTENCY_KEY_MAX_LENGTH = 100
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,100}$"
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")

# Error responses, documented with the codes each status carries ------------------------------------------------

# Every code an answer may carry is written in backticks in its description: storefront.api.schema turns them into
# the enum of the answer's `code`, so a new code must be named here (or in the operation's own description).
_ERROR_DESCRIPTIONS = {
    400: "`invalid`: the input breaks a rule; `fields` names the fields at fault.",
    401: "`not_authenticated`: no or a bad token or session.",
    403: "`forbidden`: your account may not use this endpoint.",
    404: "`not_found`: no such object in your organisation.",
    409: "A conflict with the current state (see the codes).",
    429: "`throttled`: too many requests; retry after the `Retry-After` seconds.",
    503: "`partner_center_unavailable`: Microsoft could not be reached; try again shortly.",
}


def errors(*statuses: int, **described: str) -> dict[int, OpenApiResponse]:
    """The error responses of an operation; `s400="..."` overrides a description."""
    answer = {
        code: OpenApiResponse(s.ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in statuses
    }
    for key, description in described.items():
        answer[int(key[1:])] = OpenApiResponse(s.ErrorSerializer, description=description)
    return answer


AUTHENTICATED = (401, 403)


def id_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
        OpenApiParameter.PATH,
        description=what,
    )


class APIView(BaseAPIView):
    """JSON in, JSON out."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]


class MicrosoftRequiredMixin:
    """Endpoints that ask Microsoft answer `partner_center_unavailable` (503) at once while ordering is paused."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.microsoft_required(request):
            connect.ordering_require()

    def microsoft_required(self, request) -> bool:
        return True


class OrganizationMixin:
    permission_classes = [IsOrganizationMember]

    @property
    def organization(self):
        return self.request.user.organization


# Sign-in -----------------------------------------------------------------------------------------------------


class TokenView(APIView):
    """Exchanges an email and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary="Get an API token",
        description=(
            "Each call creates a new token (named, with an expiry); its secret is in this answer only. "
            "After 5 failed attempts for an email from one address (50 from one address for any emails), "
            "sign-in is paused: 429 `throttled` with `Retry-After`."
        ),
        request=s.TokenRequestSerializer,
        responses={
            200: s.TokenSerializer,
            **errors(429, s400="`invalid` (a missing or malformed field) or `invalid_credentials`."),
        },
        auth=[],
    )
    def post(self, request):
        data = _valid(s.TokenRequestSerializer, request.data)
        # The Django request, so the sign-in lockout (axes) sees this attempt like the form's and admin's.
        user = authenticate(
            request._request, username=data["username"].strip().lower(), password=data["password"]
        )
        if user is None or not user.is_active:
            raise InvalidCredentials("Unable to sign in with the email and password provided.")
        api_token, secret = api_token_create(
            user=user, name=data.get("name", ""), days=data.get("expires_in_days")
        )
        api_token.token = secret
        return Response(s.TokenSerializer(api_token).data)


class TokenListView(APIView):
    """The caller's API tokens that still work (never their secrets)."""

    @extend_schema(
        operation_id="auth_tokens_list",
        tags=["auth"],
        summary="Your API tokens",
        responses={200: s.TokenListItemSerializer(many=True), **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        tokens = api_tokens_active(user=request.user)
        return Response(s.TokenListItemSerializer(tokens, many=True, context={"current": request.auth}).data)


class TokenRevokeView(APIView):
    """Revokes one of the caller's tokens; it stops working at once."""

    @extend_schema(
        operation_id="auth_tokens_destroy",
        tags=["auth"],
        summary="Revoke an API token",
        parameters=[OpenApiParameter("token_id", str, OpenApiParameter.PATH, description="A token's `id`.")],
        responses={204: None, **errors(*AUTHENTICATED, 404)},
    )
    def delete(self, request, token_id: str):
        if not api_token_revoke(user=request.user, public_id=token_id):
            raise NotFound("No such token among yours.")
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Catalog -----------------------------------------------------------------------------------------------------


class ProductPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProductListView(APIView):
    @extend_schema(
        operation_id="products_list",
        tags=["catalog"],
        summary="The catalog",
        parameters=[
            OpenApiParameter(
                "search", str, description="Words in the product or SKU title, or a product id."
            ),
            OpenApiParameter("segment", str, enum=[c[0] for c in Segment.choices]),
            OpenApiParameter("term", str, enum=list(Product.Term.values)),
            OpenApiParameter("billing", str, enum=[c for c in Product.BillingCycle.values if c != "none"]),
            OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": 10**6}),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": 200},
                description="1 to 200 (default 50).",
            ),
        ],
        responses={200: s.ProductPageSerializer, **errors(400, 401, 404)},
    )
    def get(self, request):
        """The offers the caller may buy, at the caller's price, paginated."""
        choices = {
            "segment": list(Segment.values),
            "term": list(Product.Term.values),
            "billing": [c for c in Product.BillingCycle.values if c != "none"],
        }
        for name, allowed in choices.items():
            value = request.query_params.get(name, "")
            if value and value not in allowed:
                raise InvalidInput(
                    f"Unknown {name} {value[:20]!r}: choose one of {', '.join(allowed)}.", field=name
                )
        for name, low, high in (("page", 1, 10**6), ("page_size", 1, ProductPagination.max_page_size)):
            value = request.query_params.get(name)
            if value is not None and not (value.isascii() and value.isdigit() and low <= int(value) <= high):
                raise InvalidInput(f"{name} is a whole number from {low} to {high}.", field=name)
        pricing = organization_pricing_for_display(
            request.user.organization if request.user.organization_id else None
        )
        offers = buyable_offers(pricing=pricing, filters=CatalogFilters.from_query(request.query_params))
        paginator = ProductPagination()
        page = paginator.paginate_queryset(
            offers.order_by("name", "sku_id", "segment", "term_duration", "billing_cycle", "pk"),
            request,
            view=self,
        )
        data = s.ProductSerializer(page, many=True, context={"pricing": pricing}).data
        return paginator.get_paginated_response(data)


# End-customers -----------------------------------------------------------------------------------------------


class EndCustomerListCreateView(OrganizationMixin, APIView):
    permission_classes = [IsReseller]

    def get_throttles(self):
        # A new end-customer's address is validated at Microsoft: creating one spends the lookup budget.
        return [LookupRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="end_customers_list",
        tags=["end-customers"],
        summary="Your end-customers (resellers)",
        responses={200: s.EndCustomerSerializer(many=True), **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        customers = EndCustomer.objects.filter(reseller=self.organization)
        return Response(s.EndCustomerSerializer(customers, many=True).data)

    @extend_schema(
        operation_id="end_customers_create",
        tags=["end-customers"],
        summary="Add an end-customer (resellers)",
        description='The address is required when the distributor\'s "Sub customers billing address" switch is on.',
        request=s.EndCustomerInputSerializer,
        examples=[
            OpenApiExample(
                "Contoso",
                request_only=True,
                value={
                    "company_name": "Contoso Ltd",
                    "first_name": "Megan",
                    "last_name": "Bowen",
                    "email": "megan.bowen@contoso.com",
                    "phone": "+1 425 555 0199",
                    "address_line1": "1 Microsoft Way",
                    "city": "Redmond",
                    "state": "WA",
                    "postal_code": "98052",
                    "country": "US",
                },
            )
        ],
        responses={
            201: s.EndCustomerSerializer,
            **errors(
                400,
                *AUTHENTICATED,
                s429=(
                    "`throttled`: the address is validated at Microsoft, which spends the lookup budget shared "
                    "with `domains_retrieve`; retry after the `Retry-After` seconds."
                ),
            ),
        },
    )
    def post(self, request):
        data = _valid(s.EndCustomerInputSerializer, request.data)
        end_customer = end_customer_create(reseller=self.organization, data=data)
        return Response(s.EndCustomerSerializer(end_customer).data, status=status.HTTP_201_CREATED)


class EndCustomerDetailView(OrganizationMixin, APIView):
    permission_classes = [IsReseller]

    @extend_schema(
        operation_id="end_customers_retrieve",
        parameters=[id_parameter("end_customer_id", "An end-customer id.")],
        tags=["end-customers"],
        summary="One of your end-customers",
        responses={200: s.EndCustomerSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, end_customer_id: int):
        end_customer = get_object_or_404(EndCustomer, pk=end_customer_id, reseller=self.organization)
        return Response(s.EndCustomerSerializer(end_customer).data)


# Lookups -----------------------------------------------------------------------------------------------------


class DomainCheckView(MicrosoftRequiredMixin, OrganizationMixin, APIView):
    throttle_classes = [LookupRateThrottle]

    @extend_schema(
        operation_id="domains_retrieve",
        tags=["lookups"],
        summary="Is <prefix>.onmicrosoft.com available?",
        parameters=[
            OpenApiParameter(
                "prefix",
                {"type": "string", "pattern": s.DOMAIN_PREFIX_PATTERN, "minLength": 1, "maxLength": 27},
                OpenApiParameter.PATH,
                description="1 to 27 lowercase letters a-z and digits.",
            )
        ],
        responses={
            200: s.DomainCheckSerializer,
            **errors(
                *AUTHENTICATED, 429, 503, s400="`invalid`: the prefix breaks the rule (the message says it)."
            ),
        },
    )
    def get(self, request, prefix: str):
        _strict_domain_prefix(prefix)
        check = domains.domain_prefix_check(domain_prefix=prefix, for_reseller=self.organization.is_reseller)
        return Response(s.DomainCheckSerializer(check).data)


def _strict_domain_prefix(prefix: str) -> None:
    """The API takes the prefix exactly as its schema says; the service's message explains what is wrong."""
    if re.fullmatch(s.DOMAIN_PREFIX_PATTERN, prefix):
        return
    domains.normalize_domain_prefix(prefix)  # raises with the specific rule broken
    raise InvalidInput(
        f"{s.DOMAIN_PREFIX_RULE} Send it in lowercase, without .onmicrosoft.com.", field="domain_prefix"
    )


def _refuse_reseller_fields(organization, data: dict) -> None:
    """A direct customer orders for itself: an end-customer is refused, not ignored (an MPN ID is refused by the
    services, csp.trust.buyer_mpn_id)."""
    if not organization.is_reseller and data.get("end_customer") is not None:
        raise InvalidInput("Direct customers order for themselves: omit end_customer.", field="end_customer")


class MpnValidationView(MicrosoftRequiredMixin, OrganizationMixin, APIView):
    throttle_classes = [LookupRateThrottle]

    @extend_schema(
        operation_id="mpn_validations_create",
        tags=["lookups"],
        summary="Is this MPN ID in the distributor's network?",
        description="`valid` is false (200) for an MPN ID outside the network; the message says what to do.",
        request=s.MpnValidationInputSerializer,
        examples=[OpenApiExample("Fabrikam", request_only=True, value={"mpn_id": "1234567"})],
        responses={
            200: s.MpnValidationSerializer,
            **errors(*AUTHENTICATED, 429, 503, s400="`invalid`: not 1 to 12 digits."),
        },
    )
    def post(self, request):
        data = _valid(s.MpnValidationInputSerializer, request.data)
        check = trust.buyer_mpn_id_check(organization_id=self.organization.pk, mpn_id=data["mpn_id"])
        return Response(s.MpnValidationSerializer(check).data)


# Tenant authorizations ---------------------------------------------------------------------------------------


class AuthorizationCreateView(MicrosoftRequiredMixin, OrganizationMixin, APIView):
    # Created or refused ("no Microsoft tenant uses this domain") says whether a tenant uses the prefix: a lookup.
    throttle_classes = [LookupRateThrottle]

    @extend_schema(
        operation_id="authorizations_create",
        tags=["authorizations"],
        summary="Ask an existing tenant to accept you as its CSP",
        description=(
            "Creates (or reuses) a pending authorization and returns the link the customer's administrator opens. "
            "Resellers: `mpn_id` defaults to your organisation's MPN ID and must be in the distributor's network. "
            "Direct customers may not send `mpn_id` or `end_customer` (400)."
        ),
        request=s.AuthorizationInputSerializer,
        responses={
            201: s.AuthorizationSerializer,
            **errors(
                401,
                429,
                503,
                s400=(
                    "`invalid`, `mpn_not_in_network` (not in the distributor's network) or `no_tenant_for_domain` "
                    "(no Microsoft tenant uses the prefix)."
                ),
                s403="`forbidden` (not an organisation account) or `mpn_id_not_yours`.",
            ),
        },
    )
    def post(self, request):
        data = _valid(s.AuthorizationInputSerializer, request.data)
        organization = self.organization
        _refuse_reseller_fields(organization, data)
        end_customer_id = data.get("end_customer")
        if organization.is_reseller:
            if end_customer_id is not None:
                end_customer_id = checkout_services.end_customer_for(
                    organization=organization, end_customer_id=end_customer_id
                ).pk
        elif end_customer_id is not None:
            raise InvalidInput(
                "Direct customers order for themselves: omit end_customer.", field="end_customer"
            )
        authorization = authorizations.tenant_authorization_request(
            organization_id=organization.pk,
            user_id=request.user.pk,
            domain_prefix=data["domain_prefix"],
            mpn_id=data.get("mpn_id"),
            end_customer_id=end_customer_id,
        )
        return Response(s.AuthorizationSerializer(authorization).data, status=status.HTTP_201_CREATED)


class AuthorizationDetailView(OrganizationMixin, APIView):
    @extend_schema(
        operation_id="authorizations_retrieve",
        parameters=[id_parameter("authorization_id", "An authorization id.")],
        tags=["authorizations"],
        summary="One of your authorizations",
        responses={200: s.AuthorizationSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, authorization_id: int):
        authorization = csp_selectors.tenant_authorization_get(
            organization_id=self.organization.pk, authorization_id=authorization_id
        )
        return Response(s.AuthorizationSerializer(authorization).data)


class AuthorizationVerifyView(MicrosoftRequiredMixin, OrganizationMixin, APIView):
    # Any default domain is resolved at Microsoft: a lookup, whichever authorization it names.
    throttle_classes = [LookupRateThrottle]

    @extend_schema(
        operation_id="authorizations_verify",
        parameters=[id_parameter("authorization_id", "An authorization id.")],
        tags=["authorizations"],
        summary="Check with Microsoft that the customer accepted",
        description=(
            "200 whether verified or not: `status` says which, and when not yet `message` starts with "
            '"The authorization has not been completed yet" and says what to do.'
        ),
        request=s.VerifyInputSerializer,
        responses={
            200: s.VerificationSerializer,
            **errors(
                *AUTHENTICATED,
                404,
                429,
                503,
                s400=(
                    "`invalid`: a malformed domain, or an expired or cancelled request; `no_tenant_for_domain`: "
                    "no Microsoft tenant uses the authorization's domain."
                ),
            ),
        },
    )
    def post(self, request, authorization_id: int):
        authorization = csp_selectors.tenant_authorization_get(
            organization_id=self.organization.pk, authorization_id=authorization_id
        )
        data = _valid(s.VerifyInputSerializer, request.data)
        result = authorizations.tenant_authorization_verify(
            authorization_id=authorization.pk,
            default_domain=data.get("default_domain") or authorization.initial_domain,
            user_id=request.user.pk,
        )
        return Response(
            s.VerificationSerializer(result.authorization, context={"message": result.message}).data
        )


# GDAP --------------------------------------------------------------------------------------------------------

# A GET of an open request reads its status from Microsoft when it was last read longer ago than this; otherwise
# it answers the stored status, which the worker (and the approval webhook) keep following.


GDAP_POST_REMOVED = (
    "GDAP relationships made here are the distributor's, so only the distributor's staff request them. Request "
    "your own admin relationship in your own Partner Center (Customers > the customer > Admin relationships)."
)


class GdapRoleTemplateListView(OrganizationMixin, APIView):
    @extend_schema(
        operation_id="gdap_role_templates_list",
        tags=["gdap"],
        summary="The role templates the distributor uses for its admin access",
        description="Active templates only, the distributor's least-privilege default first.",
        responses={200: s.GdapRoleTemplateSerializer(many=True), **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        return Response(s.GdapRoleTemplateSerializer(gdap.gdap_role_templates(), many=True).data)


class GdapRequestListView(OrganizationMixin, APIView):
    def http_method_not_allowed(self, request, *args, **kwargs):
        """POST is gone (GDAP requests are the distributor's): 405 with the way to one's own GDAP."""
        if request.method == "POST":
            raise MethodNotAllowed("POST", detail=GDAP_POST_REMOVED)
        return super().http_method_not_allowed(request, *args, **kwargs)

    @extend_schema(
        operation_id="gdap_requests_list",
        tags=["gdap"],
        summary="The distributor's admin relationships (GDAP) with your customers' tenants (read-only)",
        description=(
            "Requested by the distributor's staff for a tenant your organisation holds; each is followed until its "
            "roles are given to the distributor's security group (`access_assignment_status` `active`). "
            f"POST answers `405 method_not_allowed`: {GDAP_POST_REMOVED}"
        ),
        responses={200: s.GdapRequestSerializer(many=True), **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        return Response(s.GdapRequestSerializer(gdap.gdap_requests_for(self.organization.pk), many=True).data)


class GdapRequestDetailView(OrganizationMixin, APIView):
    @extend_schema(
        operation_id="gdap_requests_retrieve",
        parameters=[id_parameter("gdap_request_id", "A GDAP request id.")],
        tags=["gdap"],
        summary="One of the distributor's admin relationships with your customers' tenants, followed to active",
        description=(
            "`requested` until it is created at Microsoft, `approvalPending` until the customer approves, then "
            "`approved`, `activating` and `active`; then `access_assignment_status` goes from `pending` to `active` "
            "once the roles are given to the distributor's security group. While either is open, a GET reads "
            "Microsoft when it was last read more than 10 seconds ago; the worker and Microsoft's approval webhook "
            "follow it too."
        ),
        responses={200: s.GdapRequestSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, gdap_request_id: int):
        gdap_request = gdap.gdap_request_get(self.organization.pk, gdap_request_id)
        gdap_request = gdap.gdap_request_refresh_if_stale(gdap_request)
        return Response(s.GdapRequestSerializer(gdap_request).data)


# Orders ------------------------------------------------------------------------------------------------------


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise IdempotencyKeyRequired(
            "Send an Idempotency-Key header (for example a UUID) so that a resent request makes one order.",
            field="Idempotency-Key",
        )
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not _PRINTABLE.match(key):
        raise InvalidInput(
            f"The Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.",
            field="Idempotency-Key",
        )
    return key


def _new_tenant_lookup_spend(request, organization, key: str) -> None:
    """A new tenant's prefix is checked with Microsoft (409 `domain_taken`): a lookup like the others, unless the
    key already placed its order (a resent request asks Microsoft nothing)."""
    if checkout_services.order_placed_with_key(organization=organization, idempotency_key=key):
        return
    if retry_after := lookup_budget_spend(request=request):
        raise Throttled(wait=retry_after)


class OrderCreateView(MicrosoftRequiredMixin, OrganizationMixin, APIView):
    def microsoft_required(self, request) -> bool:
        """A resend of an order already placed (its Idempotency-Key) asks Microsoft nothing: it gets its order
        even while ordering is paused, so the client never concludes it was not placed."""
        try:
            key = _idempotency_key(request)
        except StorefrontError:
            return True  # no usable key: `post` says what is wrong with it
        return not checkout_services.order_placed_with_key(
            organization=self.organization, idempotency_key=key
        )

    @extend_schema(
        operation_id="orders_create",
        tags=["orders"],
        summary="Place an order",
        description=(
            "Give exactly one of `domain_prefix` (a new tenant) or `authorization` (a verified existing tenant). "
            "The same `Idempotency-Key` with the same body answers the same order (200); with another body, 409. "
            "Resellers must send `end_customer`; direct customers may not send `end_customer` or `mpn_id` (400)."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {
                    "type": "string",
                    "pattern": IDEMPOTENCY_KEY_PATTERN,
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                },
                OpenApiParameter.HEADER,
                required=True,
                description=(
                    "A unique key per order you mean to place, e.g. a UUID: 1 to 100 printable ASCII characters "
                    "without spaces."
                ),
            )
        ],
        request=s.OrderInputSerializer,
        responses={
            201: s.OrderCreatedSerializer,
            200: OpenApiResponse(s.OrderCreatedSerializer, description="The order this key already placed."),
            **errors(
                *AUTHENTICATED,
                503,
                s429=(
                    "`throttled`: a new-tenant order checks its prefix with Microsoft, which spends the lookup "
                    "budget shared with `domains_retrieve`; retry after the `Retry-After` seconds."
                ),
                s400=(
                    "`invalid`, `idempotency_key_required`, `product_withdrawn` (a product that is no longer sold: "
                    "the message names it), `billing_address_required`, `mpn_not_in_network` or "
                    "`end_customer_mismatch`."
                ),
                s403="`forbidden` (not an organisation account) or `mpn_id_not_yours`.",
                s409=(
                    "`domain_taken`, `authorization_not_verified`, `idempotency_conflict` or "
                    "`tenant_held_by_another_organization`."
                ),
            ),
        },
    )
    def post(self, request):
        key = _idempotency_key(request)
        data = _valid(s.OrderInputSerializer, request.data)
        _refuse_reseller_fields(self.organization, data)
        if data.get("domain_prefix"):
            _new_tenant_lookup_spend(request, self.organization, key)
        agreement = data["customer_agreement"]
        order, created = checkout_services.order_submit(
            user=request.user,
            lines=data["lines"],
            end_customer_id=data.get("end_customer"),
            domain_prefix=data.get("domain_prefix"),
            authorization_id=data.get("authorization"),
            mpn_id=data.get("mpn_id"),
            agreement=checkout_services.AgreementAcceptance(
                accepted=agreement["accepted"],
                first_name=agreement["first_name"],
                last_name=agreement["last_name"],
                email=agreement["email"],
                phone=agreement["phone"],
            ),
            idempotency_key=key,
        )
        return Response(
            s.OrderCreatedSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": reverse("api:order", args=[order.pk])},
        )


class OrderDetailView(OrganizationMixin, APIView):
    @extend_schema(
        operation_id="orders_retrieve",
        parameters=[id_parameter("order_id", "An order id.")],
        tags=["orders"],
        summary="One of your organisation's orders, with its progress",
        responses={200: s.OrderSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, order_id: int):
        order = billing_selectors.order_get(organization_id=self.organization.pk, order_id=order_id)
        return Response(s.OrderSerializer(order).data)
