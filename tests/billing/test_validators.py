"""Microsoft's customer data rules (billing/validators.py), each refused value with its message in the user's terms."""

import pytest
from django.core.exceptions import ValidationError

from billing import validators


def _message(check, *args) -> str:
    with pytest.raises(ValidationError) as raised:
        check(*args)
    return " ".join(raised.value.messages)


@pytest.mark.parametrize("name", ["Contoso Ltd", "Fabrikam IT Services", "AB", "3M", "Müller & Söhne GmbH"])
def test_company_names_microsoft_accepts(name):
    validators.validate_company_name(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("C", "at least 2 characters"),
        ("x" * 256, "shorter than 256"),
        ("LLC", "abbreviation"),
        ("  inc. ", "abbreviation"),
        ("999", "repeated"),
        ("1 2 3", "single characters separated by spaces"),
        ("---", "letters or digits"),
        ("Contoso <b>", "cannot contain < or > or web markup"),
        ("Contoso\x00", "invisible character"),
        ("contoso.com", "domain names"),
    ],
)
def test_company_names_microsoft_refuses(name, message):
    assert message in _message(validators.validate_company_name, name)


@pytest.mark.parametrize("name", ["Jane", "O'Neil", "Jean-Luc", "李"])
def test_person_names_accepted(name):
    validators.validate_person_name(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("J", "single character"),
        ("a" * 51, "at most 50"),
        ("zzz", "repeated"),
        ("<script>", "cannot contain < or > or web markup"),
    ],
)
def test_person_names_refused(name, message):
    assert message in _message(validators.validate_person_name, name)


@pytest.mark.parametrize("phone", ["", "+1 425 555 0101", "(425) 555-0101", "0044.20.7946.0000"])
def test_phones_accepted(phone):
    validators.validate_phone(phone)


@pytest.mark.parametrize("phone", ["call me", "12345", "+1 425 555 0101 ext 5"])
def test_phones_refused_with_an_example(phone):
    assert "+1 425 555 0101" in _message(validators.validate_phone, phone)


@pytest.mark.parametrize(
    ("country", "state", "stored"),
    [
        ("US", "wa", "WA"),
        ("us", " NY ", "NY"),
        ("CA", "on", "ON"),
        ("AU", "new south wales", "New South Wales"),
        ("DE", "Bayern", "Bayern"),
        ("US", "", ""),
    ],
)
def test_states_are_stored_the_way_microsoft_expects(country, state, stored):
    assert validators.normalize_state(country, state) == stored


@pytest.mark.parametrize(
    ("country", "state", "message"),
    [
        ("US", "Washington", "two-letter state code"),
        ("CA", "Ontario", "two-letter province code"),
        ("AU", "NSW", "full name"),
    ],
)
def test_states_refused(country, state, message):
    assert message in _message(validators.normalize_state, country, state)


@pytest.mark.parametrize(
    ("country", "code"),
    [("US", "98052"), ("US", "98052-6399"), ("GB", "SW1A 1AA"), ("NL", "1012-AB"), ("FR", "")],
)
def test_postal_codes_accepted(country, code):
    validators.validate_postal_code(country, code)


@pytest.mark.parametrize(
    ("country", "code", "message"),
    [
        ("US", "ABCDE", "ZIP code"),
        ("US", "9805", "ZIP code"),
        ("GB", "SW1A_1AA", "postal code"),
        ("DE", "1", "postal code"),
    ],
)
def test_postal_codes_refused(country, code, message):
    assert message in _message(validators.validate_postal_code, country, code)
