"""Helpers for the Partner Center client tests: constants, documented payloads, a fake token provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "partner_center"
API = "https://api.partnercenter.microsoft.com"
LOGIN = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"
DISTRIBUTOR_TENANT_ID = "d1570b00-0000-4000-8000-000000000001"


def load(name: str) -> Any:
    """A documented payload from tests/fixtures/partner_center."""
    text = (FIXTURES / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


class FakeTokens:
    """Hands out numbered tokens per resource; a 401 test sees the number move after invalidate()."""

    def __init__(self) -> None:
        self.generation = {"partner_center": 1, "graph": 1, "partner_sales": 1}
        self.invalidated: list[str | None] = []

    def token(self, resource: str) -> str:
        return f"{resource}-token-{self.generation[resource]}"

    def invalidate(self, resource: str | None = None) -> None:
        self.invalidated.append(resource)
        for name in [resource] if resource else list(self.generation):
            self.generation[name] += 1
