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
# Text a browser, a mail client or Microsoft would read as more than text: control characters (C0 and C1, so line
# breaks and tabs too), the invisible marks that reverse how text is displayed (bidi embeddings, overrides and
# isolates), and markup.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MARKUP = re.compile(r"[<>]|&(?:lt|gt|#x?[0-9a-f]+);|javascript:", re.IGNORECASE)
# A web address in a name: a scheme, "www.", or a host name whose last label before the extension has two or more
# characters ("evil.example", not the initials in "J.P.Morgan").
_WEB_ADDRESS = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|(?<![\w.])(?:[\w-]+\.)*[\w-]{2,}\.[a-z]{2,24}(?![\w.])", re.IGNORECASE
)


def _letters_and_digits(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch)[0] in {"L", "N"})


def validate_plain_text(value: str, what: str) -> None:
    """No invisible control or direction characters and no markup: Microsoft refuses them, pages must not run them."""
    if _CONTROL.search(value or ""):
        raise ValidationError(
            f"The {what} contains an invisible character (a line break, tab or text-direction mark): "
            "retype it on one line."
        )
    if _MARKUP.search(value or ""):
        raise ValidationError(f"The {what} cannot contain < or > or web markup.")


def _common_bans(value: str, what: str) -> None:
    stripped = value.strip()
    validate_plain_text(value, what)
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
    if _WEB_ADDRESS.search(stripped):
        raise ValidationError(
            "Leave web addresses and domain names (such as www.contoso.com or contoso.com) out of the company name."
        )
    if _DOMAIN_EXTENSION.search(stripped):
        raise ValidationError('Leave domain extensions such as ".com" out of the company name.')


def validate_address_text(value: str, what: str) -> None:
    """A street, city or state: plain text on one line with a letter or digit, as Microsoft's address needs."""
    if not (value or "").strip():
        return
    validate_plain_text(value, what)
    if not _letters_and_digits(value):
        raise ValidationError(f"The {what} must contain letters or digits.")


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


STATE_REQUIRED = {
    "US": "Enter the two-letter state code, for example WA or NY.",
    "CA": "Enter the two-letter province code, for example ON or BC.",
    "AU": 'Enter the state\'s full name, for example "New South Wales".',
}


def normalize_state(country: str, state: str) -> str:
    """US states and Canadian provinces as their two-letter codes; Australian states by full name."""
    state = (state or "").strip()
    country = (country or "").upper()
    validate_address_text(state, "state")
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
