"""Input and output shapes of API v1; the rules themselves live in the services."""

from __future__ import annotations

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import Order, OrderLine
from csp.models import GdapRequest, GdapRoleTemplate, TenantAuthorization
from storefront.catalog.models import Product
from storefront.checkout.services import MAX_QUANTITY
from storefront.customers.forms import PROFILE_FIELDS
from storefront.customers.models import EndCustomer

MAX_ORDER_LINES = 50
MAX_ID = 2**63 - 1  # the largest id a database holds


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
    username = serializers.CharField(max_length=254, help_text="The user's email address.")
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


# Catalog -----------------------------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    catalog_item_id = serializers.CharField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "product_id",
            "sku_id",
            "availability_id",
            "catalog_item_id",
            "term_duration",
            "billing_cycle",
            "price",
            "currency",
        ]
        read_only_fields = fields


# End-customers -----------------------------------------------------------------------------------------------


class EndCustomerInputSerializer(serializers.Serializer):
    """The billing profile; whether the address is required is the admin's switch, applied by the service."""

    company_name = serializers.CharField(max_length=255)
    first_name = serializers.CharField(max_length=50)
    last_name = serializers.CharField(max_length=50)
    email = serializers.CharField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    state = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.CharField(
        max_length=2,
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
    mpn_id = serializers.CharField(max_length=40, allow_blank=True, help_text="Digits only, e.g. 1234567.")


class MpnValidationSerializer(serializers.Serializer):
    mpn_id = serializers.CharField()
    valid = serializers.BooleanField(
        help_text="An active indirect reseller of the distributor that signed the Microsoft Partner Agreement."
    )
    reseller_name = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


# Tenant authorizations ---------------------------------------------------------------------------------------


class AuthorizationInputSerializer(serializers.Serializer):
    domain_prefix = serializers.CharField(
        max_length=64, allow_blank=True, help_text="The tenant's `<prefix>`."
    )
    mpn_id = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Resellers: the partner of record; defaults to your organisation's MPN ID.",
    )
    end_customer = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Resellers: one of your end-customers.",
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
    default_domain = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="The customer's default domain (e.g. contoso.com); defaults to `<prefix>.onmicrosoft.com`.",
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


class GdapRequestInputSerializer(serializers.Serializer):
    """Microsoft's limits (duration, no auto-extend with Global Administrator) are the service's to apply."""

    customer_tenant_id = serializers.CharField(
        max_length=64,
        allow_blank=True,
        help_text="A tenant of one of your verified authorizations or completed orders.",
    )
    role_template = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A role template id from /api/v1/gdap-role-templates/."
    )
    duration_days = serializers.IntegerField(
        required=False, allow_null=True, help_text="1 to 730 days; defaults to 730."
    )
    auto_extend = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Extend by 180 days when it ends; not allowed when the roles include Global Administrator.",
    )


class GdapRequestSerializer(serializers.ModelSerializer):
    status = status_field(GdapRequest.Status, "gdap-request")
    relationship_id = BlankAsNullCharField(
        help_text="Microsoft's delegated admin relationship, once created."
    )
    approval_link = BlankAsNullCharField(
        help_text="Send it to a Global Administrator of the customer, who signs in and approves."
    )

    class Meta:
        model = GdapRequest
        fields = ["id", "status", "relationship_id", "approval_link", "customer_tenant_id", "expires_at"]
        read_only_fields = fields


# Orders ------------------------------------------------------------------------------------------------------


class OrderLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A product id from /api/v1/products/."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class AgreementInputSerializer(serializers.Serializer):
    """The customer contact who accepts the Microsoft Customer Agreement."""

    accepted = serializers.BooleanField()
    first_name = serializers.CharField(max_length=50)
    last_name = serializers.CharField(max_length=50)
    email = serializers.CharField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class OrderInputSerializer(serializers.Serializer):
    lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)
    end_customer = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Resellers: the end-customer ordered for.",
    )
    domain_prefix = serializers.CharField(
        max_length=64, required=False, allow_null=True, help_text="A new tenant `<prefix>.onmicrosoft.com`."
    )
    authorization = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="An existing tenant: a verified authorization.",
    )
    mpn_id = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Resellers: the partner of record; defaults to your organisation's MPN ID.",
    )
    customer_agreement = AgreementInputSerializer()

    def validate_lines(self, lines: list[dict]) -> dict[str, int]:
        """The cart as the service takes it; unknown or withdrawn products are refused, not dropped."""
        quantities: dict[str, int] = {}
        for line in lines:
            key = str(line["product"])
            quantities[key] = quantities.get(key, 0) + line["quantity"]
        active = {
            str(pk)
            for pk in Product.objects.filter(pk__in=quantities, is_active=True).values_list("pk", flat=True)
        }
        unknown = [key for key in quantities if key not in active]
        if unknown:
            raise serializers.ValidationError(f"Unknown or unavailable product: {', '.join(unknown)}.")
        if any(quantity > MAX_QUANTITY for quantity in quantities.values()):
            raise serializers.ValidationError(f"Order at most {MAX_QUANTITY} licences of a product.")
        return quantities

    def validate(self, attrs: dict) -> dict:
        new_tenant = attrs.get("domain_prefix") not in (None, "")
        existing_tenant = attrs.get("authorization") is not None
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
