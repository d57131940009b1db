"""Input and output shapes of API v1; the rules themselves live in the services."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import Order, OrderLine
from common.ids import GUID_PATTERN
from csp.models import GdapRequest, GdapRoleTemplate, TenantAuthorization
from storefront.catalog.models import Product
from storefront.catalog.pricing import monthly_equivalent
from storefront.checkout.services import MAX_QUANTITY
from storefront.customers.forms import PROFILE_FIELDS
from storefront.customers.models import EndCustomer

MAX_ORDER_LINES = 50
MAX_ID = 2**63 - 1  # the largest id a database holds

# The formats the API refuses to bend: the schema states each as a pattern, the server answers 400 for anything else.
DOMAIN_PREFIX_PATTERN = r"^[a-z0-9]{1,27}$"
DOMAIN_PREFIX_RULE = "Use 1 to 27 letters (a-z) and digits (0-9) only: no spaces, dots, hyphens or accents."
MPN_ID_PATTERN = r"^[0-9]{1,12}$"
MPN_ID_RULE = "The MPN ID must contain digits only (for example 1234567)."
DOMAIN_PATTERN = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
DOMAIN_RULE = "Enter a domain name such as contoso.com or contoso.onmicrosoft.com, without https:// or an email address."
TENANT_ID_PATTERN = f"^{GUID_PATTERN}$"
TENANT_ID_RULE = "A Microsoft tenant id is a GUID, such as 33333333-3333-4333-8333-000000000001."
NOT_BLANK_PATTERN = r"\S"  # unanchored: at least one character that is not a space


# Strict JSON types --------------------------------------------------------------------------------------------
# DRF turns 0 into "0", "5" into 5 and "yes" into true; the API refuses what its schema calls the wrong type.


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else; its length is checked as sent, before surrounding spaces are trimmed."""

    default_error_messages = {"invalid": "Send text (a JSON string)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, nothing else: "5", 5.0 and true are refused."""

    default_error_messages = {"invalid": "Send a whole number (a JSON integer)."}

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, nothing else: "true", 1 and "yes" are refused."""

    default_error_messages = {"invalid": "Send true or false (a JSON boolean)."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def text(max_length: int, **kwargs) -> StrictCharField:
    """Free text: not blank (unless `allow_blank`), at most `max_length` characters."""
    if not kwargs.get("allow_blank"):
        kwargs.setdefault("validators", []).append(
            RegexValidator(NOT_BLANK_PATTERN, "This field may not be blank.")
        )
    return StrictCharField(max_length=max_length, **kwargs)


def formatted(pattern: str, rule: str, max_length: int, **kwargs) -> StrictCharField:
    """An identifier with a fixed format, taken exactly as sent (no trimming, no case folding)."""
    return StrictCharField(
        max_length=max_length,
        trim_whitespace=False,
        validators=[RegexValidator(pattern, rule)],
        **kwargs,
    )


def domain_prefix_field(**kwargs) -> StrictCharField:
    return formatted(
        DOMAIN_PREFIX_PATTERN,
        DOMAIN_PREFIX_RULE,
        27,
        help_text="The tenant's `<prefix>` of `<prefix>.onmicrosoft.com`: 1 to 27 lowercase letters a-z and digits.",
        **kwargs,
    )


def mpn_id_field(**kwargs) -> StrictCharField:
    return formatted(MPN_ID_PATTERN, MPN_ID_RULE, 12, **kwargs)


class BlankAsNullCharField(serializers.CharField):
    """An identifier Microsoft has not given yet: `null` rather than an empty string."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return str(value) if value else None


def status_field(choices: type[models.TextChoices], component: str) -> serializers.CharField:
    """A read-only status with its values as an enum named after its component (`OrderStatusEnum`...).

    Several components carry a `status`; a distinct enum id per component keeps the schema's enum names stable
    and drf-spectacular free of naming-collision warnings.
    """

    @extend_schema_field(
        {"type": "string", "enum": list(choices.values), "x-spec-enum-id": f"{component}-status"}
    )
    class StatusField(serializers.CharField):
        pass

    return StatusField(read_only=True)


# Errors ------------------------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `domain_taken`.")
    message = serializers.CharField(help_text="What went wrong, in the buyer's terms.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted paths for nested fields); empty when none applies.",
    )


# Sign-in -----------------------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = text(254, help_text="The user's email address.")
    password = StrictCharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    name = StrictCharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="What the token is for, to recognise it in your token list (default: the date).",
    )
    expires_in_days = StrictIntegerField(
        min_value=1,
        max_value=365,
        required=False,
        help_text="Days until the token stops working (default: the storefront's, 90 unless configured).",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Token <token>`. Shown once: only its hash is kept."
    )
    id = serializers.CharField(source="public_id", help_text="The token's id, to revoke it.")
    name = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True, help_text="When the token stops working.")


class TokenListItemSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(help_text="Whether this request was made with this token.")

    def get_current(self, token) -> bool:
        return token.pk == getattr(self.context.get("current"), "pk", None)


# Catalog -----------------------------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    """An offer at the caller's own price: per licence for the whole term, excluding tax."""

    price = serializers.SerializerMethodField(help_text="The caller's price per licence for the whole term.")
    monthly_price = serializers.SerializerMethodField(
        help_text="The same price spread over the term's months (for comparison; not what is billed)."
    )
    retail_price = serializers.DecimalField(
        source="erp_price",
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="Microsoft's estimated retail price for the whole term.",
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "sku_title",
            "description",
            "product_id",
            "sku_id",
            "segment",
            "term_duration",
            "billing_cycle",
            "price",
            "monthly_price",
            "currency",
            "retail_price",
            "min_quantity",
            "max_quantity",
        ]
        read_only_fields = fields

    def _price(self, product: Product) -> Decimal:
        return self.context["pricing"].unit_price(product)

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_price(self, product: Product) -> str:
        return f"{self._price(product):.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_monthly_price(self, product: Product) -> str:
        return f"{monthly_equivalent(self._price(product), product):.2f}"


class ProductPageSerializer(serializers.Serializer):
    """One page of offers."""

    count = serializers.IntegerField(help_text="Offers matching the filters, on every page.")
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null on the first one.")
    results = ProductSerializer(many=True)


# End-customers -----------------------------------------------------------------------------------------------


class EndCustomerInputSerializer(serializers.Serializer):
    """The billing profile; whether the address is required is the admin's switch, applied by the service."""

    company_name = text(255, help_text="Microsoft's rules: at least 2 characters, not only an abbreviation.")
    first_name = text(50)
    last_name = text(50)
    email = text(254, help_text="An email address.")
    phone = text(
        32, required=False, allow_blank=True, default="", help_text="Digits, spaces and + ( ) . / -."
    )
    address_line1 = text(200, required=False, allow_blank=True, default="")
    address_line2 = text(200, required=False, allow_blank=True, default="")
    city = text(100, required=False, allow_blank=True, default="")
    state = text(
        100,
        required=False,
        allow_blank=True,
        default="",
        help_text="US and Canada: the two-letter code (WA, ON). Australia: the full name.",
    )
    postal_code = text(20, required=False, allow_blank=True, default="")
    country = serializers.ChoiceField(
        choices=[("", "")] + [(code, code) for code, _ in countries],
        required=False,
        allow_blank=True,
        default="",
        help_text="ISO 3166-1 alpha-2 code, e.g. US.",
    )


class EndCustomerSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", allow_blank=True, read_only=True)
    tenant_id = BlankAsNullCharField(help_text="The Microsoft tenant, once created or verified.")
    domain = BlankAsNullCharField(help_text="The Microsoft domain, once known.")

    class Meta:
        model = EndCustomer
        fields = ["id", *PROFILE_FIELDS, "tenant_id", "domain", "created_at"]
        read_only_fields = fields


# Lookups -----------------------------------------------------------------------------------------------------


class DomainCheckSerializer(serializers.Serializer):
    domain_prefix = serializers.CharField()
    domain = serializers.CharField(help_text="`<prefix>.onmicrosoft.com`")
    available = serializers.BooleanField()
    message = serializers.CharField()


class MpnValidationInputSerializer(serializers.Serializer):
    mpn_id = mpn_id_field(help_text="1 to 12 digits, e.g. 1234567.")


class MpnValidationSerializer(serializers.Serializer):
    mpn_id = serializers.CharField()
    valid = serializers.BooleanField(
        help_text="An active indirect reseller of the distributor that signed the Microsoft Partner Agreement."
    )
    reseller_name = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


# Tenant authorizations ---------------------------------------------------------------------------------------


class AuthorizationInputSerializer(serializers.Serializer):
    domain_prefix = domain_prefix_field()
    mpn_id = mpn_id_field(
        required=False,
        allow_blank=True,
        help_text=(
            "Resellers: the partner of record, one of your organisation's MPN IDs; omitted or empty, your "
            "organisation's MPN ID. Direct customers may not send it."
        ),
    )
    end_customer = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Resellers: one of your end-customers. Direct customers may not send it.",
    )


class AuthorizationSerializer(serializers.ModelSerializer):
    status = status_field(TenantAuthorization.Status, "authorization")
    customer_tenant_id = BlankAsNullCharField(help_text="The customer's tenant, once verified.")

    class Meta:
        model = TenantAuthorization
        fields = [
            "id",
            "kind",
            "status",
            "domain_prefix",
            "default_domain",
            "authorization_link",
            "customer_tenant_id",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields


class VerifyInputSerializer(serializers.Serializer):
    default_domain = formatted(
        DOMAIN_PATTERN,
        DOMAIN_RULE,
        253,
        required=False,
        allow_blank=True,
        help_text="The customer's default domain (e.g. contoso.com); omitted or empty, `<prefix>.onmicrosoft.com`.",
    )


class VerificationSerializer(AuthorizationSerializer):
    status = status_field(TenantAuthorization.Status, "verification")
    message = serializers.SerializerMethodField()

    class Meta(AuthorizationSerializer.Meta):
        fields = [*AuthorizationSerializer.Meta.fields, "message"]
        read_only_fields = fields

    def get_message(self, obj) -> str:
        return self.context["message"]


# GDAP --------------------------------------------------------------------------------------------------------


class GdapRoleSerializer(serializers.Serializer):
    name = serializers.CharField(
        read_only=True, default="", help_text="The Entra role, e.g. Directory Readers."
    )
    role_definition_id = serializers.CharField(
        read_only=True, default="", help_text="The Entra built-in role template id (a GUID)."
    )


class GdapRoleTemplateSerializer(serializers.ModelSerializer):
    roles = GdapRoleSerializer(many=True, read_only=True)

    class Meta:
        model = GdapRoleTemplate
        fields = ["id", "name", "roles"]
        read_only_fields = fields


class GdapRequestSerializer(serializers.ModelSerializer):
    status = status_field(GdapRequest.Status, "gdap-request")
    relationship_id = BlankAsNullCharField(
        help_text="Microsoft's delegated admin relationship, once created."
    )
    approval_link = BlankAsNullCharField(
        help_text="Where a Global Administrator of the customer signs in and approves."
    )
    roles = GdapRoleSerializer(many=True, read_only=True, help_text="The Entra roles of the relationship.")
    access_assignment_status = BlankAsNullCharField(
        help_text="`pending` then `active` once the roles are given to the distributor's security group (also "
        "`error`, `deleting`, `deleted`); null until the customer has approved. Until it is `active` nobody has "
        "the roles."
    )

    class Meta:
        model = GdapRequest
        fields = [
            "id",
            "status",
            "relationship_id",
            "approval_link",
            "customer_tenant_id",
            "roles",
            "access_assignment_status",
            "expires_at",
        ]
        read_only_fields = fields


# Orders ------------------------------------------------------------------------------------------------------


class OrderLineInputSerializer(serializers.Serializer):
    product = StrictIntegerField(
        min_value=1, max_value=MAX_ID, help_text="A product id from /api/v1/products/."
    )
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


@extend_schema_field({"type": "boolean", "enum": [True]})
class AcceptedField(StrictBooleanField):
    """Only `true` is an acceptance; `false` is refused with the agreement's own message."""

    def to_internal_value(self, data):
        if data is False:
            raise serializers.ValidationError(
                "The customer must accept the Microsoft Customer Agreement before the order is placed."
            )
        return super().to_internal_value(data)


class AgreementInputSerializer(serializers.Serializer):
    """The customer contact who accepts the Microsoft Customer Agreement."""

    accepted = AcceptedField(
        help_text="Must be true: the customer accepted the Microsoft Customer Agreement."
    )
    first_name = text(50)
    last_name = text(50)
    email = text(254, help_text="An email address.")
    phone = text(
        32, required=False, allow_blank=True, default="", help_text="Digits, spaces and + ( ) . / -."
    )


class OrderInputSerializer(serializers.Serializer):
    lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)
    end_customer = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Resellers (required): the end-customer ordered for. Direct customers may not send it.",
    )
    domain_prefix = domain_prefix_field(required=False)
    authorization = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="An existing tenant: the id of one of your verified authorizations.",
    )
    mpn_id = mpn_id_field(
        required=False,
        allow_blank=True,
        help_text=(
            "Resellers: the partner of record, one of your organisation's MPN IDs; omitted or empty, your "
            "organisation's MPN ID. Direct customers may not send it."
        ),
    )
    customer_agreement = AgreementInputSerializer()

    def validate_lines(self, lines: list[dict]) -> dict[str, int]:
        """The cart as the service takes it (which refuses, by name, products no longer sold)."""
        quantities: dict[str, int] = {}
        for line in lines:
            key = str(line["product"])
            quantities[key] = quantities.get(key, 0) + line["quantity"]
        if any(quantity > MAX_QUANTITY for quantity in quantities.values()):
            raise serializers.ValidationError(f"Order at most {MAX_QUANTITY} licences of a product.")
        return quantities

    def validate(self, attrs: dict) -> dict:
        new_tenant = "domain_prefix" in attrs
        existing_tenant = "authorization" in attrs
        if new_tenant == existing_tenant:
            raise serializers.ValidationError(
                {
                    "domain_prefix": [
                        "Give exactly one of domain_prefix (a new tenant) or authorization (an existing "
                        "tenant you have verified)."
                    ]
                }
            )
        return attrs


class OrderCreatedSerializer(serializers.ModelSerializer):
    status = status_field(Order.Status, "order-created")

    class Meta:
        model = Order
        fields = ["id", "number", "status"]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="product_id", read_only=True)
    subscription_id = BlankAsNullCharField(help_text="Microsoft's subscription, once provisioned.")

    class Meta:
        model = OrderLine
        fields = [
            "product",
            "product_name",
            "catalog_item_id",
            "term_duration",
            "billing_cycle",
            "quantity",
            "unit_price",
            "subscription_id",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    status = status_field(Order.Status, "order")
    lines = OrderLineSerializer(many=True, read_only=True)
    customer_tenant_id = BlankAsNullCharField(help_text="The customer's tenant, once known.")
    failure_reason = BlankAsNullCharField(help_text="Why the order failed, in the buyer's terms.")

    class Meta:
        model = Order
        fields = ["id", "number", "status", "lines", "customer_tenant_id", "failure_reason"]
        read_only_fields = fields
