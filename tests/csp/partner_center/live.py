"""The Partner Center client against the running sandbox (fixture `sandbox`, tests/pc_sandbox.py): the sandbox's
demo ids, its control API, and a browser for its admin-portal pages."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from csp.partner_center.auth import token_provider_for
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.schemas import Address, NewCustomer, PartnerCenterConfig

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


class Sleeps(list[float]):
    """A no-op `sleep` that remembers what the client asked for, so retries cost no wall time."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(base_url: str, sleeps: Sleeps, **options: Any) -> PartnerCenterClient:
    config = PartnerCenterConfig.for_sandbox(base_url, **options)
    return PartnerCenterClient(config, token_provider=token_provider_for(config), sleep=sleeps)


def control(base_url: str, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{base_url}/_sandbox/{path}", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def faults(base_url: str, **spec: Any) -> None:
    control(base_url, "POST", "faults", spec)


def logged_requests(base_url: str, path_part: str) -> list[dict[str, Any]]:
    """What the sandbox received (not counting control calls) whose target contains `path_part`."""
    return [r for r in control(base_url, "GET", "requests")["requests"] if path_part in r["target"]]


def sandbox_new_customer(prefix: str, **overrides: Any) -> NewCustomer:
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


def small_gdap(client: PartnerCenterClient, display_name: str):
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
