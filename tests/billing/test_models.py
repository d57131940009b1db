"""What makes a billing address complete, as Microsoft needs it to create a customer."""

import pytest

from billing.models import billing_address_complete
from tests.factories import EndCustomerFactory

COMPLETE = {"address_line1": "1 Microsoft Way", "city": "Redmond", "postal_code": "98052", "country": "US"}


def test_street_city_postal_code_and_country_make_an_address_complete():
    assert billing_address_complete(COMPLETE)
    assert billing_address_complete({**COMPLETE, "address_line2": "", "state": ""})


@pytest.mark.parametrize("missing", sorted(COMPLETE))
def test_an_address_without_one_of_them_is_not_complete(missing):
    assert not billing_address_complete({**COMPLETE, missing: ""})
    assert not billing_address_complete({name: value for name, value in COMPLETE.items() if name != missing})
    # Blanks are missing too: the worker reads an order's stored profile, whoever wrote it (admin, an import).
    assert not billing_address_complete({**COMPLETE, missing: " \t\u00a0"})
    assert not billing_address_complete({**COMPLETE, missing: None})


@pytest.mark.django_db
def test_a_profile_row_answers_with_the_same_rule():
    assert EndCustomerFactory().has_billing_address
    assert not EndCustomerFactory(city="").has_billing_address
    assert not EndCustomerFactory(country="").has_billing_address
