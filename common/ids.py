"""Microsoft's ids: tenants, objects, role templates and request ids are GUIDs (8-4-4-4-12 hex digits)."""

import re

GUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
GUID = re.compile(GUID_PATTERN)


def is_guid(value: str | None) -> bool:
    """The whole value is a GUID (either case)."""
    return bool(value) and GUID.fullmatch(value) is not None
