"""Exports: JSON schema and round trip, CSV and XLSX with formula neutralising, notebooks."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudrate import BillingPeriod, _sheets
from cloudrate.exceptions import CloudrateError, InvoiceError
from cloudrate.fx import ExchangeRate
from cloudrate.invoice import (
    SCHEMA,
    Customer,
    InMemorySequenceStore,
    Net,
    Numbering,
    TaxRate,
    assemble,
    invoice_from_dict,
    invoice_from_json,
    invoices_to_pandas,
    neutralise,
    rows,
    write_csv,
    write_xlsx,
)

from .conftest import bill_of

EVIL = Customer(
    id="acme",
    name='=HYPERLINK("http://evil","x")',
    address=["@SUM(A1)", "+49 30 1234"],
    country="DE",
)


@pytest.fixture(name="full")
def _full(acme, october):
    """An invoice with a discount, tax, exchange rate, payment and credit note."""
    store = InMemorySequenceStore()
    fx = ExchangeRate(base="EUR", quote="USD", rate="1.0842", on=date(2026, 10, 30))
    inv = assemble(
        bill_of("100.00", "-10.00", kinds=("charge", "discount")),
        acme,
        october,
        taxes=TaxRate(percent="19"),
        exchange_rate=fx,
        display_decimals=3,
    )
    inv = inv.finalise(Numbering(), store, issued_on=date(2026, 11, 1), terms=Net(30))
    inv = inv.pay("50.00", date(2026, 11, 2), reference="tx")
    _, inv = inv.credit(
        Numbering.credit_notes(),
        store,
        issued_on=date(2026, 11, 3),
        amounts={"c0": "10.00"},
        reason="goodwill",
    )
    return inv


class TestJson:
    def test_schema_fields_and_decimal_strings(self, full):
        data = json.loads(full.to_json())
        assert data["schema"] == SCHEMA == "cloudrate.invoice/1"
        assert data["number"] == "INV-2026-0001" and data["status"] == "unpaid"
        assert data["subtotal"] == "90.00" and data["tax_total"] == "17.10"
        assert data["total"] == "107.10" and data["amount_due"] == "45.20"
        assert data["credited"] == "11.90" and data["paid"] == "50.00"
        assert data["converted_total"] == {"amount": "116.12", "currency": "USD"}
        assert data["lines"][1]["kind"] == "discount" and data["lines"][1]["amount"] == "-10.00"
        assert [e["kind"] for e in data["timeline"]] == ["issued", "payment", "credit_note", "due"]
        assert data["display_decimals"] == 3

    def test_keys_in_schema_order(self, full):
        """The top-level keys come in the order docs/invoices.md lists them."""
        assert list(full.to_dict()) == [
            *("schema", "id", "number", "state", "status", "customer", "period", "currency"),
            *("issued_on", "due_on", "terms", "lines", "subtotal", "discount_total"),
            *("tax_method", "taxes", "tax_total", "total", "notes", "paid", "credited"),
            *("amount_due", "credit_balance", "payments", "credit_notes", "timeline"),
            *("exchange_rate", "converted_total", "display_decimals", "rounding"),
            *("voided_on", "void_reason"),
        ]

    def test_round_trip(self, full, acme, october):
        """JSON text back to an Invoice gives an equal invoice, and the same text."""
        back = invoice_from_json(full.to_json())
        assert back == full and back.to_json() == full.to_json()
        draft = assemble(bill_of("1.00"), acme, october)
        assert invoice_from_dict(draft.to_dict()) == draft

    def test_edited_document_refused(self, full):
        data = full.to_dict()
        data["total"] = "1.00"
        with pytest.raises(InvoiceError, match="total"):
            invoice_from_dict(data)
        with pytest.raises(InvoiceError, match="schema"):
            invoice_from_dict({"schema": "other"})
        del data["lines"]
        with pytest.raises(InvoiceError, match=r"not a cloudrate\.invoice/1 document"):
            invoice_from_dict({**data, "total": "107.10"})

    @pytest.mark.parametrize(
        ("edit", "message"),
        [
            (lambda d: d["lines"][0].update(amount=107.1), r"decimal text .*\(got float 107\.1\)"),
            (lambda d: d["lines"][0].update(quantity=2), r"decimal text .*\(got int 2\)"),
            (lambda d: d.update(currency="XXX1"), "not an ISO 4217 code"),
        ],
    )
    def test_figures_are_text_and_currencies_known(self, full, edit, message):
        """A JSON number (a float, never exact) or an unknown currency is an InvoiceError
        naming the fix; they were taken as a float's digits or raised moneyed's error."""
        data = json.loads(full.to_json())
        edit(data)
        with pytest.raises(InvoiceError, match=message):
            invoice_from_dict(data)

    def test_a_document_that_is_not_an_object(self):
        with pytest.raises(InvoiceError, match="is a JSON object"):
            invoice_from_dict([])  # type: ignore[arg-type]

    def test_same_input_same_bytes(self, acme, october):
        def make():
            return assemble(bill_of("1.00"), acme, october).to_json()

        assert make() == make()


class TestNeutralise:
    @given(st.text())
    def test_neutralised_text_never_starts_like_a_formula(self, text):
        """Whatever the text, the exported cell does not start with a formula character,
        and only apostrophes were added."""
        safe = neutralise(text)
        assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert safe.replace("'", "") == text.replace("'", "")  # only apostrophes added

    def test_invoice_exports_use_the_shared_helper(self):
        """One neutralise for every export: the invoice's is the spreadsheet helpers' own."""
        assert neutralise is _sheets.neutralise

    @given(st.text())
    def test_keeping_numbers_only_spares_plain_numbers(self, text):
        """With keep_numbers, the one difference is that a plain number keeps its sign."""
        kept = _sheets.neutralise(text, keep_numbers=True)
        if kept != neutralise(text):  # a plain-number part (between , ; tab CR LF) kept
            assert kept.replace("'", "") == text.replace("'", "")

    @given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
    def test_plain_numbers_are_kept_when_asked(self, number):
        text = f"{number:f}"
        assert _sheets.neutralise(text, keep_numbers=True) == text


class TestCsv:
    def test_lines_layout_neutralises_text_keeps_negative_numbers(self, october):
        inv = assemble(bill_of("100.00", "-10.00", kinds=("charge", "discount")), EVIL, october)
        buf = io.StringIO()
        write_csv([inv], buf)
        table = list(csv.DictReader(io.StringIO(buf.getvalue())))
        assert table[0]["customer_name"] == '\'=HYPERLINK("http://evil","x")'
        assert table[1]["amount"] == "-10.00"  # a number, not neutralised
        assert table[0]["number"] == ""  # a draft has no number

    def test_summary_layout_and_overdue(self, full, tmp_path):
        path = tmp_path / "invoices.csv"
        write_csv([full], path, "summary", now=date(2026, 12, 5))
        with path.open(encoding="utf-8", newline="") as handle:
            table = list(csv.DictReader(handle))
        assert table == [
            {
                "number": "INV-2026-0001",
                "id": "acme/2026-10",
                "customer_id": "acme",
                "customer_name": "ACME GmbH",
                "period": "2026-10",
                "status": "overdue",
                "issued_on": "2026-11-01",
                "due_on": "2026-12-01",
                "currency": "EUR",
                "subtotal": "90.00",
                "tax_total": "17.10",
                "total": "107.10",
                "paid": "50.00",
                "amount_due": "45.20",
            }
        ]

    def test_unknown_layout(self):
        """A misspelt layout from an untyped caller is refused with the layouts named."""
        with pytest.raises(InvoiceError, match="layout: one of lines, summary"):
            rows([], "wide")  # type: ignore[arg-type]
        with pytest.raises(InvoiceError, match="layout: one of lines, summary"):
            write_csv([], io.StringIO(), "wide")  # type: ignore[arg-type]


class TestRows:
    def test_lines_layout_cells(self, full):
        """One row per line: the invoice's head, then the line's own cells, typed."""
        header, body = rows([full], "lines")
        assert header[:8] == (
            *("number", "id", "customer_id", "customer_name", "period"),
            *("issued_on", "due_on", "currency"),
        )
        head = ("INV-2026-0001", "acme/2026-10", "acme", "ACME GmbH", "2026-10")
        dates = (date(2026, 11, 1), date(2026, 12, 1), "EUR")
        unit = (None, None, Decimal(1), "EUR", None)  # service, metric, quantity, unit, price
        vat = (Decimal(19), "S", None)
        assert body == [
            (*head, *dates, "c0", "charge", "Line 0", *unit, Decimal("100.00"), *vat),
            (*head, *dates, "c1", "discount", "Line 1", *unit, Decimal("-10.00"), *vat),
        ]

    def test_summary_layout_cells(self, full):
        """One row per invoice; with *now* the status is the day's (overdue)."""
        header, body = rows([full, full], "summary", now=date(2026, 12, 2))
        assert header[5] == "status" and len(body) == 2
        assert body[0] == (
            *("INV-2026-0001", "acme/2026-10", "acme", "ACME GmbH", "2026-10", "overdue"),
            *(date(2026, 11, 1), date(2026, 12, 1), "EUR", Decimal("90.00")),
            *(Decimal("17.10"), Decimal("107.10"), Decimal("50.00"), Decimal("45.20")),
        )
        assert rows([full], "summary")[1][0][5] == "unpaid"

    def test_no_invoices_no_rows(self):
        assert rows([], "lines")[1] == [] and rows([], "summary")[1] == []


