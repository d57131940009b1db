"""Microsoft CSP state: tenant authorizations, the distributor's reseller network, GDAP and support records."""

from django.conf import settings
from django.db import models

from common.singleton import SingletonModel


class CloudServicesSettings(SingletonModel):
    """MS Cloud Services settings (one row). No authorization link: it is generated at checkout."""

    class Environment(models.TextChoices):
        GLOBAL = "global", "Global (api.partnercenter.microsoft.com)"
        CHINA = "china", "Operated by 21Vianet (China)"

    distributor_name = models.CharField("Distributor organisation name", max_length=200)
    environment = models.CharField(
        "Partner Center environment", max_length=10, choices=Environment.choices, default=Environment.GLOBAL
    )
    distributor_tenant_id = models.CharField("Distributor tenant id", max_length=36)
    distributor_mpn_id = models.CharField("Distributor MPN ID", max_length=20)
    polling_interval_minutes = models.PositiveIntegerField(
        "Polling interval (minutes)", default=5, help_text="How often pending authorizations are checked."
    )
    authorization_expiry_days = models.PositiveIntegerField(
        "Authorization expiry (days)",
        default=30,
        help_text="Pending authorizations expire after this many days.",
    )
    network_refresh_minutes = models.PositiveIntegerField(
        "Reseller network refresh (minutes)",
        default=60,
        help_text="How often the indirect reseller list is read.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "MS Cloud Services settings"
        verbose_name_plural = "MS Cloud Services settings"

    def __str__(self) -> str:
        return "MS Cloud Services settings"

    @classmethod
    def load_defaults(cls) -> dict[str, str]:
        return {
            "distributor_name": settings.DISTRIBUTOR_NAME,
            "distributor_tenant_id": settings.PARTNER_CENTER_TENANT_ID,
            "distributor_mpn_id": settings.DISTRIBUTOR_MPN_ID,
        }


class TenantAuthorization(models.Model):
    """A request that an existing Microsoft tenant accept the distributor (and a reseller) as its CSP."""

    class Kind(models.TextChoices):
        INDIRECT_RESELLER = "indirect_reseller", "Indirect reseller"
        DIRECT = "direct", "Direct"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class OwnershipProof(models.TextChoices):
        TENANT_ADMIN_SIGN_IN = "tenant_admin_sign_in", "The tenant's administrator signed in with Microsoft"
        STAFF_DECISION = "staff_decision", "A distributor admin decided"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="tenant_authorizations"
    )
    end_customer = models.ForeignKey(
        "customers.EndCustomer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tenant_authorizations",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    domain_prefix = models.CharField(max_length=27)
    default_domain = models.CharField(max_length=255, blank=True)
    authorization_link = models.URLField(max_length=1000)
    reseller_mpn_id = models.CharField(max_length=20, blank=True)
    reseller_tenant_id = models.CharField(max_length=36, blank=True)
    expected_tenant_id = models.CharField(
        max_length=36,
        blank=True,
        help_text="The tenant that owns the initial domain, when Microsoft knew it.",
    )
    customer_tenant_id = models.CharField(max_length=36, blank=True, db_index=True)
    tenant_was_customer = models.BooleanField(
        null=True,
        help_text="Whether the tenant already was the distributor's customer when this authorization was made, or "
        "has become a reseller's since: then the direct link's acceptance proves nothing about who asked.",
    )
    ownership_proof = models.CharField(
        max_length=30,
        choices=OwnershipProof.choices,
        blank=True,
        help_text="How the organisation proved the tenant is its own, beyond Microsoft's relationship record.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    check_attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_check_at"])]

    def __str__(self) -> str:
        return f"{self.domain_prefix}.onmicrosoft.com ({self.get_status_display()})"

    @property
    def initial_domain(self) -> str:
        return f"{self.domain_prefix}.onmicrosoft.com"

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def needs_ownership_proof(self) -> bool:
        """A direct link accepted by a tenant that already was the distributor's customer proves nothing."""
        return (
            self.status == self.Status.PENDING
            and self.kind == self.Kind.DIRECT
            and self.tenant_was_customer is not False
            and not self.ownership_proof
        )


