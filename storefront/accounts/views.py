from django.contrib.auth import views as auth_views

from .forms import EmailAuthenticationForm


class SignInView(auth_views.LoginView):
    """Email and password sign-in; redirects only to this site; locked out by axes (storefront/accounts/signin.py)."""

    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass
