"""The real Partner Center client against the real sandbox, over HTTP: every operation, end to end.

Nothing is mocked: the session-wide `sandbox_server` (tests/pc_sandbox.py) serves Partner Center, sign-in,
Graph and the admin portal on a free port, and each test starts from the seeded demo data
(docs/demo-data.md) after `POST /_sandbox/reset`. Faults are switched on through the control API.
No Django database is needed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import pytest
import requests

from csp.partner_center.auth import SandboxTokenProvider, token_provider_for
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import (
    NotFound,
    PermanentPartnerCenterError,
    TransientPartnerCenterError,
)
from csp.partner_center.schemas import (
    Address,
    AgreementContact,
    CartLine,
    NewCustomer,
    PartnerCenterConfig,
)
from csp.sandbox.server import SandboxServer
from csp.sandbox.webhooks import CERTIFICATE_PATH
from tests.csp.conftest import WebhookReceiver

DISTRIBUTOR = "d1570b00-0000-4000-8000-000000000001"
FABRIKAM = "22222222-2222-4222-8222-222222222222"
ADATUM = "22222222-2222-4222-8222-333333333333"
LITWARE = "22222222-2222-4222-8222-444444444444"
TAILSPIN = "22222222-2222-4222-8222-555555555555"
CONTOSO = "33333333-3333-4333-8333-000000000001"
WINGTIP = "33333333-3333-4333-8333-000000000002"
WOODGROVE = "33333333-3333-4333-8333-000000000004"
ALPINE = "33333333-3333-4333-8333-000000000005"
MCA_TEMPLATE_ID = "117a77b0-9360-443b-8795-c6dedc750cf9"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
OFFER = "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ"
REDMOND = Address(
    country="US", city="Redmond", state="WA", address_line1="1 Microsoft Way", postal_code="98052"
)


# -- fixtures and helpers ----------------------------------------------------------------------------------


@pytest.fixture
def url(sandbox_server: SandboxServer) -> Iterator[str]:
    """The sandbox's base URL, reset to the demo data before (and faults cleared after) each test."""
    requests.post(f"{sandbox_server.url}/_sandbox/reset", timeout=10).raise_for_status()
    yield sandbox_server.url
    requests.delete(f"{sandbox_server.url}/_sandbox/faults", timeout=10).raise_for_status()


class Sleeps(list[float]):
    """A no-op `sleep` that remembers what the client asked for, so retries cost no wall time."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(base_url: str, sleeps: Sleeps, **options: Any) -> PartnerCenterClient:
    config = PartnerCenterConfig.for_sandbox(base_url, **options)
    return PartnerCenterClient(config, token_provider=token_provider_for(config), sleep=sleeps)


@pytest.fixture
def client(url: str, sleeps: Sleeps) -> PartnerCenterClient:
    return make_client(url, sleeps, timeout=5.0, max_retries=2, backoff=0.01)


def control(base_url: str, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{base_url}/_sandbox/{path}", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def faults(base_url: str, **spec: Any) -> None:
    control(base_url, "POST", "faults", spec)


def logged_requests(base_url: str, path_part: str) -> list[dict[str, Any]]:
    """What the sandbox received (not counting control calls) whose target contains `path_part`."""
    return [r for r in control(base_url, "GET", "requests")["requests"] if path_part in r["target"]]


def new_customer(prefix: str, **overrides: Any) -> NewCustomer:
    values: dict[str, Any] = {
        "domain": f"{prefix}.onmicrosoft.com",
        "company_name": "Fourth Coffee",
        "email": "it@fourthcoffee.example",
        "first_name": "Jane",
        "last_name": "Doe",
        "phone_number": "4255550101",
        "address": REDMOND,
        "associated_partner_id": FABRIKAM,
    }
    values.update(overrides)
    return NewCustomer(**values)


class Form:
    def __init__(self, action: str, method: str) -> None:
        self.action = action
        self.method = method
        self.fields: dict[str, str] = {}
        self.hidden: set[str] = set()
        self.buttons: list[str] = []


class PageParser(HTMLParser):
    """Reads an admin-portal page the way a browser would: forms, their fields, labels, buttons, text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._label_for: str | None = None
        self._in_button = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(attr.get("action", ""), attr.get("method", "get").upper()))
        elif tag == "input" and self.forms and attr.get("name"):
            self.forms[-1].fields[attr["name"]] = attr.get("value", "")
            if attr.get("type") == "hidden":
                self.forms[-1].hidden.add(attr["name"])
        elif tag == "label":
            self._label_for = attr.get("for", "")
            self.labels[self._label_for] = ""
        elif tag == "button" and self.forms:
            self._in_button = True
            self.forms[-1].buttons.append("")
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None
        elif tag == "button":
            self._in_button = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
            return
        self.text.append(data)
        if self._label_for is not None:
            self.labels[self._label_for] += data
        if self._in_button:
            self.forms[-1].buttons[-1] += data

    @property
    def page_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse_page(html_text: str) -> PageParser:
    parser = PageParser()
    parser.feed(html_text)
    parser.close()
    return parser


