"""`cloudrate demo` writes the sample invoices as PDF and still prints the bills."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner

from cloudrate.cli import main

pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")


def test_demo_writes_one_pdf_per_customer(tmp_path):
    """Three PDFs, named by invoice number, each holding its customer; bills printed."""
    out = tmp_path / "pdfs"
    run = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "Grand total for 3 account(s)" in run.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["INV-2026-0042.pdf", "INV-2026-0043.pdf", "INV-2026-0044.pdf"]
    text = pypdf.PdfReader(io.BytesIO((out / "INV-2026-0044.pdf").read_bytes())).pages[0]
    assert "株式会社イニテック" in text.extract_text()
    again = tmp_path / "again"
    CliRunner().invoke(main, ["demo", "--out", str(again), "--json"])
    for name in names:
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_no_pdf(tmp_path):
    out = tmp_path / "none"
    run = CliRunner().invoke(main, ["demo", "--out", str(out), "--no-pdf"])
    assert run.exit_code == 0 and not out.exists()
