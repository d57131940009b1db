from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from csp.selectors import distributor_name

URL_NAMES = {
    "catalog": "catalog",
    "cart": "checkout:cart",
    "orders": "orders:list",
    "dashboard": "dashboard:home",
    "gdap": "gdap:list",
    "admin": "admin:index",
    "logout": "accounts:logout",
    "login": "accounts:login",
    "account": "accounts:account",
    "customer": "checkout:customer",
    "service_details": "checkout:service_details",
    "review": "checkout:review",
    "service_details_check": "checkout:service_details_check",
}
ASSETS = {"css": "css/storefront.css", "htmx": "js/htmx.min.js", "js": "js/storefront.js"}


class _Assets(dict):
    """The static files every page links (`{{ assets.css }}`), their hashed URLs looked up once per process."""

    def __missing__(self, name: str) -> str:
        from django.templatetags.static import static

        url = static(ASSETS[name])
        self[name] = url
        return url


_assets = _Assets()


class _Urls(dict):
    """Fixed pages (`{{ urls.cart }}`, the wizard steps), reversed on first use and then kept: no reversal per page."""

    def __missing__(self, name: str) -> str:
        if name not in URL_NAMES:
            raise KeyError(name)
        url = reverse(URL_NAMES[name])
        self[name] = url
        return url


_urls_by_conf: dict[tuple[str, str], _Urls] = {}


def urls() -> _Urls:
    """The reversed URLs for the current script prefix and URLconf (they are fixed for a running process)."""
    key = (get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF))
    found = _urls_by_conf.get(key)
    if found is None:
        found = _urls_by_conf.setdefault(key, _Urls())
    return found


def storefront(request: HttpRequest) -> dict:
    """Names every page shows: the distributor's, and what kind of buyer is signed in; `urls` for the header."""
    user = getattr(request, "user", None)
    return {
        "distributor_name": distributor_name(),
        "is_reseller": bool(user and user.is_authenticated and user.is_reseller),
        "urls": urls(),
        "assets": _assets,
    }
