"""Values and settings several test folders share."""

# The customer agreement as the API takes it (Microsoft's attestation fields).
API_AGREEMENT = {
    "accepted": True,
    "first_name": "Megan",
    "last_name": "Bowen",
    "email": "megan.bowen@contoso.com",
    "phone": "+1 425 555 0199",
}


def lookup_rate(settings, rate: str | None) -> None:
    """Sets the lookup budget (`LOOKUP_THROTTLE_RATE`) for one test, e.g. "2/min"; None: no limit."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "lookup": rate},
    }
