"""Every web request's calls to Microsoft together get a time limit below the web server's own."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from csp.partner_center.deadline import answer_within


class PartnerCenterAnswersWithin:
    """A slow Microsoft gives the buyer "please try again, nothing is lost" within PARTNER_CENTER_PAGE_SECONDS,
    instead of a page held for minutes or a web worker killed mid-request (gunicorn's limit is 30 s). Celery's
    work has no such limit: its schedule is its retry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with answer_within(settings.PARTNER_CENTER_PAGE_SECONDS):
            return self.get_response(request)
