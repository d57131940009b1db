"""Microsoft's customer data rules (partner-center-api.md section 14), checked before Microsoft can refuse them."""

import re
import unicodedata

from django.core.exceptions import ValidationError

BARE_ABBREVIATIONS = {
    "llc",
    "inc",
    "ltd",
    "corp",
    "co",
    "gmbh",
    "plc",
    "sa",
    "ag",
    "bv",
    "srl",
    "pty",
    "limited",
}
US_STATES = set(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
    ]
)
CA_PROVINCES = set(["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"])
AU_STATES = {
    "Australian Capital Territory",
    "New South Wales",
    "Northern Territory",
    "Queensland",
    "South Australia",
    "Tasmania",
    "Victoria",
    "Western Australia",
}
_DOMAIN_EXTENSION = re.compile(r"\.(com|net|org|io|biz|info|co\.uk|de|fr)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f<>]")


def _letters_and_digits(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch)[0] in {"L", "N"})


def _common_bans(value: str, what: str) -> None:
    stripped = value.strip()
    if _CONTROL.search(value):
        raise ValidationError(f"The {what} cannot contain < > or control characters.")
    if not _letters_and_digits(stripped):
        raise ValidationError(
            f"The {what} must contain letters or digits, not only spaces or special characters."
        )
    parts = stripped.split()
    if len(parts) > 1 and all(len(_letters_and_digits(p)) <= 1 for p in parts):
        raise ValidationError(
            f'The {what} cannot be single characters separated by spaces (such as "1 2 3").'
        )
    compact = _letters_and_digits(stripped).lower()
    if len(compact) >= 3 and len(set(compact)) == 1:
        raise ValidationError(f'The {what} cannot be one character repeated (such as "999").')


def validate_company_name(value: str) -> None:
    """Microsoft refuses names of one character, only symbols, bare abbreviations or repeated characters."""
    stripped = (value or "").strip()
    if len(stripped) < 2:
        raise ValidationError("The company name must be at least 2 characters long.")
    if len(stripped) > 255:
        raise ValidationError("The company name must be shorter than 256 characters.")
    _common_bans(stripped, "company name")
    if _letters_and_digits(stripped).lower() in BARE_ABBREVIATIONS:
        raise ValidationError("Enter the full company name, not only an abbreviation such as LLC or Inc.")
    if _DOMAIN_EXTENSION.search(stripped):
        raise ValidationError('Leave domain extensions such as ".com" out of the company name.')


def validate_person_name(value: str) -> None:
    """A contact's first or last name: more than a single character, and a real name."""
    stripped = (value or "").strip()
    if len(stripped) > 50:
        raise ValidationError("Names can be at most 50 characters long.")
    if len(stripped) < 2 and not any(unicodedata.east_asian_width(ch) in {"W", "F"} for ch in stripped):
        raise ValidationError("Enter the full name, not a single character.")
    _common_bans(stripped, "name")


def validate_phone(value: str) -> None:
    if value and not re.fullmatch(r"\+?[0-9 ()./-]{6,25}", value.strip()):
        raise ValidationError("Enter a phone number with digits, for example +1 425 555 0101.")


def normalize_state(country: str, state: str) -> str:
    """US states and Canadian provinces as their two-letter codes; Australian states by full name."""
    state = (state or "").strip()
    country = (country or "").upper()
    if country == "US" and state:
        if state.upper() not in US_STATES:
            raise ValidationError("Enter the two-letter state code, for example WA or NY.")
        return state.upper()
    if country == "CA" and state:
        if state.upper() not in CA_PROVINCES:
            raise ValidationError("Enter the two-letter province code, for example ON or BC.")
        return state.upper()
    if country == "AU" and state:
        match = next((s for s in AU_STATES if s.lower() == state.lower()), None)
        if match is None:
            raise ValidationError('Enter the state\'s full name, for example "New South Wales".')
        return match
    return state


def validate_postal_code(country: str, postal_code: str) -> None:
    code = (postal_code or "").strip()
    if country == "US" and code and not re.fullmatch(r"\d{5}(-\d{4})?", code):
        raise ValidationError("Enter a US ZIP code such as 98052 or 98052-6399.")
    if code and not re.fullmatch(r"[A-Za-z0-9 -]{2,12}", code):
        raise ValidationError("Enter a postal code of letters, digits, spaces or hyphens.")
