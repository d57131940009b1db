"""One sign-in lockout (django-axes) for every door: the storefront's form, the API's token endpoint and admin.

A pair (email, address) is locked after 5 failures; an address alone after 50, whatever the emails. Locks last 15
minutes from the failure that caused them and the answer says when to try again.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from storefront.accounts import signin
from tests.api.conftest import assert_error
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, email, password, **extra):
    return client.post(reverse("accounts:login"), {"username": email, "password": password, **extra})


def _token(email, password, ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": email, "password": password}, content_type="application/json"
    )


def _admin_sign_in(client, email, password):
    return client.post(reverse("admin:login"), {"username": email, "password": password, "next": "/admin/"})


def test_five_failures_pause_that_email_from_that_address_for_15_minutes(owner):
    client = Client(REMOTE_ADDR="10.0.0.5")
    with freeze_time() as clock:
        for _ in range(4):
            assert _sign_in(client, owner.email, "wrong").status_code == 200
        fifth = _sign_in(client, owner.email, "wrong")
        assert fifth.status_code == 429
        refused = _sign_in(client, owner.email, PASSWORD)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "900"
        page = refused.content.decode()
        assert "Too many failed sign-in attempts" in page and "try again in 15 minutes" in page
        assert f'value="{owner.email}"' in page  # what was typed is kept
        assert "_auth_user_id" not in client.session
        clock.tick(timedelta(minutes=14))
        later = _sign_in(client, owner.email, PASSWORD)
        assert later.status_code == 429 and "try again in 1 minute" in later.content.decode()
        clock.tick(timedelta(minutes=1, seconds=1))
        assert _sign_in(client, owner.email, PASSWORD).status_code == 302


def test_a_guesser_does_not_lock_the_user_out_from_elsewhere(owner):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(8):
        _sign_in(attacker, owner.email, "wrong")
    assert _sign_in(attacker, owner.email, PASSWORD).status_code == 429
    assert _sign_in(Client(REMOTE_ADDR="10.0.0.7"), owner.email, PASSWORD).status_code == 302


def test_one_users_failures_do_not_lock_out_a_colleague_at_the_same_address(owner, teammate):
    office = Client(REMOTE_ADDR="198.51.100.10")
    for _ in range(6):
        _sign_in(office, owner.email, "wrong")
    assert _sign_in(office, owner.email, PASSWORD).status_code == 429
    colleague = Client(REMOTE_ADDR="198.51.100.10")
    assert _sign_in(colleague, teammate.email, PASSWORD).status_code == 302


def test_one_address_trying_many_emails_meets_the_higher_ceiling(owner, teammate, settings):
    assert settings.SIGN_IN_ADDRESS_FAILURE_LIMIT == 50
    spray = Client(REMOTE_ADDR="192.0.2.50")
    for n in range(49):  # 49 emails, one guess each: no pair reaches 5, the address stays below 50
        assert _sign_in(spray, f"guess{n}@example.com", "wrong").status_code == 200
    assert _sign_in(Client(REMOTE_ADDR="192.0.2.50"), owner.email, PASSWORD).status_code == 302
    assert _sign_in(spray, "guess49@example.com", "wrong").status_code == 429  # the 50th failure
    assert _sign_in(Client(REMOTE_ADDR="192.0.2.50"), teammate.email, PASSWORD).status_code == 429
    assert _sign_in(Client(REMOTE_ADDR="192.0.2.51"), teammate.email, PASSWORD).status_code == 302


def test_twelve_wrong_admin_passwords_then_the_right_one_does_not_log_in(staff_user):
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(12):
        _admin_sign_in(client, staff_user.email, "wrong")
    response = _admin_sign_in(client, staff_user.email, PASSWORD)
    assert response.status_code == 429
    assert "try again in 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the sign-in page


def test_admin_and_storefront_failures_count_together(owner):
    client = Client(REMOTE_ADDR="10.0.0.10")
    for _ in range(3):
        _admin_sign_in(client, owner.email, "wrong")
    for _ in range(2):
        _sign_in(client, owner.email, "wrong")
    assert _sign_in(client, owner.email, PASSWORD).status_code == 429


def test_failures_spread_over_more_than_15_minutes_do_not_lock(owner):
    client = Client(REMOTE_ADDR="10.0.0.11")
    with freeze_time() as clock:
        for _ in range(4):
            _sign_in(client, owner.email, "wrong")
        clock.tick(timedelta(minutes=16))
        assert _sign_in(client, owner.email, "wrong").status_code == 200
        assert _sign_in(client, owner.email, PASSWORD).status_code == 302


def test_a_success_clears_its_own_count_but_not_the_failures_others_caused_there(owner, teammate):
    client = Client(REMOTE_ADDR="10.0.0.12")
    for _ in range(3):
        _sign_in(client, owner.email, "wrong")
    assert _sign_in(client, owner.email, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        assert _sign_in(client, owner.email, "wrong").status_code == 200
    # The teammate signing in from the same address does not wipe the owner's four failures.
    assert _sign_in(Client(REMOTE_ADDR="10.0.0.12"), teammate.email, PASSWORD).status_code == 302
    assert _sign_in(client, owner.email, "wrong").status_code == 429


def test_email_case_does_not_make_a_new_pair(owner):
    client = Client(REMOTE_ADDR="10.0.0.13")
    for variant in ("OWNER@fabrikam.example", "Owner@Fabrikam.example", " owner@fabrikam.example", "o"):
        _sign_in(client, variant if variant != "o" else owner.email, "wrong")
    assert _sign_in(client, owner.email.upper(), "wrong").status_code == 429


def test_the_token_endpoint_shares_the_lockout_and_answers_in_the_api_shape(owner, settings):
    """Password guesses through the API count with the form's: neither is a way around the other's lockout."""
    rates = settings.REST_FRAMEWORK[
        "DEFAULT_THROTTLE_RATES"
    ]  # the per-address rate is another test's subject
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "token": None}}
    with freeze_time() as clock:
        for _ in range(2):
            assert _sign_in(Client(REMOTE_ADDR="10.0.1.1"), owner.email, "wrong").status_code == 200
        for _ in range(2):
            assert _token(owner.email, "wrong", ip="10.0.1.1").status_code == 400
        fifth = _token(owner.email.upper(), "wrong", ip="10.0.1.1")
        body = assert_error(fifth, 429, "throttled")
        assert "try again in 15 minutes" in body["message"]
        assert fifth["Retry-After"] == "900"
        assert _sign_in(Client(REMOTE_ADDR="10.0.1.1"), owner.email, PASSWORD).status_code == 429
        clock.tick(timedelta(minutes=10))
        refused = _token(owner.email, PASSWORD, ip="10.0.1.1")
        assert_error(refused, 429, "throttled")
        assert refused["Retry-After"] == "300"
        assert "token" not in refused.json()
        assert _token(owner.email, PASSWORD, ip="10.0.2.1").status_code == 200  # elsewhere: fine
        clock.tick(timedelta(minutes=5, seconds=1))
        assert "token" in _token(owner.email, PASSWORD, ip="10.0.1.1").json()


def test_staff_unlock_a_user_in_admin(owner, staff_user):
    client = Client(REMOTE_ADDR="10.0.0.14")
    for _ in range(5):
        _sign_in(client, owner.email, "wrong")
    assert _sign_in(client, owner.email, PASSWORD).status_code == 429
    locked = AccessAttempt.objects.get(username=owner.email, ip_address="10.0.0.14")
    admin = Client()
    admin.force_login(staff_user)
    changelist = reverse("admin:axes_accessattempt_changelist")
    listed = admin.get(changelist, {"q": owner.email})
    assert listed.status_code == 200 and owner.email in listed.content.decode()
    admin.post(changelist, {"action": "delete_selected", "_selected_action": [locked.pk], "post": "yes"})
    assert not AccessAttempt.objects.exists()
    assert _sign_in(client, owner.email, PASSWORD).status_code == 302


def test_a_lock_on_an_unknown_email_says_the_same_as_on_a_known_one(owner):
    client = Client(REMOTE_ADDR="10.0.0.15")
    answers = []
    for email in (owner.email, "nobody@fabrikam.example"):
        for _ in range(5):
            response = _sign_in(client, email, "wrong")
        answers.append((response.status_code, response["Retry-After"]))
    assert answers[0] == answers[1] == (429, "900")


def test_the_client_address_comes_from_the_proxy_header_only_when_configured(rf, settings):
    request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    settings.SIGN_IN_CLIENT_IP_HEADER = ""
    assert signin.client_ip(request) == "10.0.0.1"
    settings.SIGN_IN_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert signin.client_ip(request) == "203.0.113.9"


def test_behind_a_proxy_each_client_is_counted_on_its_own(owner, settings):
    settings.SIGN_IN_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    guesser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    for _ in range(5):
        _sign_in(guesser, owner.email, "wrong")
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.10")
    assert _sign_in(colleague, owner.email, PASSWORD).status_code == 302


def test_inactive_users_are_refused_like_a_wrong_password(db):
    user = UserFactory(email="left@fabrikam.example", is_active=False)
    response = _sign_in(Client(), user.email, PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in response.client.session
