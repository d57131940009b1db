"""Who buys: distributor staff, reseller organisations and direct-customer organisations, and their users."""

import secrets

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from knox.models import AbstractAuthToken, AuthTokenManager

from billing.models import BillingProfile


class Organization(BillingProfile):
    """A reseller (orders for its end-customers) or a direct customer (orders for itself)."""

    class Kind(models.TextChoices):
        RESELLER = "reseller", "Reseller"
        DIRECT = "direct", "Direct customer"

    kind = models.CharField(max_length=10, choices=Kind.choices, db_index=True)
    mpn_id = models.CharField(
        "MPN ID", max_length=20, blank=True, help_text="Resellers: Microsoft Partner ID."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_name"]

    def __str__(self) -> str:
        return self.company_name

    @property
    def name(self) -> str:
        return self.company_name

    @property
    def is_reseller(self) -> bool:
        return self.kind == self.Kind.RESELLER


class UserManager(BaseUserManager):
    """Users sign in with their email, so email is the identity."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person signing in with email; staff are the distributor, others belong to one organisation."""

    username = None
    email = models.EmailField("Email", unique=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        """A new password (changed, reset, or set by staff) also revokes the user's API tokens: whoever knew the
        old one may have made them. Other sessions already end with Django's session hash."""
        password_changed = self.pk is not None and self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self).delete()

    @property
    def is_reseller(self) -> bool:
        return self.organization_id is not None and self.organization.kind == Organization.Kind.RESELLER

    @property
    def is_direct_customer(self) -> bool:
        return self.organization_id is not None and self.organization.kind == Organization.Kind.DIRECT


def _public_id() -> str:
    return secrets.token_urlsafe(12)


class ApiTokenManager(AuthTokenManager):
    """Knox reads a token with its user; the user's organisation comes in the same query (every API view uses it)."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().select_related("user__organization")


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox): only a hash of the secret is stored; the secret is shown once, at creation."""

    objects = ApiTokenManager()

    public_id = models.CharField(max_length=32, unique=True, default=_public_id, editable=False)
    name = models.CharField(max_length=100, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name or 'API token'} ({self.user})"


class SentEmail(models.Model):
    """One email a user had the storefront send to an address they typed ("Email the link"): the record behind
    the daily limits, and what support reads when someone asks who sent them what."""

    class Kind(models.TextChoices):
        AUTHORIZATION_LINK = "authorization_link", "Authorization link"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    sent_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="sent_emails")
    organization = models.ForeignKey(Organization, null=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.EmailField(db_index=True)
    subject = models.CharField(max_length=255)
    authorization_id = models.BigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["sent_by", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"
