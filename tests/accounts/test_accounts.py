"""Users sign in with their email and belong to one organisation; the worker answers its health check."""

import pytest
from django.contrib.auth import authenticate

from storefront.accounts.models import User
from storefront.accounts.tasks import ping
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_users_are_created_and_found_by_their_lowercased_email(rf):
    user = User.objects.create_user("Megan.Bowen@Contoso.COM", "a-long-Passphrase-42")

    assert user.email == "megan.bowen@contoso.com"
    assert str(user) == "megan.bowen@contoso.com"
    # Every sign-in door passes its request: the lockout (axes) counts per email and client address.
    sign_in = rf.post("/accounts/login/", REMOTE_ADDR="10.0.0.1")
    assert authenticate(sign_in, username="megan.bowen@contoso.com", password="a-long-Passphrase-42") == user
    assert authenticate(sign_in, username="megan.bowen@contoso.com", password="wrong") is None


def test_a_user_needs_an_email():
    with pytest.raises(ValueError, match="email address is required"):
        User.objects.create_user("", "a-long-Passphrase-42")


def test_superusers_are_staff_without_an_organisation():
    admin = User.objects.create_superuser("admin@northwind.example", "a-long-Passphrase-42")

    assert admin.is_staff and admin.is_superuser and admin.organization is None
    assert not admin.is_reseller and not admin.is_direct_customer


def test_personas_belong_to_the_organisations_their_names_promise(
    owner, teammate, outsider, direct_user, staff_user, rf
):
    assert owner.organization == teammate.organization
    assert owner.organization != outsider.organization
    assert owner.is_reseller and teammate.is_reseller and outsider.is_reseller
    assert owner.organization.mpn_id == "1234567"
    assert direct_user.is_direct_customer and not direct_user.is_reseller
    assert staff_user.is_staff and staff_user.organization is None
    assert authenticate(rf.post("/accounts/login/"), username=owner.email, password=PASSWORD) == owner


def test_factory_users_have_distinct_emails_and_usable_passwords():
    users = UserFactory.create_batch(3)

    assert len({user.email for user in users}) == 3
    assert all(user.check_password(PASSWORD) for user in users)


def test_settings_fixtures_give_the_single_rows(storefront_config, cloud_settings):
    assert storefront_config.pk == 1 and storefront_config.sub_customers_billing_address is False
    assert cloud_settings.pk == 1 and cloud_settings.authorization_expiry_days == 30


def test_worker_health_check_answers_pong():
    assert ping.apply().get() == "pong"
