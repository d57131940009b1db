"""Shared by create_reseller, create_direct_customer and seed_demo: an organisation and its user, by email."""

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email
from django.db import transaction

from csp import trust
from storefront.accounts.models import Organization, User


@dataclass
class AccountResult:
    organization: Organization
    user: User
    created: bool


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise CommandError(f"{email or 'An empty value'} is not a valid email address.") from exc
    return email


def clean_mpn_id(mpn_id: str) -> str:
    mpn_id = (mpn_id or "").strip()
    if not mpn_id.isdigit() or len(mpn_id) > 20:
        raise CommandError(f"The MPN ID must be digits only, for example 1234567 (got {mpn_id!r}).")
    return mpn_id


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise CommandError("The organisation name must not be empty.")
    return name


def organization_user_upsert(
    *, kind: str, name: str, email: str, password: str, mpn_id: str = "", profile: dict | None = None
) -> AccountResult:
    """Create or update one organisation of `kind` and its user `email`; re-running changes nothing else.

    1. An existing user with this email must be a non-staff user of an organisation of the same kind.
    2. Its organisation gets the new name, MPN ID and profile; its password is set again.
    3. Otherwise a new reseller joins the reseller with the same MPN ID if there is exactly one,
       else a new organisation is created.
    """
    email = clean_email(email)
    name = clean_name(name)
    if kind == Organization.Kind.RESELLER:
        mpn_id = clean_mpn_id(mpn_id)
    label = Organization.Kind(kind).label.lower()
    with transaction.atomic():
        user = User.objects.select_related("organization").filter(email__iexact=email).first()
        if user is not None:
            if user.is_staff or user.is_superuser:
                raise CommandError(f"{email} belongs to a staff user; choose another email for a {label}.")
            if user.organization is None:
                raise CommandError(f"{email} belongs to a user without an organisation; fix it in admin.")
            if user.organization.kind != kind:
                raise CommandError(
                    f"{email} belongs to {user.organization.company_name}, a "
                    f"{user.organization.get_kind_display().lower()}, not a {label}."
                )
            organization = user.organization
            created = False
        else:
            organization = None
            if kind == Organization.Kind.RESELLER:
                same_mpn = list(Organization.objects.filter(kind=kind, mpn_id=mpn_id)[:2])
                organization = same_mpn[0] if len(same_mpn) == 1 else None
            if organization is None:
                organization = Organization(kind=kind)
            user = User(email=email, organization=organization)
            created = True

        organization.company_name = name
        organization.mpn_id = mpn_id if kind == Organization.Kind.RESELLER else ""
        for field, value in (profile or {}).items():
            setattr(organization, field, value)
        if not organization.email:
            organization.email = email
        organization.full_clean()
        organization.save()
        if kind == Organization.Kind.RESELLER and not trust.mpn_id_is_owned(
            organization_id=organization.pk, mpn_id=mpn_id
        ):
            raise CommandError(
                f"MPN ID {mpn_id} already belongs to another organisation; ask its staff owner."
            )

        user.organization = organization
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("The password is too weak: " + " ".join(exc.messages)) from exc
        if not user.has_usable_password() or not user.check_password(password):
            user.set_password(password)  # only a new password (it revokes the user's API tokens)
        user.is_active = True
        user.save()
    return AccountResult(organization=organization, user=user, created=created)
