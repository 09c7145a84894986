"""The ``cloudrate invoice`` command."""

from __future__ import annotations

import json
import sys
import types

import pytest
from click.testing import CliRunner

from cloudrate import sample_plan_path, sample_usage_path
from cloudrate.cli import main

BASE = [
    "invoice",
    "--plan",
    str(sample_plan_path()),
    "--usage",
    str(sample_usage_path()),
    "--period",
    "2026-10",
]


def run(*args: str):
    return CliRunner().invoke(main, [*BASE, *args])


class TestInvoiceCommand:
    def test_json_drafts_one_per_account(self, tmp_path):
        res = run("--out", str(tmp_path), "--tax-rate", "19")
        assert res.exit_code == 0, res.output
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["acme_2026-10.json", "globex_2026-10.json", "initech_2026-10.json"]
        data = json.loads((tmp_path / "acme_2026-10.json").read_text(encoding="utf-8"))
        assert data["number"] is None and data["taxes"][0]["rate"]["percent"] == "19"
        assert data["total"] == str(
            sum(map(__import__("decimal").Decimal, (data["subtotal"], data["tax_total"])))
        )

    def test_finalise_numbers_and_refuses_to_number_twice(self, tmp_path):
        """With a sequence file the invoices are numbered; running again on the same
        drafts is refused and takes no number."""
        db = tmp_path / "seq.sqlite"
        args = (
            "--out",
            str(tmp_path / "out"),
            "--sequence-db",
            str(db),
            "--issued-on",
            "2026-11-01",
            "--customers",
            str(self._customers(tmp_path)),
        )
        res = run(*args)
        assert res.exit_code == 0, res.output
        data = json.loads((tmp_path / "out" / "INV-2026-0001.json").read_text(encoding="utf-8"))
        assert data["customer"]["name"] == "ACME GmbH" and data["due_on"] == "2026-12-01"
        again = run(*args)
        assert again.exit_code == 2 and "already holds number 1" in again.output
        from cloudrate.invoice import SQLiteSequenceStore

        assert SQLiteSequenceStore(db).last("default/invoice/2026") == 3

    @staticmethod
    def _customers(tmp_path):
        path = tmp_path / "customers.yaml"
        path.write_text(
            "acme: {name: ACME GmbH, country: DE, address: [Hauptstr. 1]}\n", encoding="utf-8"
        )
        return path

    def test_csv_and_xlsx(self, tmp_path):
        assert run("--out", str(tmp_path), "--format", "csv").exit_code == 0
        assert (tmp_path / "invoices.csv").exists()
        assert (tmp_path / "invoices-summary.csv").exists()
        res = run("--out", str(tmp_path), "--format", "xlsx", "--customer", "acme")
        assert res.exit_code == 0 and (tmp_path / "invoices.xlsx").exists()

    def test_usage_outside_period(self, tmp_path):
        res = CliRunner().invoke(main, [*BASE[:-1], "2026-09", "--out", str(tmp_path)])
        assert res.exit_code == 2 and "outside the period 2026-09" in res.output

    def test_issue_date_required_to_finalise(self, tmp_path):
        res = run("--out", str(tmp_path), "--sequence-db", str(tmp_path / "s.db"))
        assert res.exit_code == 2 and "--issued-on" in res.output

    def test_pdf_without_renderer_is_a_clear_error(self, tmp_path, monkeypatch):
        monkeypatch.setitem(sys.modules, "cloudrate.invoice.render", None)
        res = run("--out", str(tmp_path), "--format", "pdf")
        assert res.exit_code == 2 and "needs the invoice renderer" in res.output

    def test_pdf_and_html_call_the_renderer(self, tmp_path, monkeypatch):
        seen = []
        fake = types.ModuleType("cloudrate.invoice.render")
        fake.render_pdf = lambda _invoice, locale=None: seen.append(locale) or b"%PDF-1.7"
        fake.render_html = lambda _invoice: "<html></html>"
        monkeypatch.setitem(sys.modules, "cloudrate.invoice.render", fake)
        assert run("--out", str(tmp_path), "--format", "pdf", "--locale", "de_DE").exit_code == 0
        assert (tmp_path / "acme_2026-10.pdf").read_bytes() == b"%PDF-1.7"
        assert seen == ["de_DE"] * 3
        res = run("--out", str(tmp_path), "--format", "html", "--locale", "de_DE")
        assert res.exit_code == 0, res.output
        assert (tmp_path / "globex_2026-10.html").read_text(encoding="utf-8") == "<html></html>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "expected a mapping of account"),
        ("acme: 3\n", "expected a mapping such as"),
        ("acme: {nmae: x}\n", "unknown field"),
    ],
)
def test_bad_customer_files(tmp_path, text, message):
    from cloudrate.cli._invoice import load_customers
    from cloudrate.exceptions import InvoiceError

    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvoiceError, match=message):
        load_customers(path)