class TestXlsx:
    def test_cells_typed_and_neutralised(self, october, tmp_path):
        openpyxl = pytest.importorskip("openpyxl")
        inv = assemble(
            bill_of("100.00", "-10.00", kinds=("charge", "discount")),
            EVIL,
            october,
            taxes=TaxRate(percent="19"),
        )
        path = tmp_path / "inv.xlsx"
        write_xlsx([inv], path)
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["Invoices", "Lines"]
        lines = book["Lines"]
        header = [c.value for c in lines[1]]
        name = lines.cell(row=2, column=header.index("customer_name") + 1)
        assert name.data_type == "s" and name.value.startswith("'=")
        amount = lines.cell(row=3, column=header.index("amount") + 1)
        assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("-10")
        summary = book["Invoices"]
        total = [c.value for c in summary[2]][[c.value for c in summary[1]].index("total")]
        assert Decimal(str(total)) == Decimal("107.10")
        assert not any(c.data_type == "f" for sheet in book for row in sheet for c in row)

    def test_headers_bold_frozen_and_dates_formatted(self, full, tmp_path):
        """Each sheet's header row is bold and frozen; date cells show as yyyy-mm-dd."""
        openpyxl = pytest.importorskip("openpyxl")
        path = tmp_path / "inv.xlsx"
        write_xlsx([full], path)
        book = openpyxl.load_workbook(path)
        for sheet in book:
            assert sheet.freeze_panes == "A2"
            assert all(c.font.bold for c in sheet[1])
            header = [c.value for c in sheet[1]]
            issued = sheet.cell(row=2, column=header.index("issued_on") + 1)
            assert issued.number_format == "yyyy-mm-dd" and issued.value.date() == date(2026, 11, 1)

    def test_same_invoices_same_bytes(self, full, tmp_path):
        pytest.importorskip("openpyxl")
        a, b = io.BytesIO(), io.BytesIO()
        write_xlsx([full], a)
        write_xlsx([full], b)
        assert a.getvalue() == b.getvalue()

    def test_missing_openpyxl_names_the_extra(self, monkeypatch, full):
        monkeypatch.setitem(sys.modules, "openpyxl", None)
        with pytest.raises(InvoiceError, match=r"cloudrate\[xlsx\]"):
            write_xlsx([full], io.BytesIO())


