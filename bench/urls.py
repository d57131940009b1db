from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """The floor: the same middleware and the same signed-in session and user, and no work of our own."""
    return HttpResponse(f"ok {request.user.is_authenticated}", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("", include("storefront.urls")),
]
