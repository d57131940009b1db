"""Who may call what: organisation members order; only resellers have end-customers."""

from rest_framework.permissions import BasePermission


class IsOrganizationMember(BasePermission):
    """A reseller or direct-customer user; distributor staff without an organisation use admin instead."""

    message = "Only reseller and direct-customer accounts can use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "organization_id", None))


class IsReseller(IsOrganizationMember):
    message = "Only resellers have end-customers; direct customers order for themselves."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.organization.is_reseller
