"""Django admin: the distributor's settings, the lists it watches, and what it must never show."""

import pytest
from django.contrib import admin
from django.test import override_settings
from django.urls import reverse

from csp.models import AuthorizationTransition, CloudServicesSettings, TenantAuthorization
from storefront.accounts.models import Organization, User
from storefront.catalog.models import Product
from storefront.configuration.models import StorefrontConfiguration
from tests.factories import (
    EndCustomerFactory,
    IndirectResellerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    TenantAuthorizationFactory,
)
from tests.sandbox_ids import DISTRIBUTOR_MPN_ID, DISTRIBUTOR_TENANT_ID

pytestmark = pytest.mark.django_db


def cloud_settings_form(**overrides) -> dict:
    data = {
        "distributor_name": "Northwind Distribution",
        "environment": "global",
        "distributor_tenant_id": DISTRIBUTOR_TENANT_ID,
        "distributor_mpn_id": DISTRIBUTOR_MPN_ID,
        "polling_interval_minutes": "5",
        "authorization_expiry_days": "30",
        "network_refresh_minutes": "60",
    }
    data.update(overrides)
    return data


def test_sub_customers_billing_address_switch_persists_and_code_reads_it(admin_client, storefront_config):
    url = reverse("admin:configuration_storefrontconfiguration_change", args=[storefront_config.pk])

    page = admin_client.get(url)
    assert page.status_code == 200
    assert "<h2" in page.content.decode() and ">General</h2>" in page.content.decode()
    assert "Sub customers billing address" in page.content.decode()

    response = admin_client.post(url, {"sub_customers_billing_address": "on"})
    assert response.status_code == 302
    assert StorefrontConfiguration.load().sub_customers_billing_address is True

    admin_client.post(url, {})
    assert StorefrontConfiguration.load().sub_customers_billing_address is False


