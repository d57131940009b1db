from django.http import HttpRequest


def storefront(request: HttpRequest) -> dict:
    """Names every page shows: the distributor's, and what kind of buyer is signed in."""
    from csp.selectors import distributor_name

    user = getattr(request, "user", None)
    return {
        "distributor_name": distributor_name(),
        "is_reseller": bool(user and user.is_authenticated and user.is_reseller),
    }