def submit(browser: requests.Session, page_url: str, form: Form, **typed: str) -> requests.Response:
    """POST a form as a browser does: every field (hidden ones included) url-encoded, to the resolved action."""
    assert form.method == "POST"
    data = {**form.fields, **typed}
    return browser.post(urljoin(page_url, form.action), data=data, timeout=10)


def accept_invitation(link: str, domain: str) -> tuple[PageParser, PageParser]:
    """The customer's admin opens the invitation link, types the organisation's domain and accepts."""
    with requests.Session() as browser:
        opened = browser.get(link, timeout=10)
        assert opened.status_code == 200
        assert opened.headers["Content-Type"].startswith("text/html")
        invitation = parse_page(opened.text)
        (form,) = invitation.forms
        assert invitation.labels["domain"] == "Your organization's domain"
        assert "domain" in form.fields and "domain" not in form.hidden
        assert form.buttons == ["Accept and authorize"]
        accepted = submit(browser, opened.url, form, domain=domain)
        assert accepted.status_code == 200, accepted.text
        return invitation, parse_page(accepted.text)


def _small_gdap(client: PartnerCenterClient, display_name: str):
    """A 30-day Directory Readers relationship with Contoso, not auto-extended."""
    return client.create_gdap_relationship(
        display_name=display_name,
        customer_tenant_id=CONTOSO,
        customer_name="Contoso Ltd",
        role_definition_ids=[DIRECTORY_READERS],
        duration_days=30,
        auto_extend=False,
        request_id=str(uuid.uuid4()),
    )


# -- sign-in -----------------------------------------------------------------------------------------------


def test_sandbox_config_builds_a_token_provider_that_gets_tokens_from_the_sandbox(url: str) -> None:
    config = PartnerCenterConfig.for_sandbox(url)
    provider = token_provider_for(config)
    assert isinstance(provider, SandboxTokenProvider)

    partner_center = provider.token("partner_center")
    graph = provider.token("graph")

    assert partner_center.startswith("sandbox-") and graph.startswith("sandbox-")
    assert provider.token("partner_center") == partner_center  # cached, not asked again
    token_requests = logged_requests(url, f"/{DISTRIBUTOR}/oauth2/v2.0/token")
    assert [r["method"] for r in token_requests] == ["POST", "POST"]


def test_client_sends_the_bearer_token_and_refreshes_it_once_when_the_sandbox_answers_401(
    url: str, sleeps: Sleeps
) -> None:
    config = PartnerCenterConfig.for_sandbox(url)
    real = token_provider_for(config)

    class StaleFirst:
        def __init__(self) -> None:
            self.invalidated: list[str | None] = []

        def token(self, resource: str) -> str:
            return "sandbox-expired-token" if not self.invalidated else real.token(resource)

        def invalidate(self, resource: str | None = None) -> None:
            self.invalidated.append(resource)
            real.invalidate(resource)

    tokens = StaleFirst()
    client = PartnerCenterClient(config, token_provider=tokens, sleep=sleeps)

    assert client.agreement_status(mpn_id="1234567").signed is True
    assert tokens.invalidated == ["partner_center"]
    assert len(logged_requests(url, "/v1/compliance/csp/agreementstatus")) == 2
    assert sleeps == []


# -- domains -----------------------------------------------------------------------------------------------


def test_domain_exists_for_initial_and_custom_domains_and_not_for_unknown_ones(
    client: PartnerCenterClient,
) -> None:
    assert client.domain_exists("contoso.onmicrosoft.com") is True
    assert client.domain_exists("contoso.com") is True
    assert client.domain_exists("nobody-here-42.onmicrosoft.com") is False


def test_tenant_id_for_domain_resolves_initial_and_custom_default_domains_and_none_for_unknown(
    client: PartnerCenterClient,
) -> None:
    assert client.tenant_id_for_domain("contoso.onmicrosoft.com") == CONTOSO
    assert client.tenant_id_for_domain("woodgrovebank.com") == WOODGROVE
    assert client.tenant_id_for_domain("nobody-here-42.onmicrosoft.com") is None


def test_domain_availability_says_taken_for_an_existing_initial_domain(client: PartnerCenterClient) -> None:
    taken = client.domain_availability("Contoso")

    assert taken.available is False
    assert taken.domain == "contoso.onmicrosoft.com"
    assert taken.tenant_id == CONTOSO


