"""The layout holds: every module sits in a layer, private names stay in their package,
and cloudrate modules are imported at the top of a module unless they are optional extras.

import-linter (run by CI) checks the layers, cycles and private modules; these tests
check what its contracts do not say.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cloudrate"

#: Imports of cloudrate modules allowed inside functions, and why.
LAZY = {
    "cloudrate": {"cloudrate.cli"},  # the front door loads the sample paths on first use
    "cloudrate.cli": {"cloudrate.cli._main"},  # click loads when the command runs
    "cloudrate.cli._batch": {"cloudrate.rating.columnar"},  # the optional pyarrow extra
    "cloudrate.cli._serve": {"cloudrate.server"},  # Starlette loads only for `serve`
    # the dask and spark extras load only when a distributed run is asked for
    "cloudrate.billing._distributed": {
        "cloudrate.rating.distributed",
        "cloudrate.rating.columnar",
        "cloudrate.rating.columnar.lines",
    },
    "cloudrate.billing._shipped": {
        "cloudrate.rating.distributed",
        "cloudrate.rating.columnar.lines",
    },
    # the columnar billing run loads pyarrow and numpy only when a table is billed
    "cloudrate.billing._fast": {"cloudrate.rating.columnar.lines"},
    "cloudrate.billing._run": {"cloudrate.rating.columnar.lines"},
    # numpy is an optional extra: the vectorised twins import it when first called
    "cloudrate.plans._graduated": {"cloudrate._intmath"},
    "cloudrate.plans._package": {"cloudrate._intmath"},
    "cloudrate.plans._per_unit": {"cloudrate._intmath"},
    "cloudrate.plans._quantity_rounding": {"cloudrate._intmath"},
    "cloudrate.plans._tiers": {"cloudrate._intmath"},
    "cloudrate.plans._volume": {"cloudrate._intmath"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = _package(module, path).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


MODULES = sorted((_module_name(p), p) for p in SRC.rglob("*.py"))


def _imports(path: Path, module: str) -> list[tuple[ast.ImportFrom, str, bool]]:
    """Every ``from ... import`` of a cloudrate module: (node, target, inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for sub in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, path)
            if target.startswith("cloudrate"):
                found.append((node, target, id(node) in inner))
    return found


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [name.strip() for layer in layers for name in layer.split("|")]


class TestLayout:
    def test_every_module_sits_in_a_layer(self):
        """A new top-level module or package must be placed in the layers contract."""
        layers = set(_layers())
        for module, _ in MODULES:
            top = ".".join(module.split(".")[:2])
            assert module == "cloudrate" or top in layers or top == "cloudrate._hypothesis", (
                f"{module} is in no layer of pyproject.toml's importlinter contract"
            )

    def test_every_layer_is_described(self):
        """docs/architecture.md names every layer of the contract."""
        text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
        for name in _layers():
            assert f"`{name}`" in text, f"docs/architecture.md does not describe {name}"

    @pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
    def test_private_names_stay_in_their_package(self, module, path):
        """A name starting with _ is imported only from inside the package that has it."""
        here = _package(module, path)
        for node, target, _ in _imports(path, module):
            owner = (
                target
                if (SRC.parent / Path(*target.split("."))).is_dir()
                else (target.rpartition(".")[0])
            )
            inside = here == owner or here.startswith(owner + ".")
            private = [a.name for a in node.names if a.name.startswith("_")]
            modules = [
                n
                for n in private
                if (SRC.parent / Path(*target.split("."), n)).exists()
                or (SRC.parent / Path(*target.split("."), n + ".py")).exists()
            ]
            names = [n for n in private if n not in modules]
            assert inside or not names, f"{module} imports private {names} from {target}"

    @pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
    def test_imports_sit_at_the_top(self, module, path):
        """cloudrate modules are imported inside a function only to keep an optional extra
        (or the command line) lazy, as listed in LAZY."""
        allowed = LAZY.get(module, set())
        for node, target, inside in _imports(path, module):
            if inside:
                assert target in allowed, (
                    f"{module} line {node.lineno} imports {target} inside a function"
                )
