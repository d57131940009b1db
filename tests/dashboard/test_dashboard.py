"""The dashboard lists open drafts, pending authorizations with actions, closed ones and orders."""

import pytest
from django.urls import reverse

from csp import authorizations
from csp.models import TenantAuthorization
from tests.checkout.conftest import accept_invitation
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(sandbox, owner):
    return authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id="1234567"
    )


def test_dashboard_shows_pending_with_age_expiry_and_actions(client, owner, pending):
    OrderFactory(organization=owner.organization, placed_by=owner)
    client.force_login(owner)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "contoso.onmicrosoft.com" in page
    assert "Check now" in page and "Resend link" in page
    assert "29\xa0days" in page or "4\xa0weeks" in page
    assert "just now" in page and "0\xa0minutes" not in page


def test_ages_read_as_people_say_them():
    from datetime import timedelta

    from django.utils import timezone

    from storefront.dashboard.templatetags.dashboard import ago

    now = timezone.now()
    assert ago(now - timedelta(seconds=20)) == "just now"
    assert ago(now - timedelta(hours=3, minutes=5)) == "3\xa0hours, 5\xa0minutes ago"
    assert ago(None) == ""


def test_check_now_verifies_after_acceptance(client, owner, pending, sandbox):
    TenantAuthorization.objects.filter(pk=pending.pk).update(default_domain="contoso.com")
    accept_invitation(sandbox, domain="contoso.com")
    client.force_login(owner)
    response = client.post(reverse("dashboard:check_now", args=[pending.pk]), follow=True)
    assert "The authorization is verified" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "verified"
    assert pending.transitions.last().actor == "user"


def test_check_now_before_acceptance_says_not_yet(client, owner, pending):
    client.force_login(owner)
    response = client.post(reverse("dashboard:check_now", args=[pending.pk]), follow=True)
    assert "The authorization has not been completed yet" in response.content.decode()


def test_resend_emails_the_link(client, owner, pending, mailoutbox):
    client.force_login(owner)
    client.post(reverse("dashboard:resend", args=[pending.pk]), {"admin_email": "admin@contoso.com"})
    assert mailoutbox[0].to == ["admin@contoso.com"]
    assert pending.authorization_link in mailoutbox[0].body
    response = client.post(
        reverse("dashboard:resend", args=[pending.pk]), {"admin_email": "nope"}, follow=True
    )
    assert "Enter the administrator" in response.content.decode()
    assert len(mailoutbox) == 1


def test_outsider_cannot_check_or_resend_anothers_authorization(client, outsider, pending, mailoutbox):
    client.force_login(outsider)
    assert client.post(reverse("dashboard:check_now", args=[pending.pk])).status_code == 404
    assert (
        client.post(reverse("dashboard:resend", args=[pending.pk]), {"admin_email": "a@b.co"}).status_code
        == 404
    )
    assert "contoso.onmicrosoft.com" not in client.get(reverse("dashboard:home")).content.decode()
    assert mailoutbox == []