def test_domain_availability_says_free_for_an_unused_prefix(client: PartnerCenterClient) -> None:
    free = client.domain_availability("fourthcoffee2024")

    assert free.available is True
    assert free.domain == "fourthcoffee2024.onmicrosoft.com"
    assert free.tenant_id is None


def test_domain_availability_sees_a_tenant_added_to_the_sandbox_after_start(
    url: str, client: PartnerCenterClient
) -> None:
    added = control(
        url, "POST", "tenants", {"domain_prefix": "fourthcoffee", "default_domain": "fourthcoffee.com"}
    )

    assert client.domain_availability("fourthcoffee").available is False
    assert client.tenant_id_for_domain("fourthcoffee.com") == added["tenant_id"]


# -- invitations and the distributor's network -------------------------------------------------------------


def test_direct_relationship_request_link_points_at_the_sandbox_portal_for_the_distributor(
    url: str, client: PartnerCenterClient
) -> None:
    link = client.relationship_request_link().url

    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == url
    assert parts.path.lower() == "/adminportal/home"
    query = parse_qs(parts.query)
    assert query["invType"] == ["ResellerRelationship"]
    assert query["partnerId"] == [DISTRIBUTOR]
    assert query["msppId"] == ["0"]


def test_indirect_relationship_request_link_names_the_reseller_and_the_distributor(
    url: str, client: PartnerCenterClient
) -> None:
    link = client.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url

    assert link.startswith(url)
    query = parse_qs(urlsplit(link).query)
    assert query["invType"] == ["IndirectResellerRelationship"]
    assert query["partnerId"] == [FABRIKAM]
    assert query["msppId"] == ["1234567"]
    assert query["indirectCSPId"] == [DISTRIBUTOR]
    sent = logged_requests(url, "/v1/customers/relationshiprequests")[-1]["target"]
    assert f"indirectResellerId={FABRIKAM}" in sent
    assert f"indirectCloudSolutionProviderId={DISTRIBUTOR}" in sent


def test_relationship_request_link_for_a_reseller_outside_the_network_is_a_permanent_error(
    client: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.relationship_request_link(
            indirect_reseller_tenant_id=TAILSPIN, indirect_provider_tenant_id=DISTRIBUTOR
        )

    assert raised.value.status == 400
    assert raised.value.code == 800016


def test_indirect_resellers_follows_next_links_across_pages_of_two(
    url: str, client: PartnerCenterClient
) -> None:
    resellers = client.indirect_resellers()

    assert {r.tenant_id for r in resellers} == {FABRIKAM, ADATUM, LITWARE}
    by_mpn = {r.mpn_id: r for r in resellers}
    assert by_mpn["1234567"].name == "Fabrikam IT Services"
    assert by_mpn["1234567"].state == "Active"
    pages = logged_requests(url, "/v1/relationships")
    assert len(pages) == 2  # 3 resellers, 2 per page
    assert "seekOperation=Next" in pages[1]["target"]


def test_indirect_resellers_follows_every_page_when_pages_hold_one(
    url: str, client: PartnerCenterClient
) -> None:
    control(url, "POST", "config", {"relationships_page_size": 1})

    assert len(client.indirect_resellers()) == 3
    assert len(logged_requests(url, "/v1/relationships")) == 3


def test_agreement_status_is_signed_for_fabrikam_and_not_for_litware(client: PartnerCenterClient) -> None:
    assert client.agreement_status(mpn_id="1234567").signed is True
    assert client.agreement_status(tenant_id=FABRIKAM).signed is True
    assert client.agreement_status(mpn_id="3456789").signed is False
    assert client.agreement_status(tenant_id=LITWARE).signed is False


def test_agreement_status_for_an_unknown_mpn_id_is_a_permanent_error_with_microsofts_code(
    client: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.agreement_status(mpn_id="9999999")

    assert raised.value.code == 2200


# -- accepting invitations on the admin-portal page --------------------------------------------------------


def test_customer_accepts_an_indirect_invitation_on_the_portal_page_and_becomes_a_customer_of_both(
    sandbox_server: SandboxServer, client: PartnerCenterClient
) -> None:
    assert client.get_customer(CONTOSO) is None
    link = client.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url

    invitation, confirmation = accept_invitation(link, "contoso.com")

    assert "Fabrikam IT Services (Partner ID 1234567) invites you" in invitation.page_text
    (form,) = invitation.forms
    assert {"invType", "partnerId", "msppId", "indirectCSPId"} <= form.hidden
    assert form.fields["partnerId"] == FABRIKAM
    assert "Fabrikam IT Services is now authorized" in confirmation.page_text
    assert "with Northwind Distribution as its indirect provider" in confirmation.page_text
    assert "contoso.onmicrosoft.com" in confirmation.page_text

    customer = client.get_customer(CONTOSO)
    assert customer is not None
    assert customer.tenant_id == CONTOSO
    assert customer.domain == "contoso.onmicrosoft.com"
    assert customer.company_name == "Contoso Ltd"
    relationships = client.customer_relationships(CONTOSO)
    assert [(r.tenant_id, r.name, r.mpn_id) for r in relationships] == [
        (FABRIKAM, "Fabrikam IT Services", "1234567")
    ]
    assert sandbox_server.state.customers[CONTOSO].reseller_ids == [FABRIKAM]


def test_customer_accepts_a_direct_invitation_and_has_no_reseller(client: PartnerCenterClient) -> None:
    link = client.relationship_request_link().url

    invitation, confirmation = accept_invitation(link, "wingtiptoys.onmicrosoft.com")

    assert "Northwind Distribution invites you" in invitation.page_text
    assert "is now authorized as the Cloud Solution Provider of Wingtip Toys" in confirmation.page_text
    customer = client.get_customer(WINGTIP)
    assert customer is not None and customer.company_name == "Wingtip Toys"
    assert client.customer_relationships(WINGTIP) == []


def test_portal_refuses_a_domain_no_tenant_uses_and_nothing_changes(client: PartnerCenterClient) -> None:
    link = client.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url
    with requests.Session() as browser:
        opened = browser.get(link, timeout=10)
        (form,) = parse_page(opened.text).forms

        refused = submit(browser, opened.url, form, domain="nobody-here-42.onmicrosoft.com")

    assert refused.status_code == 400
    text = parse_page(refused.text).page_text
    assert "We couldn't find an organization with the domain" in text
    assert "is now authorized" not in text
    assert client.get_customer(CONTOSO) is None


def test_seeded_customer_alpine_ski_house_is_found_with_its_reseller(client: PartnerCenterClient) -> None:
    customer = client.get_customer(ALPINE)

    assert customer is not None and customer.domain == "alpineskihouse.onmicrosoft.com"
    assert [r.tenant_id for r in client.customer_relationships(ALPINE)] == [FABRIKAM]


# -- customers listing -------------------------------------------------------------------------------------


def test_customers_page_returns_one_page_and_a_next_link_to_replay(
    url: str, client: PartnerCenterClient
) -> None:
    for domain in ("contoso.onmicrosoft.com", "wingtiptoys.onmicrosoft.com"):
        control(url, "POST", "accept", {"domain": domain})

    first = client.customers_page(size=2)
    assert len(first.items) == 2
    assert first.next is not None
    assert first.next.uri.startswith("/v1/customers?")
    assert dict(first.next.headers).get("MS-ContinuationToken")

    second = client.customers_page(continuation=first.next)
    assert len(second.items) == 1
    assert second.next is None
    ids = {c.tenant_id for c in first.items + second.items}
    assert ids == {ALPINE, CONTOSO, WINGTIP}
    assert client.call_count == 2


# -- address validation, customer creation, agreements, orders --------------------------------------------


def test_validate_address_verifies_a_complete_us_address(client: PartnerCenterClient) -> None:
    result = client.validate_address(REDMOND)

    assert result.verified
    assert result.status == "VerifiedShippable"
    assert result.original is not None and result.original.address_line1 == "1 Microsoft Way"


def test_validate_address_returns_suggestions_for_a_street_without_a_number(
    client: PartnerCenterClient,
) -> None:
    partial = Address(
        country="US", city="Redmond", state="wa", address_line1="Microsoft Way", postal_code="98052"
    )

    result = client.validate_address(partial)

    assert not result.verified
    assert result.status == "StreetPartial"
    assert result.message and "AddressLine1" in result.message
    (suggestion,) = result.suggested_addresses
    assert suggestion.address_line1 == "1 Microsoft Way"
    assert suggestion.state == "WA"
    assert suggestion.postal_code == "98052-0001"


def test_validate_address_without_city_or_postal_code_is_not_verified_and_names_the_fields(
    client: PartnerCenterClient,
) -> None:
    result = client.validate_address(Address(country="US", city="", state="WA", address_line1="1 Main St"))

    assert result.status == "None"
    assert result.suggested_addresses == ()
    assert result.message and "PostalCode" in result.message and "City" in result.message


def test_create_customer_with_associated_partner_is_idempotent_on_the_request_id(
    sandbox_server: SandboxServer, client: PartnerCenterClient
) -> None:
    request_id = str(uuid.uuid4())

    created = client.create_customer(new_customer("fourthcoffee"), request_id=request_id)
    again = client.create_customer(new_customer("fourthcoffee"), request_id=request_id)

    assert again.tenant_id == created.tenant_id
    assert created.domain == "fourthcoffee.onmicrosoft.com"
    assert created.company_name == "Fourth Coffee"
    assert created.admin_user_name == "admin@fourthcoffee.onmicrosoft.com"
    assert created.admin_password
    matching = [
        tenant_id
        for tenant_id in sandbox_server.state.customers
        if sandbox_server.state.tenants[tenant_id].initial_domain == "fourthcoffee.onmicrosoft.com"
    ]
    assert matching == [created.tenant_id]
    stored = sandbox_server.state.customers[created.tenant_id]
    assert stored.associated_partner_id == FABRIKAM
    assert stored.billing_profile["defaultAddress"]["firstName"] == "Jane"

    customer = client.get_customer(created.tenant_id)
    assert customer is not None and customer.associated_partner_id == FABRIKAM
    assert [r.tenant_id for r in client.customer_relationships(created.tenant_id)] == [FABRIKAM]
    assert client.domain_availability("fourthcoffee").available is False


def test_create_customer_with_a_taken_domain_is_a_permanent_error_with_microsofts_code(
    client: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.create_customer(new_customer("contoso"), request_id=str(uuid.uuid4()))

    assert raised.value.status == 400
    assert raised.value.code == 600011
    assert "not available" in (raised.value.description or "")


def test_create_customer_for_a_reseller_outside_the_network_is_refused_with_800016(
    client: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.create_customer(
            new_customer("fourthcoffee", associated_partner_id=TAILSPIN), request_id=str(uuid.uuid4())
        )

    assert raised.value.code == 800016
    assert client.domain_availability("fourthcoffee").available is True


def test_new_customer_accepts_the_mca_then_orders_with_the_reseller_as_partner_of_record(
    sandbox_server: SandboxServer, client: PartnerCenterClient
) -> None:
    created = client.create_customer(new_customer("fourthcoffee"), request_id=str(uuid.uuid4()))
    tenant_id = created.tenant_id

    template_id = client.customer_agreement_template_id()
    assert template_id == MCA_TEMPLATE_ID
    client.accept_customer_agreement(
        tenant_id,
        contact=AgreementContact(first_name="Jane", last_name="Doe", email="jane@fourthcoffee.example"),
        template_id=template_id,
        date_agreed=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        request_id=str(uuid.uuid4()),
    )
    assert sandbox_server.state.customers[tenant_id].mca_accepted

    cart = client.create_cart(
        tenant_id, [CartLine(OFFER, 3, partner_id_on_record="1234567")], request_id=str(uuid.uuid4())
    )
    assert cart.status == "Active"
    stored_cart = sandbox_server.state.carts[cart.id]
    assert stored_cart["partnerOnRecordAttestationAccepted"] is True
    assert stored_cart["lineItems"][0]["participants"] == [
        {"key": "transaction_reseller", "value": "1234567"}
    ]

    result = client.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4()))
    assert result.errors == ()
    (order,) = result.orders
    assert order.status == "completed"
    assert sandbox_server.state.orders[order.id]["lineItems"][0]["partnerIdOnRecord"] == "1234567"

    assert client.get_order(tenant_id, order.id) == order


def test_checkout_before_the_mca_is_refused_with_13605_and_succeeds_after_acceptance(
    client: PartnerCenterClient,
) -> None:
    tenant_id = client.create_customer(new_customer("fourthcoffee"), request_id=str(uuid.uuid4())).tenant_id
    cart = client.create_cart(
        tenant_id, [CartLine(OFFER, 1, partner_id_on_record="1234567")], request_id=str(uuid.uuid4())
    )

    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4()))
    assert raised.value.status == 403
    assert raised.value.code == 13605

    client.accept_customer_agreement(
        tenant_id,
        contact=AgreementContact(first_name="Jane", last_name="Doe", email="jane@fourthcoffee.example"),
        template_id=client.customer_agreement_template_id(),
        date_agreed=datetime.now(UTC),
        request_id=str(uuid.uuid4()),
    )
    assert len(client.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4())).orders) == 1