class TestNotebook:
    def test_repr_html_escapes_customer_text(self, october):
        inv = assemble(bill_of("1.00"), Customer(id="acme", name="<script>x</script>"), october)
        out = inv._repr_html_()
        assert "<script>" not in out and "&lt;script&gt;" in out

    def test_repr_html_table(self, full):
        """The caption, the lines and the totals, amounts with the display decimals."""
        cells = "".join(
            f"<tr><td>Line {i}</td><td></td><td>1</td><td>EUR</td><td></td><td>{a}</td></tr>"
            for i, a in ((0, "100.000"), (1, "-10.000"))
        )
        foot = "".join(
            f"<tr><th colspan='5'>{label}</th><th>{a}</th></tr>"
            for label, a in (
                ("Subtotal", "90.000"),
                ("VAT 19% on 90.000", "17.100"),
                ("Total", "107.100"),
                ("Amount due", "45.200"),
            )
        )
        head = "".join(
            f"<th>{h}</th>"
            for h in ("Description", "Service", "Quantity", "Unit", "Unit price", "Amount (EUR)")
        )
        assert full._repr_html_() == (
            "<div><table><caption>INV-2026-0001 · ACME GmbH · 2026-10 · unpaid</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{cells}</tbody><tfoot>{foot}</tfoot>"
            "</table></div>"
        )

    def test_repr_html_uses_display_decimals(self, acme, october):
        """Display decimals change what is shown, not the amounts."""
        inv = assemble(bill_of("1.2345"), acme, BillingPeriod.month(2026, 10), display_decimals=2)
        assert "<th>1.23</th>" in inv._repr_html_() and inv.total.amount == Decimal("1.2345")

    def test_to_pandas(self, full):
        pytest.importorskip("pandas")
        frame = full.to_pandas()
        assert list(frame["amount_exact"]) == [Decimal("100.00"), Decimal("-10.00")]
        assert list(frame["amount"]) == [100.0, -10.0]  # numeric, to plot and aggregate
        assert full.to_dataframe().shape == frame.shape
        summary = invoices_to_pandas([full])
        assert summary.loc[0, "total"] == Decimal("107.10")

    def test_pandas_layout_checked(self, full):
        pytest.importorskip("pandas")
        with pytest.raises(InvoiceError, match="layout"):
            invoices_to_pandas([full], "wide")  # type: ignore[arg-type]

    def test_missing_pandas_names_the_extra(self, monkeypatch, full):
        monkeypatch.setitem(sys.modules, "pandas", None)
        with pytest.raises(CloudrateError, match=r"cloudrate\[pandas\]"):
            full.to_pandas()
