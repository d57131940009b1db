"""What drf-spectacular cannot say from the code alone: the error codes each answer carries, and the links from
create to read (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""

from __future__ import annotations

import re
from typing import Any

from storefront.api.serializers import MAX_ORDER_LINES

ERROR_REF = "#/components/schemas/Error"
_CODE = re.compile(r"`([a-z][a-z_]*[a-z])`")

# operationId of a create -> the reads and actions that take its `id`, by path parameter.
LINKS: dict[str, dict[str, tuple[str, str]]] = {
    "authorizations_create": {
        "GetAuthorization": ("authorizations_retrieve", "authorization_id"),
        "VerifyAuthorization": ("authorizations_verify", "authorization_id"),
    },
    "orders_create": {"GetOrder": ("orders_retrieve", "order_id")},
    "end_customers_create": {"GetEndCustomer": ("end_customers_retrieve", "end_customer_id")},
}


# Rules of a request body that its serializer cannot express: merged into the component.
COMPONENT_RULES: dict[str, dict[str, Any]] = {
    "OrderInput": {
        "properties": {"lines": {"minItems": 1, "maxItems": MAX_ORDER_LINES}},
        # A new tenant or an existing one, never both.
        "oneOf": [{"required": ["domain_prefix"]}, {"required": ["authorization"]}],
    },
}


def _operations(schema: dict[str, Any]):
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, operation


def _is_error_body(response: dict[str, Any]) -> bool:
    media = response.get("content", {}).get("application/json", {})
    return media.get("schema", {}).get("$ref") == ERROR_REF


def error_codes_per_answer(schema: dict[str, Any]) -> None:
    """Each error answer's `code` is an enum of the codes its description names (`invalid`, `domain_taken`...),
    so a client knows every code it may meet and a schema check fails on an undocumented one."""
    for _, operation in _operations(schema):
        for response in operation["responses"].values():
            if not _is_error_body(response):
                continue
            codes = list(dict.fromkeys(_CODE.findall(response.get("description", ""))))
            if codes:
                response["content"]["application/json"]["schema"] = {
                    "allOf": [
                        {"$ref": ERROR_REF},
                        {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}},
                    ]
                }


def create_to_read_links(schema: dict[str, Any]) -> None:
    """OpenAPI links from each create to the operations that take the new object's id (clients and
    schemathesis's stateful phase follow them)."""
    present = {operation.get("operationId") for _, operation in _operations(schema)}
    for _, operation in _operations(schema):
        links = LINKS.get(operation.get("operationId"), {})
        for status_code, response in operation["responses"].items():
            if not status_code.startswith("2"):
                continue
            for name, (target, parameter) in links.items():
                if target in present:
                    response.setdefault("links", {})[name] = {
                        "operationId": target,
                        "parameters": {parameter: "$response.body#/id"},
                        "description": f"The `id` in the answer is the `{parameter}` of `{target}`.",
                    }


def body_rules(schema: dict[str, Any]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    for name, rules in COMPONENT_RULES.items():
        component = components.get(name)
        if component is None:
            continue
        for prop, extra in rules.get("properties", {}).items():
            component["properties"][prop].update(extra)
        for key, value in rules.items():
            if key != "properties":
                component[key] = value


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    body_rules(result)
    error_codes_per_answer(result)
    create_to_read_links(result)
    return result
