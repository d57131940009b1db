"""Password change and reset by email (throttled, no account enumeration) and the account's API tokens page."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from storefront.accounts.models import ApiToken
from storefront.accounts.tokens import api_token_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-Much-longer-passphrase-42"


def _reset(client, email):
    return client.post(reverse("accounts:password_reset"), {"email": email})


def test_password_change_needs_the_old_password_and_keeps_this_session(owner):
    client = Client()
    client.force_login(owner)
    url = reverse("accounts:password_change")
    wrong = client.post(
        url, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert wrong.status_code == 200 and "old password was entered incorrectly" in wrong.content.decode()
    done = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert client.get(reverse("accounts:account")).status_code == 200  # still signed in here
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_password_change_is_for_signed_in_users_only(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_password_reset_emails_a_link_that_sets_a_new_password(owner, settings):
    settings.STOREFRONT_BASE_URL = "https://shop.example.com"
    client = Client()
    response = _reset(client, "Owner@Fabrikam.example")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    link = re.search(r"https://shop\.example\.com(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(
        1
    )
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    again = client.get(link, follow=True)
    assert "no longer valid" in again.content.decode()  # a link works once


def test_password_reset_answers_the_same_for_known_and_unknown_emails(owner):
    known = _reset(Client(REMOTE_ADDR="10.1.0.1"), owner.email)
    unknown = _reset(Client(REMOTE_ADDR="10.1.0.2"), "nobody@fabrikam.example")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    page = Client().get(known["Location"]).content.decode()
    assert "If an account uses that email" in page


def test_password_reset_is_throttled_per_address_and_per_email_whatever_the_account(owner, teammate):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for n in range(5):
        assert _reset(client, f"someone{n}@example.com").status_code == 302
    refused = _reset(client, owner.email)
    assert refused.status_code == 429 and "wait an hour" in refused.content.decode()
    assert refused["Retry-After"] == "3600"
    assert not mail.outbox
    # One email from many addresses: the same ceiling, known or unknown account alike.
    for email in (teammate.email, "nobody@fabrikam.example"):
        answers = [_reset(Client(REMOTE_ADDR=f"10.1.2.{n}"), email).status_code for n in range(6)]
        assert answers == [302] * 5 + [429]
    assert len(mail.outbox) == 5


def test_the_reset_email_names_no_one_but_the_account(owner):
    _reset(Client(), owner.email)
    body = mail.outbox[0].body
    assert owner.email in body and "Fabrikam" not in mail.outbox[0].subject


def test_the_tokens_page_shows_a_new_secret_once(owner):
    client = Client()
    client.force_login(owner)
    url = reverse("accounts:api_tokens")
    created = client.post(url, {"name": "ERP sync", "days": "30"})
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=owner)
    secret = re.search(r'id="new-token-value" value="([0-9a-f]+)"', created.content.decode()).group(1)
    assert token.token_key == secret[:15]
    listed = client.get(url).content.decode()
    assert "ERP sync" in listed and secret not in listed


def test_the_tokens_page_revokes_only_the_users_own_tokens(owner, outsider):
    mine, _ = api_token_create(user=owner, name="mine")
    theirs, _ = api_token_create(user=outsider, name="theirs")
    client = Client()
    client.force_login(owner)
    assert "theirs" not in client.get(reverse("accounts:api_tokens")).content.decode()
    client.post(reverse("accounts:api_token_revoke", args=[theirs.public_id]))
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    client.post(reverse("accounts:api_token_revoke", args=[mine.public_id]))
    assert not ApiToken.objects.filter(pk=mine.pk).exists()


def test_admin_never_shows_a_tokens_secret_nor_makes_one(owner, staff_user):
    token, secret = api_token_create(user=owner, name="ERP sync")
    client = Client()
    client.force_login(staff_user)
    pages = [
        client.get(reverse("admin:accounts_apitoken_changelist")),
        client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        assert "ERP sync" in body and secret not in body and secret[:15] not in body
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert not ApiToken.objects.exists()
