"""Quantities rounded for display, exact in the data (docs/cli.md, "Quantities on screen
and on paper"): the HTML and PDF invoices, and the command's text output."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cloudrate.cli import main
from cloudrate.invoice.render import Formatter, invoice_context, render_html
from cloudrate.invoice.render._format import QUANTITY_PLACES, SCIENTIFIC_FROM

PLAN = """\
name: Display
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: '0.0000000001'}
"""
LEAST = Decimal(1).scaleb(-QUANTITY_PLACES)

quantities = st.decimals(
    min_value=Decimal("-1E+40"), max_value=Decimal("1E+40"), allow_nan=False, places=None
) | st.builds(lambda d, e: d.scaleb(e), st.decimals(-9999, 9999, places=0), st.integers(-70, 58))


def parse(text: str) -> Decimal:
    """Read back an en_US display ("1,234.5", "1.2346E26")."""
    return Decimal(text.replace(",", ""))


class TestFormatterNumber:
    @given(quantities)
    def test_rounded_for_display_never_misleading(self, value):
        """Any quantity shows within half a unit of its last shown place (4 decimals, or
        4 decimals of the mantissa from 10**18 on), never as 0 when it is not 0, and in
        at most 30 characters."""
        shown = Formatter("en_US", "EUR").number(value)
        assert len(shown) <= 30
        if value and abs(value) < LEAST / 2:
            assert shown == ("<0.0001" if value > 0 else ">-0.0001")
            return
        if abs(value) >= SCIENTIFIC_FROM:
            assert "E" in shown
            mantissa, exponent = shown.split("E")
            assert len(mantissa.split(".")[-1]) <= QUANTITY_PLACES or "." not in mantissa
            assert abs(parse(shown) - value) <= Decimal("0.00005").scaleb(int(exponent))
            return
        assert "E" not in shown
        if shown.startswith(("<", ">")):  # rounds to 0 though not below half the last place
            assert abs(value) < LEAST
            return
        assert abs(parse(shown) - value) <= LEAST / 2
        decimals = shown.split(".")[1] if "." in shown else ""
        assert len(decimals) <= QUANTITY_PLACES and not decimals.endswith("0")

    @pytest.mark.parametrize(
        ("locale", "value", "shown"),
        [
            ("de_DE", "1234567.00005", "1.234.567,0001"),
            ("fr_FR", "0.00001", "<0,0001"),
            ("en_IN", "12345678.5", "1,23,45,678.5"),
            ("de_DE", "1E+59", "1E59"),
        ],
    )
    def test_in_the_locale(self, locale, value, shown):
        """Separators and grouping are the locale's, in every form of the rule."""
        assert Formatter(locale, "EUR").number(Decimal(value)).replace("\u202f", " ") == (
            shown.replace("\u202f", " ")
        )


def _invoice(tmp_path, quantity: str):
    from cloudrate import load_plan, rate
    from cloudrate.invoice import Customer, assemble
    from cloudrate.usage import read_usage_csv

    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "account,metric,quantity,start,end\n"
        f"acme,vcpu_hours,{quantity},2026-10-01T00:00:00Z,2026-10-02T00:00:00Z\n",
        encoding="utf-8",
    )
    result = rate(load_plan(plan), read_usage_csv(usage))
    return plan, usage, assemble(result, Customer(id="acme", name="acme"))


LONG = "123456789012345678901234567.1234567890123456789012345678901"


class TestInvoiceDocuments:
    def test_html_rounds_and_keeps_the_exact_value_in_the_tooltip(self, tmp_path):
        """The HTML cell shows the rounded quantity; its title holds the exact one."""
        _, _, invoice = _invoice(tmp_path, LONG)
        page = render_html(invoice, locale="en_US")
        cell = re.search(r'<td class="num" title="([^"]*)">([^<]*)</td>', page)
        assert cell is not None
        assert Decimal(cell.group(1)) == invoice.lines[0].quantity == Decimal(LONG)
        assert cell.group(2) == Formatter("en_US", "EUR").number(Decimal(LONG)) == "1.2346E26"
        line = invoice_context(invoice, locale="en_US")["lines"][0]
        assert line["quantity"] == "1.2346E26"

    def test_json_keeps_every_digit(self, tmp_path):
        """The invoice JSON is untouched by the display rule: the exact quantity."""
        _, _, invoice = _invoice(tmp_path, LONG)
        assert json.loads(invoice.to_json())["lines"][0]["quantity"] == LONG

    def test_invoice_command_json_to_stdout_is_the_library_document(self, tmp_path):
        """invoice --out - writes exactly to_json(indent=None) of each invoice."""
        plan, usage, invoice = _invoice(tmp_path, LONG)
        res = CliRunner().invoke(
            main,
            ["invoice", "--plan", str(plan), "--usage", str(usage), "--period", "2026-10",
             "--out", "-"],
        )  # fmt: skip
        assert res.exit_code == 0, res.stderr
        assert res.stdout == invoice.to_json(indent=None) + "\n"


class TestTextOutput:
    def test_long_quantities_print_rounded(self, tmp_path):
        """The text bill of a 61-digit quantity prints (no decimal context error) with at
        most 4 decimals."""
        plan, usage, _ = _invoice(tmp_path, LONG)
        res = CliRunner().invoke(main, ["rate", "--plan", str(plan), "--usage", str(usage)])
        assert res.exit_code == 0, res.output
        row = next(line for line in res.stdout.splitlines() if line.startswith("compute"))
        quantity = row.split()[1]
        assert quantity == "123,456,789,012,345,678,901,234,567.1235"