def test_storefront_configuration_is_one_row_without_add_or_delete(admin_client, storefront_config):
    changelist = admin_client.get(reverse("admin:configuration_storefrontconfiguration_changelist"))
    assert changelist.status_code == 302
    assert changelist.url == reverse(
        "admin:configuration_storefrontconfiguration_change", args=[storefront_config.pk]
    )
    assert admin_client.get(reverse("admin:configuration_storefrontconfiguration_add")).status_code == 403
    delete_url = reverse("admin:configuration_storefrontconfiguration_delete", args=[storefront_config.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert StorefrontConfiguration.objects.count() == 1


def test_settings_changelist_creates_the_row_when_missing(admin_client):
    assert not CloudServicesSettings.objects.exists()
    response = admin_client.get(reverse("admin:csp_cloudservicessettings_changelist"))
    assert response.status_code == 302
    settings_row = CloudServicesSettings.objects.get()
    assert settings_row.distributor_name == "Northwind Distribution"
    assert response.url == reverse("admin:csp_cloudservicessettings_change", args=[settings_row.pk])


@override_settings(
    PARTNER_CENTER_CLIENT_SECRET="Xq8~client-secret-value-never-shown",
    PARTNER_CENTER_REFRESH_TOKEN="0.AXYA-refresh-token-value-never-shown",
)
def test_cloud_services_settings_show_whether_secrets_are_configured_never_their_values(
    admin_client, cloud_settings
):
    page = admin_client.get(reverse("admin:csp_cloudservicessettings_change", args=[cloud_settings.pk]))
    html = page.content.decode()

    assert page.status_code == 200
    assert "client-secret-value-never-shown" not in html
    assert "refresh-token-value-never-shown" not in html
    assert html.count(">configured<") == 2
    assert "Partner Center mode" in html and "sandbox" in html
    for label in [
        "Distributor organisation name",
        "Partner Center environment",
        "Distributor tenant id",
        "Distributor MPN ID",
        "Polling interval (minutes)",
        "Authorization expiry (days)",
        "Reseller network refresh (minutes)",
    ]:
        assert label in html


def test_cloud_services_settings_page_has_no_authorization_link(admin_client, cloud_settings):
    page = admin_client.get(reverse("admin:csp_cloudservicessettings_change", args=[cloud_settings.pk]))
    html = page.content.decode().lower()

    assert "not set" in html
    assert "authorization link" not in html
    assert "authorization_link" not in html


def test_cloud_services_settings_save_and_reject_a_malformed_mpn_id(admin_client, cloud_settings):
    url = reverse("admin:csp_cloudservicessettings_change", args=[cloud_settings.pk])

    rejected = admin_client.post(url, cloud_settings_form(distributor_mpn_id="51-23456"))
    assert rejected.status_code == 200
    assert "digits only" in rejected.content.decode()

    saved = admin_client.post(
        url, cloud_settings_form(distributor_name="Contoso Distribution", polling_interval_minutes="2")
    )
    assert saved.status_code == 302
    cloud_settings.refresh_from_db()
    assert (cloud_settings.distributor_name, cloud_settings.polling_interval_minutes) == (
        "Contoso Distribution",
        2,
    )
    assert admin_client.get(reverse("admin:csp_cloudservicessettings_add")).status_code == 403


def test_check_now_action_asks_the_service_about_pending_authorizations_only(
    admin_client, staff_user, monkeypatch
):
    pending = TenantAuthorizationFactory()
    verified = TenantAuthorizationFactory(verified=True)
    calls = []

    def fake_check_now(*, authorization_id, actor, user_id):
        calls.append({"authorization_id": authorization_id, "actor": actor, "user_id": user_id})
        TenantAuthorization.objects.filter(pk=authorization_id).update(
            status=TenantAuthorization.Status.VERIFIED
        )

    monkeypatch.setattr("csp.admin.authorizations.tenant_authorization_check_now", fake_check_now)
    response = admin_client.post(
        reverse("admin:csp_tenantauthorization_changelist"),
        {"action": "check_now", "_selected_action": [pending.pk, verified.pk]},
        follow=True,
    )

    assert calls == [{"authorization_id": pending.pk, "actor": "admin", "user_id": staff_user.pk}]
    text = response.content.decode()
    assert "Checked 1 pending authorization(s) with Partner Center: 1 verified." in text
    assert "Skipped 1 authorization(s) that are no longer pending." in text


def test_check_now_reports_partner_center_trouble_in_words(admin_client, monkeypatch):
    from csp.errors import PartnerCenterUnavailable

    pending = TenantAuthorizationFactory(domain_prefix="contoso")

    def unavailable(**kwargs):
        raise PartnerCenterUnavailable(
            "Microsoft Partner Center is not answering; try again in a few minutes."
        )

    monkeypatch.setattr("csp.admin.authorizations.tenant_authorization_check_now", unavailable)
    response = admin_client.post(
        reverse("admin:csp_tenantauthorization_changelist"),
        {"action": "check_now", "_selected_action": [pending.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert (
        "Check of contoso.onmicrosoft.com failed: Microsoft Partner Center is not answering"
        in response.content.decode()
    )
    pending.refresh_from_db()
    assert pending.status == TenantAuthorization.Status.PENDING


def test_tenant_authorization_admin_is_read_only_and_shows_its_history(admin_client, staff_user):
    authorization = TenantAuthorizationFactory(domain_prefix="wingtiptoys")
    AuthorizationTransition.objects.create(
        authorization=authorization,
        from_status="",
        to_status="pending",
        actor=AuthorizationTransition.Actor.USER,
        microsoft_answer="Relationship request link issued",
    )
    url = reverse("admin:csp_tenantauthorization_change", args=[authorization.pk])

    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Status history" in page.content.decode()
    assert "Relationship request link issued" in page.content.decode()

    admin_client.post(url, {"status": "verified", "domain_prefix": "hijacked"})
    authorization.refresh_from_db()
    assert (authorization.status, authorization.domain_prefix) == ("pending", "wingtiptoys")
    assert admin_client.get(reverse("admin:csp_tenantauthorization_add")).status_code == 403


def test_offers_are_withdrawn_in_the_list_but_their_cost_is_microsofts(admin_client):
    product = ProductFactory(price="6.00", is_active=True)

    response = admin_client.post(
        reverse("admin:catalog_product_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(product.pk),
            "form-0-price": "7.50",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (str(product.price), product.is_active) == ("6.00", False)  # the price list sets the cost
    delete = admin_client.get(reverse("admin:catalog_product_delete", args=[product.pk]))
    assert delete.status_code == 403  # order lines point at offers: never deleted


def test_staff_creates_a_user_by_email_without_a_username(admin_client, reseller):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Buyer@Fabrikam.example",
            "organization": str(reseller.pk),
            "usable_password": "true",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.buyer@fabrikam.example")
    assert user.organization == reseller and user.check_password("a-long-Passphrase-42")


def test_user_admin_refuses_an_email_that_differs_only_in_case(admin_client, owner):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": owner.email.upper(),
            "usable_password": "true",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
        },
    )

    assert response.status_code == 200
    assert "A user with this email already exists." in response.content.decode()
    assert User.objects.filter(email__iexact=owner.email).count() == 1


def test_organisation_admin_requires_digits_for_a_resellers_mpn_id(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_organization_add"),
        {
            "company_name": "Tailspin Consulting",
            "kind": "reseller",
            "mpn_id": "MPN-45",
            "users-TOTAL_FORMS": "0",
            "users-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "The MPN ID has digits only" in response.content.decode()
    assert not Organization.objects.filter(company_name="Tailspin Consulting").exists()


def test_every_admin_list_opens_and_searches_for_staff(admin_client, owner, direct_user):
    TenantAuthorizationFactory(organization=owner.organization)
    OrderLineFactory(order=OrderFactory(organization=owner.organization))
    EndCustomerFactory(reseller=owner.organization)
    IndirectResellerFactory()
    Product.objects.update(price="9.99")

    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url, {"q": "a"} if model_admin.search_fields else {})
        assert response.status_code in (200, 302), url


def test_buyers_cannot_open_admin(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:csp_tenantauthorization_changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
