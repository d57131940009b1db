"""The API's one parser: JSON in UTF-8, a bounded depth, and a 4xx in the API's error shape for anything else."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32  # the deepest body the API takes is an order: object > lines > line (3 levels)


def _deeper_than(data: Any, limit: int) -> bool:
    """True when lists and objects nest more than `limit` levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser that answers 400 to text that is not UTF-8 or is nested absurdly deep."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels.") from None
        except ParseError as error:
            if "codec can't decode" in str(error.detail):
                raise ParseError("The body is not UTF-8 text: send JSON encoded in UTF-8.") from None
            raise
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise ParseError(f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels.")
        return data
