from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from . import throttling
from .forms import EmailAuthenticationForm


class SignInView(auth_views.LoginView):
    """Email and password sign-in; redirects only to this site; throttled per email and per address."""

    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs) -> HttpResponse:
        email = str(request.POST.get("username", ""))[:254]
        ip = throttling.client_ip(request)
        if throttling.login_locked(email=email, ip=ip):
            return self._refuse()
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            throttling.login_succeeded(email=email)
        elif throttling.login_failed(email=email, ip=ip):
            return self._refuse()
        return response

    def _refuse(self) -> HttpResponse:
        """The form again, with what was typed as email and the lockout message; nothing is checked."""
        form = self.get_form_class()(
            self.request, initial={"username": self.request.POST.get("username", "")}
        )
        form.cleaned_data = {}
        form.add_error(None, throttling.LOCKED_MESSAGE)
        return self.render_to_response(self.get_context_data(form=form), status=429)


class SignOutView(auth_views.LogoutView):
    pass