class AuthorizationTransition(models.Model):
    """One status change of a tenant authorization, with who caused it and what Microsoft answered."""

    class Actor(models.TextChoices):
        USER = "user", "User"
        WORKER = "worker", "Worker"
        WEBHOOK = "webhook", "Webhook"
        ADMIN = "admin", "Admin"

    authorization = models.ForeignKey(
        TenantAuthorization, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    actor = models.CharField(max_length=10, choices=Actor.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    microsoft_answer = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class ResellerMpnId(models.Model):
    """One of a reseller organisation's MPN IDs (partner location ids): its orders may name only these."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="reseller_mpn_ids"
    )
    mpn_id = models.CharField("MPN ID", max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mpn_id"]
        verbose_name = "MPN ID"

    def __str__(self) -> str:
        return self.mpn_id


class TenantHolding(models.Model):
    """An organisation holds a Microsoft tenant: proved through Microsoft, by a new-tenant order, or by staff."""

    class Source(models.TextChoices):
        AUTHORIZATION = "authorization", "Verified authorization"
        NEW_TENANT_ORDER = "new_tenant_order", "Tenant created by its order"
        STAFF_DECISION = "staff_decision", "Distributor admin's decision"

    tenant_id = models.CharField("Microsoft tenant id", max_length=36, db_index=True)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="tenant_holdings"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    authorization = models.ForeignKey(
        TenantAuthorization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant_id", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "organization"], name="one_holding_per_tenant_and_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} held by {self.organization}"


class IndirectReseller(models.Model):
    """The distributor's network as Partner Center last reported it, so the MPN check needs no live call."""

    tenant_id = models.CharField(max_length=36, unique=True)
    name = models.CharField(max_length=255)
    mpn_id = models.CharField(max_length=20, db_index=True)
    state = models.CharField(max_length=20)
    location = models.CharField(max_length=10, blank=True)
    agreement_signed = models.BooleanField(null=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.mpn_id})"

    @property
    def in_network(self) -> bool:
        return self.state.lower() == "active" and bool(self.agreement_signed)


class PartnerCenterCall(models.Model):
    """A call that changed something at Microsoft, kept for support."""

    operation = models.CharField(max_length=60)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_id = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    status = models.PositiveIntegerField(null=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_description = models.TextField(blank=True)
    ids = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class TokenCache(models.Model):
    """The serialized MSAL token cache, so the rolling refresh token survives restarts (encrypted at rest)."""

    name = models.CharField(max_length=40, unique=True)
    data = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class PartnerCenterConnection(SingletonModel):
    """Who connected Partner Center (App+User) from admin, and how the connection is doing."""

    account = models.CharField("Microsoft account", max_length=254, blank=True)
    account_name = models.CharField(max_length=200, blank=True)
    mfa = models.BooleanField("Signed in with MFA", null=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last time Microsoft rolled the refresh token (it ages out after 90 days).",
    )
    broken_at = models.DateTimeField(null=True, blank=True)
    broken_reason = models.TextField(blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Microsoft Partner Center connection"
        verbose_name_plural = "Microsoft Partner Center connection"

    def __str__(self) -> str:
        return "Microsoft Partner Center connection"


# GDAP and webhooks ----------------------------------------------------------------------------------------------


class GdapRoleTemplate(models.Model):
    """A set of Entra roles the distributor grants to one of its own security groups through GDAP."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    roles = models.JSONField(
        default=list,
        help_text='A list of {"name": "Directory Readers", "role_definition_id": "88d8e3e3-..."} '
        "(Entra built-in role template ids).",
    )
    security_group_id = models.CharField(
        "security group id",
        max_length=36,
        blank=True,
        help_text="Object id of the distributor's Entra security group whose members get these roles once the "
        "customer approves (Microsoft Entra admin center > Groups). Without it nobody gets any role.",
    )
    security_group_name = models.CharField(
        max_length=120, blank=True, help_text="For staff: the group's name."
    )
    is_default = models.BooleanField(default=False, help_text="Preselected when staff request access.")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = "GDAP role template"

    def __str__(self) -> str:
        return self.name

    @property
    def role_definition_ids(self) -> list[str]:
        return [str(role.get("role_definition_id", "")).lower() for role in self.roles or []]


class GdapRequest(models.Model):
    """The distributor's delegated admin relationship with one customer tenant, requested by staff for the
    organisation that holds the tenant, followed until its access assignment is active."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CREATED = "created", "Created"
        APPROVAL_PENDING = "approvalPending", "Waiting for the customer's approval"
        APPROVED = "approved", "Approved"
        ACTIVATING = "activating", "Activating"
        ACTIVE = "active", "Active"
        EXPIRING = "expiring", "Expiring"
        EXPIRED = "expired", "Expired"
        TERMINATION_REQUESTED = "terminationRequested", "Termination requested"
        TERMINATING = "terminating", "Terminating"
        TERMINATED = "terminated", "Terminated"
        FAILED = "failed", "Failed"

    class AssignmentStatus(models.TextChoices):
        NONE = "", "Not created yet"
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        DELETING = "deleting", "Deleting"
        DELETED = "deleted", "Deleted"
        ERROR = "error", "Error"

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="gdap_requests",
        help_text="The organisation that holds the customer tenant (a reseller, or the direct customer itself).",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    customer_tenant_id = models.CharField(max_length=36, db_index=True)
    customer_name = models.CharField(max_length=255)
    role_template = models.ForeignKey(GdapRoleTemplate, on_delete=models.PROTECT, related_name="requests")
    roles = models.JSONField(default=list, help_text="The roles requested, as the template had them.")
    security_group_id = models.CharField(
        max_length=36,
        blank=True,
        help_text="The distributor's security group the roles go to, from the template.",
    )
    reason = models.CharField(max_length=500, blank=True, help_text="Why the distributor needs access.")
    display_name = models.CharField(max_length=50, unique=True)
    duration_days = models.PositiveIntegerField(default=730)
    auto_extend = models.BooleanField(default=False)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.REQUESTED)
    relationship_id = models.CharField(max_length=80, blank=True, db_index=True)
    approval_link = models.URLField(max_length=1000, blank=True)
    etag = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, unique=True)
    create_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set before the create is sent, so a retry looks the relationship up first.",
    )
    access_assignment_id = models.CharField(max_length=80, blank=True)
    access_assignment_status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, blank=True, default=AssignmentStatus.NONE
    )
    access_assignment_sent_at = models.DateTimeField(null=True, blank=True)
    roles_active_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the access assignment became active: the group's members have the roles.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="The approval deadline, then the end of the relationship."
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    check_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "GDAP request"
        constraints = [
            models.UniqueConstraint(
                fields=["customer_tenant_id", "role_template"],
                condition=models.Q(
                    status__in=["requested", "created", "approvalPending", "approved", "activating"]
                ),
                name="one_open_gdap_request_per_tenant_and_template",
                violation_error_message="An admin relationship with these roles is already open for this tenant.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in GDAP_OPEN_STATUSES

    @property
    def assignment_is_open(self) -> bool:
        """Active at Microsoft but the roles are not in effect yet: the assignment is to create or to follow."""
        return self.status == self.Status.ACTIVE and self.access_assignment_status in ("", "pending")


GDAP_OPEN_STATUSES = (
    GdapRequest.Status.REQUESTED,
    GdapRequest.Status.CREATED,
    GdapRequest.Status.APPROVAL_PENDING,
    GdapRequest.Status.APPROVED,
    GdapRequest.Status.ACTIVATING,
)


class WebhookDelivery(models.Model):
    """One delivery Partner Center (or someone pretending) sent us, kept whether or not it was trusted."""

    class Status(models.TextChoices):
        REJECTED = "rejected", "Rejected (signature)"
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_name = models.CharField(max_length=100, blank=True, db_index=True)
    resource_uri = models.CharField(max_length=1000, blank=True)
    resource_name = models.CharField(max_length=200, blank=True)
    signature_valid = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    result = models.TextField(blank=True)
    body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_name or 'unknown event'} at {self.received_at:%Y-%m-%d %H:%M:%S}"