def test_checkout_reports_per_order_errors_inside_a_successful_answer(client: PartnerCenterClient) -> None:
    tenant_id = ALPINE  # accepted in the portal, so the MCA is already in place
    cart = client.create_cart(
        tenant_id,
        [
            CartLine(OFFER, 1, partner_id_on_record="1234567"),
            CartLine("UNAVAILABLE1:0001:0001", 1, partner_id_on_record="1234567"),
        ],
        request_id=str(uuid.uuid4()),
    )

    result = client.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4()))

    assert len(result.orders) == 1
    assert [(e.code, e.description) for e in result.errors] == [(800010, "Inventory is not available.")]


@pytest.mark.parametrize(
    ("mpn_id", "status", "code"),
    [
        pytest.param("4567890", 400, 800016, id="reseller-outside-the-network"),
        pytest.param("3456789", 403, 900123, id="reseller-without-a-signed-mpa"),
        pytest.param("5123456", 404, 2072, id="the-distributor-itself"),
    ],
)
def test_cart_with_an_invalid_partner_of_record_is_a_permanent_error_with_microsofts_code(
    sandbox_server: SandboxServer, client: PartnerCenterClient, mpn_id: str, status: int, code: int
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.create_cart(
            ALPINE, [CartLine(OFFER, 1, partner_id_on_record=mpn_id)], request_id=str(uuid.uuid4())
        )

    assert not isinstance(raised.value, TransientPartnerCenterError)
    assert raised.value.status == status
    assert raised.value.code == code
    assert mpn_id in (raised.value.description or "")
    assert raised.value.request_id
    assert sandbox_server.state.carts == {}


def test_orders_of_a_tenant_without_a_relationship_are_refused_with_20002(
    client: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.get_order(CONTOSO, "any-order")

    assert raised.value.status == 403
    assert raised.value.code == 20002


def test_get_order_of_an_unknown_order_is_not_found(client: PartnerCenterClient) -> None:
    with pytest.raises(NotFound) as raised:
        client.get_order(ALPINE, "0" * 32)

    assert raised.value.code == 800005


# -- GDAP --------------------------------------------------------------------------------------------------


def test_gdap_relationship_is_created_locked_approved_on_the_portal_page_and_becomes_active(
    url: str, client: PartnerCenterClient
) -> None:
    created = client.create_gdap_relationship(
        display_name="Northwind GDAP Contoso",
        customer_tenant_id=CONTOSO,
        customer_name="Contoso Ltd",
        role_definition_ids=[DIRECTORY_READERS, HELPDESK_ADMINISTRATOR],
        duration_days=730,
        auto_extend=True,
        request_id=str(uuid.uuid4()),
    )
    assert created.status == "created"
    assert created.etag

    client.lock_gdap_for_approval(created.id, etag=created.etag, request_id=str(uuid.uuid4()))
    assert client.get_gdap_relationship(created.id).status == "approvalPending"

    link = client.gdap_approval_link(created.id)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == url
    prefix = "/partners/invitation/granularAdminRelationships/"
    assert parts.fragment.startswith(prefix)
    relationship_id = unquote(parts.fragment[len(prefix) :])
    assert relationship_id == created.id

    with requests.Session() as browser:
        # The browser never sends the fragment: the home page's script reads it and opens the GDAP page.
        home = browser.get(link, timeout=10)
        assert home.status_code == 200
        assert any("granularAdminRelationships" in s for s in parse_page(home.text).scripts)
        page_url = f"{url}/AdminPortal/granularAdminRelationships/{relationship_id}"
        opened = browser.get(page_url, timeout=10)
        assert opened.status_code == 200
        details = parse_page(opened.text)
        assert "Northwind GDAP Contoso" in details.page_text
        assert "Directory Readers" in details.page_text and "Helpdesk Administrator" in details.page_text
        (form,) = details.forms
        assert form.buttons == ["Approve"]

        approved = submit(browser, page_url, form)

    assert approved.status_code == 200, approved.text
    assert "is now active" in parse_page(approved.text).page_text
    active = client.get_gdap_relationship(created.id)
    assert active.status == "active"
    assert active.end_date_time is not None
    assert (active.end_date_time - datetime.now(UTC)).days in (729, 730)
    # A retry looks it up by its unique display name; then the roles go to the partner's security group.
    assert client.find_gdap_relationship("Northwind GDAP Contoso").id == created.id
    assert client.find_gdap_relationship("Northwind GDAP Fabrikam") is None
    assignment = client.create_gdap_access_assignment(
        created.id,
        security_group_id="6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b",
        role_definition_ids=[HELPDESK_ADMINISTRATOR],
        request_id=str(uuid.uuid4()),
    )
    assert assignment.status == "pending" and assignment.role_definition_ids == (HELPDESK_ADMINISTRATOR,)
    assert [a.id for a in client.gdap_access_assignments(created.id)] == [assignment.id]
    assert client.get_gdap_access_assignment(created.id, assignment.id).status == "active"


def test_gdap_page_has_no_approve_button_before_the_relationship_is_locked(
    url: str, client: PartnerCenterClient
) -> None:
    created = _small_gdap(client, "Not yet locked")

    page = requests.get(f"{url}/AdminPortal/granularAdminRelationships/{created.id}", timeout=10)

    assert page.status_code == 200
    assert parse_page(page.text).forms == []
    assert "has not sent this request for approval yet" in page.text
    assert client.get_gdap_relationship(created.id).status == "created"


def test_gdap_errors_from_graph_are_permanent_with_graphs_code(client: PartnerCenterClient) -> None:
    with pytest.raises(NotFound) as missing:
        client.get_gdap_relationship(f"{uuid.uuid4()}-{uuid.uuid4()}")
    assert missing.value.code == "NotFound"

    created = _small_gdap(client, "Locked twice")
    client.lock_gdap_for_approval(created.id)
    with pytest.raises(PermanentPartnerCenterError) as twice:
        client.lock_gdap_for_approval(created.id)
    assert twice.value.status == 400
    assert twice.value.code == "BadRequest"


# -- webhooks ----------------------------------------------------------------------------------------------


def test_register_webhook_creates_then_replaces_the_registration(
    sandbox_server: SandboxServer, client: PartnerCenterClient
) -> None:
    first = client.register_webhook(
        "https://storefront.example/csp/webhooks/partner-center/",
        ["reseller-relationship-accepted-by-customer"],
    )
    assert first.events == ("reseller-relationship-accepted-by-customer",)

    second = client.register_webhook(
        "https://storefront.example/csp/webhooks/v2/",
        ["indirect-reseller-relationship-accepted-by-customer", "granular-admin-relationship-approved"],
    )

    assert second.url == "https://storefront.example/csp/webhooks/v2/"
    assert second.events == (
        "indirect-reseller-relationship-accepted-by-customer",
        "granular-admin-relationship-approved",
    )
    assert sandbox_server.state.webhook_registration["WebhookUrl"] == second.url
    assert ("PUT", "/webhooks/v1/registration") in client.calls


def test_webhook_rejection_accepts_a_delivery_signed_by_the_sandbox_and_rejects_a_tampered_body(
    url: str, sandbox_server: SandboxServer, client: PartnerCenterClient
) -> None:
    body = json.dumps(
        {
            "EventName": "indirect-reseller-relationship-accepted-by-customer",
            "ResourceUri": f"{url}/v1/customers/{CONTOSO}",
            "ResourceName": CONTOSO,
            "AuditUri": None,
            "ResourceChangeUtcDate": "2024-05-01T12:30:00.000Z",
        }
    ).encode()
    headers = {
        "Authorization": f"Signature {sandbox_server.signer.sign(body)}",
        "x-ms-certificate-url": url + CERTIFICATE_PATH,
        "x-ms-signature-algorithm": "rsa-sha256",
    }

    assert client.webhook_rejection(body, headers) is None
    assert client.webhook_rejection(body.replace(CONTOSO.encode(), WINGTIP.encode()), headers) is not None
    foreign = {**headers, "x-ms-certificate-url": "https://attacker.example/cert.pem"}
    assert client.webhook_rejection(body, foreign) is not None
    assert (
        client.webhook_rejection(body, {**headers, "Authorization": "Signature bm90IGEgc2lnbmF0dXJl"})
        is not None
    )
    assert client.calls.count(("GET", CERTIFICATE_PATH)) == 1  # cached after the first fetch


def test_portal_acceptance_delivers_a_signed_webhook_that_the_client_verifies(
    client: PartnerCenterClient, receiver: WebhookReceiver
) -> None:
    client.register_webhook(receiver.url, ["indirect-reseller-relationship-accepted-by-customer"])
    link = client.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url

    accept_invitation(link, "contoso.onmicrosoft.com")
    headers, body = receiver.received.get(timeout=5)

    event = json.loads(body)
    assert event["EventName"] == "indirect-reseller-relationship-accepted-by-customer"
    assert event["ResourceName"] == CONTOSO
    assert client.webhook_rejection(body, headers) is None
    assert client.webhook_rejection(body + b" ", headers) is not None


# -- faults through real HTTP ------------------------------------------------------------------------------


def test_a_429_is_retried_after_the_retry_after_delay_and_then_succeeds(
    url: str, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    client.token_provider.token("partner_center")  # sign in first, so the fault hits the call itself
    faults(url, throttle={"count": 1, "retry_after": 0})

    assert client.agreement_status(mpn_id="1234567").signed is True

    assert sleeps == [0.0]
    attempts = logged_requests(url, "/v1/compliance/csp/agreementstatus")
    assert len(attempts) == 2
    assert attempts[0]["ms_request_id"] == attempts[1]["ms_request_id"]


def test_a_429_retry_after_header_sets_the_delay(
    url: str, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    client.token_provider.token("partner_center")
    faults(url, throttle={"count": 1, "retry_after": 7})

    assert len(client.indirect_resellers()) == 3

    assert sleeps == [7.0]  # the no-op sleep was asked for Retry-After, not the backoff


def test_a_503_is_retried_with_the_same_ms_request_id_and_creates_exactly_one_customer(
    url: str, sandbox_server: SandboxServer, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    client.token_provider.token("partner_center")
    request_id = str(uuid.uuid4())
    faults(url, fail={"count": 1, "status": 503})

    created = client.create_customer(new_customer("fourthcoffee"), request_id=request_id)

    attempts = [r for r in logged_requests(url, "/v1/customers") if r["method"] == "POST"]
    assert [r["ms_request_id"] for r in attempts] == [request_id, request_id]
    assert len(sleeps) == 1
    assert created.tenant_id in sandbox_server.state.customers
    domains = [t.initial_domain for t in sandbox_server.state.tenants.values()]
    assert domains.count("fourthcoffee.onmicrosoft.com") == 1


def test_a_503_on_graph_is_retried_and_then_succeeds(
    url: str, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    created = _small_gdap(client, "Retried read")
    faults(url, fail={"count": 1, "status": 503})

    assert client.get_gdap_relationship(created.id).status == "created"
    assert len(sleeps) == 1


def test_5xx_beyond_the_retry_budget_is_a_transient_error_carrying_the_request_id(
    url: str, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    client.token_provider.token("partner_center")
    faults(url, fail={"count": 10, "status": 503})

    with pytest.raises(TransientPartnerCenterError) as raised:
        client.domain_exists("contoso.onmicrosoft.com")

    assert raised.value.status == 503
    attempts = logged_requests(url, "/v1/domains/")
    assert len(attempts) == 3  # one try + max_retries=2
    assert {r["ms_request_id"] for r in attempts} == {raised.value.request_id}
    assert len(sleeps) == 2


def test_a_malformed_json_answer_is_a_permanent_error_with_a_clear_message(
    url: str, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    client.token_provider.token("partner_center")
    faults(url, malformed={"count": 1})

    with pytest.raises(PermanentPartnerCenterError) as raised:
        client.customers_page()

    assert not isinstance(raised.value, TransientPartnerCenterError)
    assert "unexpected answer from Microsoft to customers_page" in str(raised.value)
    assert "not JSON" in str(raised.value)
    assert raised.value.status == 200
    assert sleeps == []  # bad content is not retried
    assert len(client.customers_page().items) == 1  # the next answer is fine again


def test_a_reset_connection_is_retried_and_then_succeeds(
    url: str, client: PartnerCenterClient, sleeps: Sleeps
) -> None:
    client.token_provider.token("partner_center")
    faults(url, reset={"count": 1})

    assert client.domain_exists("contoso.com") is True

    attempts = logged_requests(url, "/v1/domains/")
    assert len(attempts) == 2
    assert attempts[0]["ms_request_id"] == attempts[1]["ms_request_id"]
    assert len(sleeps) == 1


def test_timeouts_beyond_the_retry_budget_are_a_transient_error_after_bounded_retries(
    url: str, sleeps: Sleeps
) -> None:
    client = make_client(url, sleeps, timeout=0.3, max_retries=2, backoff=0.01)
    client.token_provider.token("partner_center")
    faults(url, timeout={"count": 3, "seconds": 1})

    with pytest.raises(TransientPartnerCenterError) as raised:
        client.indirect_resellers()

    assert "timed out" in str(raised.value)
    attempts = logged_requests(url, "/v1/relationships")
    assert len(attempts) == 3
    assert {r["ms_request_id"] for r in attempts} == {raised.value.request_id}
    assert sleeps == [pytest.approx(0.01), pytest.approx(0.03)]  # exponential backoff


def test_a_create_that_timed_out_is_retried_with_the_same_request_id_and_not_duplicated(
    url: str, sandbox_server: SandboxServer, sleeps: Sleeps
) -> None:
    client = make_client(url, sleeps, timeout=0.3, max_retries=2, backoff=0.01)
    client.token_provider.token("partner_center")
    request_id = str(uuid.uuid4())
    faults(url, timeout={"count": 1, "seconds": 1})

    created = client.create_customer(new_customer("fourthcoffee"), request_id=request_id)

    attempts = [r for r in logged_requests(url, "/v1/customers") if r["method"] == "POST"]
    assert [r["ms_request_id"] for r in attempts] == [request_id, request_id]
    domains = [t.initial_domain for t in sandbox_server.state.tenants.values()]
    assert domains.count("fourthcoffee.onmicrosoft.com") == 1
    assert created.tenant_id in sandbox_server.state.customers
