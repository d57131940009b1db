"""Sign-in and out, the account page, password change and reset by email, and the user's own API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from csp.selectors import distributor_name

from . import signin, tokens
from .forms import ApiTokenForm, EmailAuthenticationForm, EmailPasswordResetForm

RESET_THROTTLED_MESSAGE = (
    "Too many password reset requests. Please wait an hour and try again, or ask your administrator."
)


class SignInView(auth_views.LoginView):
    """Email and password sign-in; redirects only to this site; locked out by axes (storefront/accounts/signin.py)."""

    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's page: password and API tokens."""
    return render(request, "accounts/account.html")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (the old password first); other sessions of the user are signed out."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if _throttled_now(request, "password-change", keys=[_user_key]):
            return _throttled(request, self.get_form())
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        had_tokens = tokens.api_tokens_active(user=self.request.user).exists()
        response = super().form_valid(form)
        messages.success(
            self.request,
            "Your password was changed."
            + (
                " Your API tokens were revoked with the old password: create new ones for your integrations."
                if had_tokens
                else ""
            ),
        )
        return response


def _email_key(group: str, request: HttpRequest) -> str:
    return str(request.POST.get("email", "")).strip().lower()[:254]


def _address_key(group: str, request: HttpRequest) -> str:
    return signin.client_ip(request) or "-"


def _user_key(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


def _throttled_now(request: HttpRequest, group: str, *, keys: list) -> bool:
    """Counts this request under each key (address, email typed, user); True once one is over PASSWORD_RESET_RATE."""
    rate = settings.PASSWORD_RESET_RATE
    return any([is_ratelimited(request, group=group, key=key, rate=rate, increment=True) for key in keys])


def _throttled(request: HttpRequest, form) -> HttpResponse:
    form.add_error(None, RESET_THROTTLED_MESSAGE)
    template = "accounts/password_reset.html" if "email" in form.fields else "accounts/password_change.html"
    response = render(request, template, {"form": form}, status=429)
    response["Retry-After"] = "3600"
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email. Known and unknown emails get the same answer (no account enumeration), and
    requests are throttled per address and per email typed, whether or not an account has it."""

    template_name = "accounts/password_reset.html"
    form_class = EmailPasswordResetForm
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs) -> HttpResponse:
        if _throttled_now(request, "password-reset", keys=[_address_key, _email_key]):
            return _throttled(request, self.get_form())
        return super().post(request, *args, **kwargs)

    def get_extra_email_context(self) -> dict:
        return {"base_url": settings.STOREFRONT_BASE_URL.rstrip("/"), "distributor_name": distributor_name()}

    def form_valid(self, form):
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a new one's secret is shown on this answer only."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, secret = tokens.api_token_create(
            user=request.user, name=form.cleaned_data["name"], days=int(form.cleaned_data["days"])
        )
        created = {"token": token, "secret": secret}
        form = ApiTokenForm()
    response = render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "created": created, "tokens": tokens.api_tokens_active(user=request.user)},
    )
    if created:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache or the back button
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    if tokens.api_token_revoke(user=request.user, public_id=token_id):
        messages.success(request, "The token was revoked: it stops working at once.")
    else:
        messages.error(request, "No such token among yours; it may have expired or been revoked already.")
    return redirect("accounts:api_tokens")
