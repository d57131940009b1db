"""Live mode without a Partner Center connection: buyers are told ordering is paused, and nothing changes."""

import pytest
from django.urls import reverse

from csp import connect
from csp.connection import partner_center, reset_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(settings):
    settings.PARTNER_CENTER_MODE = "live"
    settings.PARTNER_CENTER_REFRESH_TOKEN = ""
    settings.PARTNER_CENTER_CLIENT_SECRET = "secret"
    reset_clients()
    yield settings
    reset_clients()


@pytest.mark.parametrize("step", ["checkout:service_details", "checkout:review"])
def test_buyers_are_told_ordering_is_paused_and_nothing_is_asked_or_changed(
    client, owner, owner_draft, live, step
):
    client.force_login(owner)
    before = (owner_draft.domain_prefix, owner_draft.mpn_id, dict(owner_draft.lines))

    answer = client.get(reverse(step))
    posted = client.post(reverse(step), {"domain_prefix": "newco", "accepted": "on"})

    for response in (answer, posted):
        assert response.status_code == 503
        assert connect.ORDERING_PAUSED_MESSAGE in response.content.decode()
    owner_draft.refresh_from_db()
    assert (owner_draft.domain_prefix, owner_draft.mpn_id, dict(owner_draft.lines)) == before
    assert partner_center().call_count == 0


def test_the_htmx_check_answers_the_pause_in_place(client, owner, owner_draft, live):
    client.force_login(owner)

    answer = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "newco", "check": "domain"},
        HTTP_HX_REQUEST="true",
    )

    assert answer.status_code == 200
    assert connect.ORDERING_PAUSED_MESSAGE in answer.content.decode()
