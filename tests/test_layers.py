"""The floors of docs/architecture.md hold: imports run downwards only, and csp has no import circle."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "billing", "csp", "storefront")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = _modules()


def _own(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str) -> set[str]:
    """Every module of ours that `module` imports, at the top or inside a function (type-only imports aside)."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            names = []
        for name in names:
            target = _own(name)
            if target and target != module:
                found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _outside(module: str, allowed: tuple[str, ...]) -> set[str]:
    return {t for t in GRAPH[module] if not any(t == a or t.startswith(a + ".") for a in allowed)}


@pytest.mark.parametrize(
    ("floor", "allowed"),
    [
        ("common", ("common",)),
        ("billing", ("billing", "common")),
        ("csp.partner_center", ("csp.partner_center", "common.ids")),
        ("csp.sandbox", ("csp.sandbox",)),
        ("csp", ("csp", "billing", "common")),
    ],
)
def test_each_floor_imports_only_what_lies_below_it(floor, allowed):
    wrong = {
        module: sorted(_outside(module, allowed))
        for module in MODULES
        if (module == floor or module.startswith(floor + "."))
        and not (floor == "csp" and module.startswith(("csp.sandbox", "csp.partner_center")))
        and _outside(module, allowed)
    }
    assert wrong == {}


def test_csp_has_no_import_circle():
    """A circle hidden in a function-level import is a circle too (tasks and services, admin modules)."""
    csp = {m: {t for t in GRAPH[m] if t.startswith("csp")} for m in MODULES if m.startswith("csp")}
    circles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(csp.get(module, ())):
            if state.get(target) == 1:
                circles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                walk(target)
        stack.pop()
        state[module] = 2

    for module in sorted(csp):
        if module not in state:
            walk(module)
    assert circles == []
