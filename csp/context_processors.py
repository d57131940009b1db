"""Admin pages learn whether live mode lacks its Partner Center connection (the red banner)."""

from django.http import HttpRequest

from csp.connect import partner_center_connected


def partner_center(request: HttpRequest) -> dict[str, bool]:
    """Only staff on admin pages pay for the check (one query, and none in sandbox mode)."""
    user = getattr(request, "user", None)
    if not request.path.startswith("/admin/") or not (user and user.is_staff):
        return {}
    return {"partner_center_disconnected": not partner_center_connected()}
