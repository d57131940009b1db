"""Admin's Microsoft Partner Center connection page: connect (authorization code with PKCE), health check,
webhook registration and Microsoft's test event. Views stay thin: csp.connect, csp.health and csp.webhooks decide."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from common.errors import StorefrontError
from csp import connect, health, webhooks
from csp.models import PartnerCenterConnection, WebhookDelivery
from csp.partner_center.exceptions import PartnerCenterError

FLOW_SESSION_KEY = "csp:partner-center-connect-flow"


@admin.register(PartnerCenterConnection)
class PartnerCenterConnectionAdmin(admin.ModelAdmin):
    """One page instead of a list: who connected and when, and the buttons that act on the connection."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("connect/", wrap(self.connect_view), name="csp_partnercenterconnection_connect"),
            path("callback/", wrap(self.callback_view), name="csp_partnercenterconnection_callback"),
            path("check/", wrap(self.check_view), name="csp_partnercenterconnection_check"),
            path("register-webhook/", wrap(self.register_view), name="csp_partnercenterconnection_register"),
            path("test-event/", wrap(self.test_event_view), name="csp_partnercenterconnection_test_event"),
            *super().get_urls(),
        ]

    def _require(self, request: HttpRequest) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied

    def _page(self) -> str:
        return reverse("admin:csp_partnercenterconnection_changelist")

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        self._require(request)
        return self._render(request)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None) -> HttpResponse:
        return redirect(self._page())

    def _render(self, request: HttpRequest, probes: list[health.Probe] | None = None) -> HttpResponse:
        connection = PartnerCenterConnection.objects.select_related("connected_by").filter(pk=1).first()
        context = {
            **self.admin_site.each_context(request),
            "title": "Microsoft Partner Center connection",
            "opts": self.model._meta,
            "connection": connection if connection and connection.connected_at else None,
            "connected": connect.partner_center_connected(),
            "mode": settings.PARTNER_CENTER_MODE,
            "refresh_token_from_environment": bool(settings.PARTNER_CENTER_REFRESH_TOKEN),
            "redirect_uri": self._redirect_uri(request),
            "webhook_url": health.webhook_receiver_url(),
            "probes": probes,
            "probes_failed": sum(not p.ok for p in probes or []),
            "test_deliveries": WebhookDelivery.objects.filter(event_name=webhooks.TEST_EVENT).order_by(
                "-received_at"
            )[:5],
        }
        return TemplateResponse(request, "admin/csp/partner_center_connection.html", context)

    @staticmethod
    def _redirect_uri(request: HttpRequest) -> str:
        """The address Microsoft sends the Admin agent back to; register it in the app registration."""
        return settings.STOREFRONT_BASE_URL.rstrip("/") + reverse(
            "admin:csp_partnercenterconnection_callback"
        )

    @staticmethod
    def _error(request: HttpRequest, error: Exception) -> None:
        text = error.message if isinstance(error, (StorefrontError, PartnerCenterError)) else str(error)
        messages.error(request, text)

    def connect_view(self, request: HttpRequest) -> HttpResponse:
        """POST: start the authorization-code flow and send the admin to Microsoft's sign-in."""
        self._require(request)
        if request.method != "POST":
            return redirect(self._page())
        try:
            flow = connect.connection_start(redirect_uri=self._redirect_uri(request))
        except StorefrontError as error:
            self._error(request, error)
            return redirect(self._page())
        request.session[FLOW_SESSION_KEY] = flow
        return HttpResponseRedirect(flow["auth_uri"])

    def callback_view(self, request: HttpRequest) -> HttpResponse:
        """Microsoft's redirect: redeem the code against the flow this admin started (state checked)."""
        self._require(request)
        flow = request.session.pop(FLOW_SESSION_KEY, None)
        if not flow:
            messages.error(request, "This sign-in was not started here (or was already used): connect again.")
            return redirect(self._page())
        try:
            connection = connect.connection_finish(
                flow=flow, response=request.GET.dict(), user_id=request.user.pk
            )
        except StorefrontError as error:
            self._error(request, error)
            return redirect(self._page())
        mfa = {True: "with MFA", False: "WITHOUT MFA", None: "MFA not reported"}[connection.mfa]
        messages.success(request, f"Connected to Microsoft Partner Center as {connection.account} ({mfa}).")
        return redirect(self._page())

    def check_view(self, request: HttpRequest) -> HttpResponse:
        """POST: run the read-only probes and show each result with what to fix."""
        self._require(request)
        if request.method != "POST":
            return redirect(self._page())
        return self._render(request, probes=health.health_check())

    def register_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request)
        if request.method == "POST":
            try:
                registered, events = webhooks.webhook_register(url=health.webhook_receiver_url())
            except PartnerCenterError as error:
                self._error(request, error)
            else:
                messages.success(request, f"Registered {registered} for {', '.join(events)}.")
        return redirect(self._page())

    def test_event_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request)
        if request.method == "POST":
            try:
                correlation_id = webhooks.webhook_test_send()
            except PartnerCenterError as error:
                messages.error(request, f"Microsoft did not send the test event: {error.message}")
            else:
                messages.success(
                    request,
                    f"Microsoft is sending a test-created event (correlation id {correlation_id}). Reload this "
                    "page to see it arrive below.",
                )
        return redirect(self._page())
