"""The ``cloudrate invoice`` command."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
import types

import pytest
from click.testing import CliRunner

from cloudrate import sample_plan_path, sample_usage_path
from cloudrate.cli import main
from cloudrate.invoice import SQLiteSequenceStore

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
        assert names == ["acme%2F2026-10.json", "globex%2F2026-10.json", "initech%2F2026-10.json"]
        data = json.loads((tmp_path / "acme%2F2026-10.json").read_text(encoding="utf-8"))
        assert data["number"] is None and data["taxes"][0]["rate"]["percent"] == "19"
        assert data["total"] == str(
            sum(map(__import__("decimal").Decimal, (data["subtotal"], data["tax_total"])))
        )

    def test_finalise_numbers_and_a_rerun_gives_the_same_numbers(self, tmp_path):
        """With a sequence file the invoices are numbered; running again on the same drafts
        gets the same numbers back, takes none and leaves the files as they were."""
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
        before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
        again = run(*args)
        assert again.exit_code == 0, again.output
        assert again.output == res.output
        assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
        assert SQLiteSequenceStore(db).last("default/invoice/2026") == 3

    def test_an_issued_invoice_is_not_rewritten_with_other_content(self, tmp_path):
        """A rerun whose invoice differs from the one already written under its number
        (here the tax rate changed) is refused naming the file, and the file is kept."""
        args = ("--out", str(tmp_path), "--sequence-db", str(tmp_path / "s.db"))
        assert run(*args, "--issued-on", "2026-11-01").exit_code == 0
        kept = (tmp_path / "INV-2026-0001.json").read_bytes()
        res = run(*args, "--issued-on", "2026-11-01", "--tax-rate", "19")
        assert res.exit_code == 2
        assert "INV-2026-0001.json: INV-2026-0001 was already written with other" in res.output
        assert (tmp_path / "INV-2026-0001.json").read_bytes() == kept

    @staticmethod
    def _customers(tmp_path):
        path = tmp_path / "customers.yaml"
        path.write_text(
            "acme: {name: ACME GmbH, country: DE, address: [Hauptstr. 1]}\n", encoding="utf-8"
        )
        return path

    def test_csv_and_xlsx(self, tmp_path):
        """The tables are written whole (atomically) with the bytes the library's writers
        give, and no temporary file is left."""
        from cloudrate.invoice import write_csv, write_xlsx

        assert run("--out", str(tmp_path / "t"), "--format", "csv").exit_code == 0
        res = run("--out", str(tmp_path / "t"), "--format", "xlsx", "--customer", "acme")
        assert res.exit_code == 0, res.output
        names = sorted(p.name for p in (tmp_path / "t").iterdir())
        assert names == ["invoices-summary.csv", "invoices.csv", "invoices.xlsx"]
        invoices = _drafts()
        write_csv(invoices, tmp_path / "lines.csv", "lines")
        write_csv(invoices, tmp_path / "summary.csv", "summary")
        write_xlsx([i for i in invoices if i.customer.id == "acme"], tmp_path / "book.xlsx")
        for mine, theirs in [
            ("invoices.csv", "lines.csv"),
            ("invoices-summary.csv", "summary.csv"),
            ("invoices.xlsx", "book.xlsx"),
        ]:
            assert (tmp_path / "t" / mine).read_bytes() == (tmp_path / theirs).read_bytes()

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
        assert (tmp_path / "acme%2F2026-10.pdf").read_bytes() == b"%PDF-1.7"
        assert seen == ["de_DE"] * 3
        res = run("--out", str(tmp_path), "--format", "html", "--locale", "de_DE")
        assert res.exit_code == 0, res.output
        assert (tmp_path / "globex%2F2026-10.html").read_text(encoding="utf-8") == "<html></html>"


def _drafts():
    from cloudrate import load_plan, rate, read_usage
    from cloudrate.invoice import assemble_all
    from cloudrate.period import BillingPeriod

    plan = load_plan(sample_plan_path())
    result = rate(
        plan, read_usage(sample_usage_path()), BillingPeriod.parse("2026-10", plan.timezone)
    )
    return assemble_all(result, {})


TINY_PLAN = """\
name: Tiny
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: '0.0125'}
"""


def _usage(tmp_path, accounts):
    """A plan and a usage file with one record for each of *accounts*."""
    plan, usage = tmp_path / "plan.yaml", tmp_path / "usage.csv"
    plan.write_text(TINY_PLAN, encoding="utf-8")
    rows = [
        f'"{a}",vcpu_hours,{100 + i},2026-10-01T00:00:00+00:00,2026-10-31T00:00:00+00:00'
        for i, a in enumerate(accounts)
    ]
    usage.write_text("account,metric,quantity,start,end\n" + "\n".join(rows) + "\n", "utf-8")
    return ["invoice", "--plan", str(plan), "--usage", str(usage), "--period", "2026-10"]


class TestFileNames:
    @pytest.mark.parametrize(
        "accounts",
        [("müller", "möller"), ("a/b", "a_b"), ("x y", "x_y", "x%20y"), ("..", ".", "_.")],
    )
    def test_accounts_never_share_a_file(self, tmp_path, accounts):
        """Accounts whose names differ only outside ASCII, in '/' or in what '_' used to
        stand for each get their own draft file, holding their own invoice."""
        res = CliRunner().invoke(main, [*_usage(tmp_path, accounts), "--out", str(tmp_path / "o")])
        assert res.exit_code == 0, res.output
        files = sorted((tmp_path / "o").iterdir())
        assert len(files) == len(accounts)
        owners = {json.loads(f.read_text(encoding="utf-8"))["customer"]["id"] for f in files}
        assert owners == set(accounts)
        assert all(not f.name.startswith(".") for f in files)

    def test_two_documents_for_one_file_are_refused(self, tmp_path, monkeypatch):
        """Should two documents of a run ever land in one file (a file system that ignores
        case), the second is refused instead of overwriting the first."""
        monkeypatch.setattr("cloudrate.cli._invoice.document_filename", lambda _n, s: "same" + s)
        res = run("--out", str(tmp_path))
        assert res.exit_code == 2
        assert "same.json is the file same.json this run already wrote" in res.output
        assert [p.name for p in tmp_path.iterdir()] == ["same.json"]


_CLI = "from cloudrate.cli import main; main()"


def _documents(out) -> list[str]:
    names = [p.name for p in out.iterdir()] if out.exists() else []
    return sorted(n for n in names if not n.startswith("."))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_run_killed_anywhere_is_finished_by_a_rerun(tmp_path):
    """A numbering run over 30 accounts is SIGKILLed at 20 random points, each later than
    the last, and rerun each time: after every kill at most one number has no file yet and
    every file is whole; the final rerun leaves INV-2026-0001..0030 exactly once each, the
    same bytes as an uninterrupted run's, and no document file besides."""
    accounts = [f"acct-{i:02d}" for i in range(30)]
    base = [*_usage(tmp_path, accounts), "--issued-on", "2026-11-01"]
    ref_out, out, db = tmp_path / "ref", tmp_path / "out", tmp_path / "seq.sqlite"
    ref = CliRunner().invoke(main, [*base, "--out", str(ref_out), "--sequence-db", str(db) + "r"])
    assert ref.exit_code == 0, ref.output
    expected = {p.name: p.read_bytes() for p in ref_out.iterdir()}
    assert sorted(expected) == [f"INV-2026-{i:04d}.json" for i in range(1, 31)]
    args = [sys.executable, "-c", _CLI, *base, "--out", str(out), "--sequence-db", str(db)]
    rng = random.Random(20)
    codes = []
    for target in sorted(rng.sample(range(len(accounts)), 20)):
        with (tmp_path / "stderr.txt").open("wb") as err:
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
            try:
                while proc.poll() is None and len(_documents(out)) < target:
                    time.sleep(0.0002)
                time.sleep(rng.random() * 0.004)  # a random point past the target
                proc.kill()
            finally:
                codes.append(proc.wait(timeout=60))
        written = _documents(out)
        numbered = SQLiteSequenceStore(db).last("default/invoice/2026") if db.exists() else 0
        assert written == [f"INV-2026-{i:04d}.json" for i in range(1, len(written) + 1)]
        assert numbered - len(written) in (0, 1), (target, numbered, written)
        assert all((out / n).read_bytes() == expected[n] for n in written)
    assert codes.count(-signal.SIGKILL) >= 10, codes
    final = subprocess.run(args, capture_output=True, timeout=60, check=False)
    assert final.returncode == 0, final.stderr
    assert final.stdout.decode().replace(str(out), str(ref_out)) == ref.stdout
    assert {n: (out / n).read_bytes() for n in _documents(out)} == expected
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert all(re.fullmatch(r"\.INV-2026-\d{4}\.json\.[0-9a-f]{12}\.tmp", n) for n in leftovers)
    assert SQLiteSequenceStore(db).last("default/invoice/2026") == 30


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
