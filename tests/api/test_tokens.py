"""API tokens (django-rest-knox): stored hashed, shown once, named, expiring, listed and revoked by their user."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from storefront.accounts.models import ApiToken
from storefront.accounts.tokens import api_token_create
from tests.api.conftest import api_client_for, assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _issue(client, email, **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": email, "password": PASSWORD, **extra}, format="json"
    )


def _with_token(secret):
    client = api_client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_the_token_is_stored_as_a_hash_only(owner):
    secret = _issue(api_client_for(None), owner.email).json()["token"]
    row = ApiToken.objects.values().get()
    assert secret not in " ".join(str(value) for value in row.values())
    assert len(row["digest"]) == 128 and row["digest"] != secret


def test_each_sign_in_gives_a_new_secret_and_each_works(owner):
    client = api_client_for(None)
    first, second = (_issue(client, owner.email).json()["token"] for _ in range(2))
    assert first != second
    for secret in (first, second):
        assert _with_token(secret).get("/api/v1/products/").status_code == 200


def test_a_token_is_named_and_expires(owner):
    with freeze_time("2026-12-01 10:00:00") as clock:
        body = _issue(api_client_for(None), owner.email, name="ERP sync", expires_in_days=2).json()
        assert set(body) >= {"token", "id", "name", "created", "expiry"}
        assert body["name"] == "ERP sync"
        assert body["expiry"].startswith("2026-12-03T10:00:00")
        clock.tick(timedelta(days=2, seconds=-1))
        assert _with_token(body["token"]).get("/api/v1/products/").status_code == 200
        clock.tick(timedelta(seconds=2))
        assert_error(_with_token(body["token"]).get("/api/v1/products/"), 401, "not_authenticated")


def test_a_token_without_a_name_or_expiry_gets_the_defaults(owner, settings):
    with freeze_time("2026-12-01 10:00:00"):
        body = _issue(api_client_for(None), owner.email).json()
    assert body["name"].startswith("Token of 2026-12-01")
    assert body["expiry"].startswith("2027-03-01T10:00:00")  # 90 days


@pytest.mark.parametrize("days", [0, 366, "soon"])
def test_an_expiry_out_of_range_is_refused_by_name(owner, days):
    body = assert_error(_issue(api_client_for(None), owner.email, expires_in_days=days), 400, "invalid")
    assert "expires_in_days" in body["fields"]


def test_a_user_lists_its_tokens_without_their_secrets(owner, teammate):
    _, mine = api_token_create(user=owner, name="ERP sync")
    api_token_create(user=teammate, name="Teammate's")
    client = _with_token(mine)
    response = client.get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    listed = response.json()
    assert [t["name"] for t in listed] == ["ERP sync"]
    assert listed[0]["current"] is True
    assert set(listed[0]) == {"id", "name", "created", "expiry", "last_used_at", "current"}
    assert mine not in response.content.decode()
    assert listed[0]["last_used_at"] is not None


def test_a_revoked_token_stops_working_at_once(owner):
    _, keep = api_token_create(user=owner, name="keep")
    gone, secret = api_token_create(user=owner, name="gone")
    client = _with_token(keep)
    assert client.delete(f"/api/v1/auth/tokens/{gone.public_id}/").status_code == 204
    assert_error(_with_token(secret).get("/api/v1/products/"), 401, "not_authenticated")
    assert client.get("/api/v1/products/").status_code == 200
    assert_error(client.delete(f"/api/v1/auth/tokens/{gone.public_id}/"), 404, "not_found")


def test_another_users_token_cannot_be_revoked(owner, outsider):
    theirs, their_secret = api_token_create(user=outsider, name="theirs")
    _, mine = api_token_create(user=owner, name="mine")
    assert_error(_with_token(mine).delete(f"/api/v1/auth/tokens/{theirs.public_id}/"), 404, "not_found")
    assert _with_token(their_secret).get("/api/v1/products/").status_code == 200


def test_a_deactivated_users_tokens_stop_working_at_once(owner, staff_user, client):
    _, secret = api_token_create(user=owner, name="ERP sync")
    assert _with_token(secret).get("/api/v1/products/").status_code == 200
    client.force_login(staff_user)
    response = client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [owner.pk]}, follow=True
    )
    assert "Deactivated 1 user" in response.content.decode()
    assert_error(_with_token(secret).get("/api/v1/products/"), 401, "not_authenticated")
    assert_error(_issue(api_client_for(None), owner.email), 400, "invalid_credentials")


def test_tokens_of_the_previous_system_keep_working_hashed(owner):
    """The migration carries DRF's plain-text tokens over as hashes and deletes the plain text."""
    migration = importlib.import_module("storefront.accounts.migrations.0003_api_tokens_carried_over")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.schema_editor() as editor:
        editor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamp)"
        )
        editor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old_key, owner.pk, timezone.now()])
        migration.carry_over(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert _with_token(old_key).get("/api/v1/products/").status_code == 200
    assert old_key not in str(list(ApiToken.objects.values()))


def test_a_new_password_revokes_the_api_tokens_and_says_so(client, owner, teammate):
    secret = _issue(api_client_for(None), owner.email).json()["token"]
    kept = _issue(api_client_for(None), teammate.email).json()["token"]
    client.force_login(owner)

    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "A new Passw0rd 2026",
            "new_password2": "A new Passw0rd 2026",
        },
        follow=True,
    )

    assert "Your API tokens were revoked with the old password" in response.content.decode()
    assert_error(_with_token(secret).get("/api/v1/products/"), 401, "not_authenticated")
    assert _with_token(kept).get("/api/v1/products/").status_code == 200  # another user's tokens stay


def test_a_password_reset_or_staff_setting_one_revokes_them_too_and_other_saves_do_not(owner):
    secret = _issue(api_client_for(None), owner.email).json()["token"]
    owner.first_name = "Renamed"
    owner.save()
    assert _with_token(secret).get("/api/v1/products/").status_code == 200
    owner.set_password("Reset by email 2026!")  # what the reset confirmation and admin's password form do
    owner.save()
    assert not ApiToken.objects.filter(user=owner).exists()


def test_running_create_reseller_again_with_the_same_password_keeps_the_tokens(owner):
    from django.core.management import call_command

    secret = _issue(api_client_for(None), owner.email).json()["token"]
    organization = owner.organization
    call_command(
        "create_reseller",
        name=organization.company_name,
        mpn_id=organization.mpn_id,
        email=owner.email,
        password=PASSWORD,
    )
    assert _with_token(secret).get("/api/v1/products/").status_code == 200


def test_signing_in_and_a_password_hash_upgrade_keep_the_tokens(client, owner, settings):
    """Every sign-in writes last_login, and Django re-hashes an old-style hash on a correct password: neither is a
    new password, so neither may revoke the user's integrations."""
    from django.contrib.auth.hashers import make_password

    secret = _issue(api_client_for(None), owner.email).json()["token"]
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    type(owner).objects.filter(pk=owner.pk).update(password=make_password(PASSWORD, hasher="md5"))

    response = client.post("/accounts/login/", {"username": owner.email, "password": PASSWORD})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.password.startswith("pbkdf2_sha256$") and owner.last_login is not None  # upgraded, signed in
    assert _with_token(secret).get("/api/v1/products/").status_code == 200
