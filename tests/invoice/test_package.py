"""The shape of cloudrate.invoice: options as types, and modules that import one way."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

import cloudrate.invoice as invoice
from cloudrate.invoice import _stats, _tables, _taxes

PACKAGE = Path(invoice.__file__).parent


class TestOptionTypes:
    @pytest.mark.parametrize(
        ("alias", "values"),
        [
            (invoice.TaxMethod, _taxes.TAX_METHODS),
            (invoice.TableLayout, _tables.LAYOUTS),
            (invoice.InvoiceFilter, invoice.FILTERS),
            (invoice.InvoiceState, invoice.STATES),
            (invoice.EmptyBill, ("zero", "none")),
        ],
    )
    def test_run_time_checks_accept_what_the_types_allow(self, alias, values):
        """Each Literal type and the values its run-time check accepts are one list."""
        assert get_args(alias) == tuple(values)

    def test_values_as_before(self):
        assert invoice.STATES == ("draft", "issued", "void")
        assert invoice.FILTERS == _stats.FILTERS == ("all", "unpaid", "paid")
        assert _taxes.TAX_METHODS == ("total", "line")
        assert _tables.LAYOUTS == ("lines", "summary")

    def test_statuses_are_the_states_and_the_derived_ones(self):
        assert set(get_args(invoice.InvoiceStatus)) == {
            *invoice.STATES,
            "unpaid",
            "paid",
            "overdue",
        } - {"issued"}


def _names_cloudrate(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").startswith("cloudrate")
    return isinstance(node, ast.Import) and any(a.name.startswith("cloudrate") for a in node.names)


def _late_imports(path: Path) -> list[str]:
    """Imports of cloudrate modules inside functions of *path* (optional third-party
    packages such as pandas or openpyxl are imported when needed, and are not listed)."""
    functions = [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return [
        f"{path.name}:{inner.lineno}"
        for function in functions
        for inner in ast.walk(function)
        if _names_cloudrate(inner)
    ]


def test_no_module_imports_cloudrate_inside_a_function():
    """Modules import one another at the top (or under TYPE_CHECKING), never inside a
    function, so the import graph lint-imports checks is the whole graph."""
    late = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _late_imports(path)]
    assert late == []
