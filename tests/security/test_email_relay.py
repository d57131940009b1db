""" "Email the link" cannot be turned into a relay: daily limits per user and per recipient, every send recorded,
the storefront's own domains refused, and organisation names quoted so they never read as the storefront's words."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from common.text import quoted
from storefront.accounts.models import SentEmail
from tests.factories import TenantAuthorizationFactory
from tests.test_settings import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorization(owner):
    return TenantAuthorizationFactory(
        organization=owner.organization, domain_prefix="contoso", requested_by=owner
    )


def _email_link(user, authorization, to):
    client = Client()
    client.force_login(user)
    url = reverse("checkout:authorization_email", args=[authorization.pk])
    return client.post(url, {"admin_email": to}, HTTP_HX_REQUEST="true").content.decode()


def test_a_user_may_email_the_link_only_so_often_a_day(owner, authorization, settings):
    settings.STOREFRONT_EMAIL_LINKS_PER_USER_PER_DAY = 3
    with freeze_time() as clock:
        for n in range(3):
            assert "We emailed the authorization link" in _email_link(
                owner, authorization, f"a{n}@contoso.com"
            )
        page = _email_link(owner, authorization, "a3@contoso.com")
        assert "as often as we allow in a day" in page and "Copy the link" in page
        assert len(mail.outbox) == 3 and SentEmail.objects.count() == 3
        clock.tick(timedelta(days=1, seconds=1))
        assert "We emailed" in _email_link(owner, authorization, "a3@contoso.com")
    assert len(mail.outbox) == 4


def test_one_recipient_gets_the_link_only_so_often_a_day_whoever_sends_it(owner, teammate, authorization):
    senders = [owner, teammate, owner]
    for sender in senders:
        assert "We emailed" in _email_link(sender, authorization, "Victim@Example.org")
    page = _email_link(teammate, authorization, "victim@example.org")
    assert "victim@example.org has received the authorization link as often as we allow" in page
    assert len(mail.outbox) == 3


def test_the_dashboards_resend_shares_the_limits(owner, authorization, settings):
    settings.STOREFRONT_EMAIL_LINKS_PER_USER_PER_DAY = 1
    _email_link(owner, authorization, "admin@contoso.com")
    client = Client()
    client.force_login(owner)
    response = client.post(
        reverse("dashboard:resend", args=[authorization.pk]), {"admin_email": "it@contoso.com"}, follow=True
    )
    assert "as often as we allow in a day" in response.content.decode()
    assert len(mail.outbox) == 1


def test_addresses_on_the_storefronts_own_domains_are_refused(owner, authorization, settings):
    settings.STOREFRONT_EMAIL_REFUSED_DOMAINS = ["northwind.example"]
    for address in ("support@northwind.example", "x@Mail.Northwind.Example"):
        page = _email_link(owner, authorization, address)
        assert "not to an address of ours" in page
    assert not mail.outbox and not SentEmail.objects.exists()
    assert "We emailed" in _email_link(owner, authorization, "admin@notnorthwind.example")


def test_the_refused_domains_come_from_the_environment(tmp_path):
    code = "from storefront import settings as s; print(s.STOREFRONT_EMAIL_REFUSED_DOMAINS)"
    result = run(
        [sys.executable, "-c", code],
        tmp_path,
        STOREFRONT_EMAIL_REFUSED_DOMAINS=" Northwind.example, @shop.example.com ,",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['northwind.example', 'shop.example.com']"
    assert isinstance(result, subprocess.CompletedProcess)


def test_each_send_is_recorded_and_listed_in_admin(owner, authorization, staff_user):
    _email_link(owner, authorization, "Admin@Contoso.com")
    record = SentEmail.objects.get()
    assert (record.sent_by, record.organization, record.recipient) == (
        owner,
        owner.organization,
        "admin@contoso.com",
    )
    assert record.authorization_id == authorization.pk
    assert record.subject == mail.outbox[0].subject
    client = Client()
    client.force_login(staff_user)
    listed = client.get(reverse("admin:accounts_sentemail_changelist")).content.decode()
    assert "admin@contoso.com" in listed and owner.email in listed
    assert client.get(reverse("admin:accounts_sentemail_add")).status_code == 403


def test_an_organisation_name_cannot_pose_as_the_storefronts_words(owner, authorization):
    organization = owner.organization
    organization.company_name = 'Reset your password at evil.example\nUrgent: "Northwind" says'
    organization.save()
    _email_link(owner, authorization, "admin@contoso.com")
    message = mail.outbox[0]
    assert "\n" not in message.subject
    assert message.subject == (
        "Microsoft partner authorization requested by “Reset your password at evil.example Urgent: 'Northwind' says”"
    )
    assert message.body.startswith(
        "Hello,\n\nThe organisation “Reset your password at evil.example Urgent: 'Northwind' says” asks you"
    )
    assert "\nReset your password" not in message.body and "\nUrgent" not in message.body


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Fabrikam", "“Fabrikam”"),
        ("  Fab\trikam\r\nLtd  ", "“Fab rikam Ltd”"),
        ("“Fake” close", "“'Fake' close”"),
        ("Bidi\u202eevil", "“Bidi evil”"),
        ("x" * 200, "“" + "x" * 79 + "…”"),
        ("", "“”"),
    ],
)
def test_quoted_names_stay_on_one_line_inside_their_quotes(name, expected):
    assert quoted(name) == expected
