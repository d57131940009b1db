"""Text someone typed, made safe to show inside our own words."""

import re
import unicodedata

QUOTED_MAX_LENGTH = 80
_QUOTE_MARKS = re.compile('["“”„‟«»‹›]')


def quoted(name: str) -> str:
    """A name someone typed (an organisation's, a customer's), set apart in quotes on one line, so text such as
    "Reset your password at evil.example" reads as a name and never as the storefront's own words."""
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in str(name or ""))
    text = _QUOTE_MARKS.sub("'", " ".join(text.split()))
    if len(text) > QUOTED_MAX_LENGTH:
        text = text[: QUOTED_MAX_LENGTH - 1].rstrip() + "…"
    return f"“{text}”"
