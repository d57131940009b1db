"""Every named route of the project, and the helpers the security tests share to build requests for them."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def named_routes() -> Iterator[tuple[str, URLPattern]]:
    """Yields `namespace:name` and the pattern of every named route, however deeply included."""

    def walk(patterns, namespace: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern

    seen = set()
    for name, pattern in walk(get_resolver().url_patterns, ""):
        if name not in seen:
            seen.add(name)
            yield name, pattern


def route_names() -> set[str]:
    return {name for name, _ in named_routes()}
