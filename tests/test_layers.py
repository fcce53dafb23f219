"""Layering of the package (DESIGN.md): a module imports only from its own layer or below.

Layers, lowest first: base (errors, codes, params, _validate, _format, columns and the
private helpers) -> io (and territory) -> analysis -> maps -> atlas / report / exports ->
config -> cli. Every ``import`` statement is read with :mod:`ast`, including the imports
inside functions (a lazy import still is a dependency). The package ``__init__`` re-exports
the public API and is exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "couverture"

#: Rank of each layer, lowest first.
LAYERS = {"base": 0, "io": 1, "analysis": 2, "maps": 3, "render": 4, "config": 5, "cli": 6}

#: First component of a module path (relative to the package) -> layer.
PLACES = {
    "errors": "base",
    "codes": "base",
    "params": "base",
    "_validate": "base",
    "_format": "base",
    "columns": "base",
    "_resources": "base",
    "_progress": "base",
    "_safe": "base",
    "io": "io",
    "territory": "io",
    "analysis": "analysis",
    "maps": "maps",
    "atlas": "render",
    "report": "render",
    "exports": "render",
    "config": "config",
    "cli": "cli",
    "__main__": "cli",
}


#: Known upward imports, each with its reason and its end. Keep this list short.
ALLOWED = {
    # deprecated alias of maps.whatif.whatif_map, removed with it in the next release
    ("analysis.whatif", "maps.whatif"),
    # Territory.coverage() / summary(): the convenience over zone_coverage that DESIGN allows
    # ("the Territory is a thin convenience over them"); lazy import inside the method
    ("territory", "analysis.coverage"),
}


def layer_of(module: str) -> str:
    """Layer of a dotted module name inside the package (``"analysis.fca"`` -> ``"analysis"``).

    >>> layer_of("io.demo"), layer_of("config")
    ('io', 'config')
    """
    head = module.split(".")[0]
    if head not in PLACES:
        raise KeyError(f"module {module!r} has no layer: add it to PLACES in tests/test_layers.py")
    return PLACES[head]


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, package-relative module) of every import of the package in ``path``."""
    name = module_name(path, root)
    is_package = path.name == "__init__.py"
    here = name.split(".") if name else []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "couverture" or alias.name.startswith("couverture."):
                    found.append((node.lineno, alias.name.removeprefix("couverture").lstrip(".")))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and (node.module == "couverture" or node.module.startswith("couverture.")):
                    base = node.module.removeprefix("couverture").lstrip(".")
                else:
                    continue
            else:
                package = here if is_package else here[:-1]
                up = node.level - 1
                package = package[: len(package) - up] if up else package
                base = ".".join(package + ([node.module] if node.module else []))
            if base:
                found.append((node.lineno, base))
            else:  # ``from .. import x`` at the package root: x is a module or a root attribute
                found.extend(
                    (node.lineno, alias.name)
                    for alias in node.names
                    if (root / alias.name).is_dir() or (root / f"{alias.name}.py").is_file()
                )
    return found


def modules(root: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p != root / "__init__.py")


def violations(root: Path = PACKAGE) -> list[str]:
    out = []
    for path in modules(root):
        name = module_name(path, root)
        own = LAYERS[layer_of(name)]
        for line, target in imported_modules(path, root):
            if target and LAYERS[layer_of(target)] > own and (name, target) not in ALLOWED:
                out.append(
                    f"{path.relative_to(root).as_posix()}:{line} ({layer_of(name)}) imports {target} ({layer_of(target)})"
                )
    return out


def test_every_module_has_a_layer():
    for path in modules():
        layer_of(module_name(path))


def test_no_module_imports_from_a_layer_above_it():
    found = violations()
    assert not found, "imports against the layers of DESIGN.md:\n" + "\n".join(found)


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    # a fake package with one upward import hidden in a function: the checker must see it
    pkg = tmp_path / "couverture"
    (pkg / "io").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .cli import main\n", encoding="utf-8")
    (pkg / "errors.py").write_text("", encoding="utf-8")
    (pkg / "cli.py").write_text("from .io import demo\n", encoding="utf-8")
    (pkg / "io" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "io" / "demo.py").write_text(
        "from ..errors import InputError\n\ndef f():\n    from ..analysis.timeline import x\n    import couverture.maps\n",
        encoding="utf-8",
    )
    assert imported_modules(pkg / "io" / "demo.py", pkg) == [(1, "errors"), (4, "analysis.timeline"), (5, "maps")]
    assert violations(pkg) == [
        "io/demo.py:4 (io) imports analysis.timeline (analysis)",
        "io/demo.py:5 (io) imports maps (maps)",
    ]


@pytest.mark.parametrize("module, expected", [("atlas.build", "render"), ("__main__", "cli"), ("territory", "io")])
def test_layer_of(module, expected):
    assert layer_of(module) == expected


def test_allowed_exceptions_are_still_needed():
    # an exception that no longer matches an import must leave the list
    seen = {(module_name(p), t) for p in modules() for _, t in imported_modules(p)}
    assert seen >= ALLOWED


def test_no_import_cycle_between_diagnostic_and_whatif():
    def imports(name):
        return {t for _, t in imported_modules(PACKAGE / (name.replace(".", "/") + ".py"))}

    assert "analysis.whatif" not in imports("analysis.diagnostic")
    assert "analysis.diagnostic" not in imports("analysis.changes")
    assert "config" not in imports("analysis.diagnostic")
