"""Many PDFs at once: the same bytes as one by one, in order, errors naming the invoice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import attrs
import pytest

import cloudrate
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Invoice,
    Net,
    Numbering,
    TaxRate,
    assemble,
)
from cloudrate.invoice.render import LocaleError, RenderError, Seller, render_pdf, render_pdfs

pytest.importorskip("typst")

LOCALES = ("de_DE", "fr_FR", "en_US", "ja_JP")
FAILING_TEMPLATE = """\
#let d = json(bytes(sys.inputs.data))
#if d.customer.name.contains("FAIL") { panic("refused " + d.customer.name) }
#d.customer.name
"""


@pytest.fixture(name="invoices", scope="module")
def _invoices() -> list[Invoice]:
    """Six finalised invoices of the sample month, each its own customer and locale."""
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    numbering, store = Numbering("INV-{year}-{seq:04}"), InMemorySequenceStore()
    accounts = [bill.account for bill in result.bills]
    out = []
    for i in range(6):
        customer = Customer(
            id=accounts[i % len(accounts)],
            name=f"Customer {i} 株式会社",
            country="DE",
            locale=LOCALES[i % len(LOCALES)],
        )
        draft = assemble(result, customer, taxes=TaxRate(percent="19"))
        out.append(draft.finalise(numbering, store, issued_on=date(2026, 11, 1), terms=Net(14)))
    return out


@pytest.fixture(name="one_by_one", scope="module")
def _one_by_one(invoices: list[Invoice]) -> list[bytes]:
    return [render_pdf(invoice) for invoice in invoices]


class TestRenderPdfs:
    @pytest.mark.parametrize("workers", [1, 2])
    def test_same_bytes_as_one_by_one(self, invoices, one_by_one, workers):
        """Every PDF is byte for byte the one-by-one render, in the input's order."""
        assert list(render_pdfs(invoices, workers=workers, chunksize=2)) == one_by_one

    def test_default_workers(self, invoices, one_by_one):
        """Without *workers* (few invoices: in this process) the bytes are the same."""
        assert list(render_pdfs(iter(invoices))) == one_by_one

    @pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
    def test_every_start_method(self, invoices, one_by_one, start_method):
        """Workers started by a fork server or spawned give the same bytes."""
        got = render_pdfs(invoices[:3], workers=2, chunksize=1, start_method=start_method)
        assert list(got) == one_by_one[:3]

    def test_order_kept_with_reversed_input(self, invoices, one_by_one):
        """Outputs follow the input order, whatever order the workers finish in."""
        got = list(render_pdfs(reversed(invoices), workers=2, chunksize=1))
        assert got == one_by_one[::-1]

    def test_options_reach_the_workers(self, invoices):
        """Locale, seller and date given once apply to every invoice, as in render_pdf."""
        seller, now = Seller(name="Example Cloud GmbH"), date(2026, 11, 20)
        expected = [render_pdf(i, "fr_FR", seller=seller, now=now) for i in invoices[:2]]
        got = render_pdfs(invoices[:2], "fr_FR", seller=seller, now=now, workers=2)
        assert list(got) == expected

    def test_empty(self):
        """No invoices, no PDFs and no pool."""
        assert list(render_pdfs([], workers=2)) == []

    @pytest.mark.parametrize("workers", [1, 2])
    def test_locale_error_names_the_invoice(self, invoices, one_by_one, workers):
        """An invoice without a locale fails where its PDF would be, after the ones
        before it, naming its number."""
        broken = attrs.evolve(invoices[2], customer=Customer(id="x", name="No Locale"))
        got = render_pdfs([*invoices[:2], broken, invoices[3]], workers=workers, chunksize=2)
        assert next(got) == one_by_one[0]
        assert next(got) == one_by_one[1]
        with pytest.raises(LocaleError, match=f"invoice {broken.number}"):
            next(got)

    @pytest.mark.parametrize("workers", [1, 2])
    def test_typst_error_names_the_invoice(self, tmp_path: Path, invoices, workers):
        """A Typst failure is a RenderError naming the invoice and Typst's message."""
        template = tmp_path / "strict.typ"
        template.write_text(FAILING_TEMPLATE, encoding="utf-8")
        broken = attrs.evolve(invoices[1], customer=Customer(id="x", name="FAIL", locale="de_DE"))
        got = render_pdfs([invoices[0], broken], template=template, workers=workers)
        assert next(got) == render_pdf(invoices[0], template=template)
        with pytest.raises(RenderError, match=f"invoice {broken.number}: .*refused FAIL"):
            next(got)

    def test_input_read_lazily(self, invoices):
        """Invoices are pulled a bounded number ahead of the PDFs yielded."""
        pulled = []

        def source():
            for invoice in invoices:
                pulled.append(invoice.number)
                yield invoice

        got = render_pdfs(source(), workers=2, chunksize=1)
        next(got)
        assert len(pulled) <= 2 * 2 * 1 + 1
        got.close()

    @pytest.mark.parametrize(("option", "value"), [("workers", 0), ("chunksize", 0)])
    def test_bad_sizes_are_refused(self, option, value):
        """Zero workers or a zero chunk size is refused with the value seen."""
        with pytest.raises(ValueError, match=f"{option} must be 1 or more"):
            render_pdfs([], **{option: value})


class TestCommandsWritePdfs:
    """``cloudrate invoice`` and ``cloudrate bill`` write each PDF as render_pdf would."""

    SOURCES = ("--plan", str(cloudrate.sample_plan_path()), "--usage")

    def test_invoice_command(self, tmp_path: Path):
        """Every file is the one-by-one render of its finalised invoice."""
        from click.testing import CliRunner

        from cloudrate.cli import main
        from cloudrate.invoice import invoice_from_json

        args = [*self.SOURCES, str(cloudrate.sample_usage_path()), "--period", "2026-10"]
        common = [
            "--locale",
            "en_US",
            "--sequence-db",
            str(tmp_path / "s.db"),
            "--issued-on",
            "2026-11-01",
        ]
        for fmt in ("json", "pdf"):
            res = CliRunner().invoke(
                main,
                ["invoice", *args, *common, "--format", fmt, "--out", str(tmp_path / fmt)],
            )
            assert res.exit_code == 0, res.output
        jsons = sorted((tmp_path / "json").glob("*.json"))
        assert len(jsons) == 3
        for path in jsons:
            invoice = invoice_from_json(path.read_text(encoding="utf-8"))
            pdf = (tmp_path / "pdf" / path.name).with_suffix(".pdf").read_bytes()
            assert pdf == render_pdf(invoice, "en_US")

    def test_bill_command_renders_only_missing_files(self, tmp_path: Path):
        """A rerun after a PDF was lost writes that PDF again, the same bytes, and
        leaves the others untouched."""
        from click.testing import CliRunner

        from cloudrate.cli import main

        out = tmp_path / "out"
        args = [
            "bill",
            "--period",
            "2026-10",
            *self.SOURCES,
            str(cloudrate.sample_usage_path()),
            "--store",
            str(tmp_path / "b.db"),
            "--out",
            str(out),
            "--format",
            "pdf",
            "--locale",
            "de_DE",
        ]
        assert CliRunner().invoke(main, args).exit_code == 0
        pdfs = sorted(out.glob("*.pdf"))
        assert len(pdfs) == 3
        before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pdfs}
        pdfs[1].unlink()
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        assert {p: p.read_bytes() for p in pdfs} == {p: b for p, (b, _) in before.items()}
        assert pdfs[0].stat().st_mtime_ns == before[pdfs[0]][1]
        assert pdfs[2].stat().st_mtime_ns == before[pdfs[2]][1]
