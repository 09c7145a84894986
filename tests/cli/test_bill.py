"""The ``cloudrate bill`` command: rerun-safe, crash-safe, files named by number."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from cloudrate import sample_plan_path, sample_usage_path
from cloudrate.billing import SQLiteDocumentStore
from cloudrate.cli import main


def _command(store: Path, usage: Path | None = None) -> list[str]:
    """``cloudrate bill`` of the sample plan for October, into *store*."""
    return [
        "bill",
        "--period",
        "2026-10",
        "--plan",
        str(sample_plan_path()),
        "--usage",
        str(usage or sample_usage_path()),
        "--store",
        str(store),
    ]


def _bill(store: Path, *args: str, usage: Path | None = None) -> dict[str, object]:
    result = CliRunner().invoke(main, [*_command(store, usage), "--json", *args])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def _late_usage(tmp_path: Path, extra_hours: int) -> Path:
    with sample_usage_path().open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    vcpu = next(r for r in rows if r["metric"] == "vcpu_hours")
    late = dict(vcpu, record_id="late-1", quantity=str(extra_hours))
    path = tmp_path / f"usage-{extra_hours}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, late])
    return path


def _digests(folder: Path) -> dict[str, str]:
    """The documents in *folder* by name; a kill during a write may leave the writer's
    hidden temporary file (``.NAME.xxxx.tmp``, never a document, safe to delete)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not (p.name.startswith(".") and p.name.endswith(".tmp"))
    }


def test_a_rerun_issues_nothing_and_writes_the_same_bytes(tmp_path: Path) -> None:
    first = _bill(tmp_path / "b.db", "--out", str(tmp_path / "out"))
    issued = first["issued"]
    assert isinstance(issued, dict)
    assert issued["invoice"] == first["customers"] == 3
    files = _digests(tmp_path / "out")
    assert sorted(files) == ["INV-2026-0001.json", "INV-2026-0002.json", "INV-2026-0003.json"]
    again = _bill(tmp_path / "b.db", "--out", str(tmp_path / "out"))
    assert again["issued"] == {"invoice": 0, "supplementary": 0, "credit_note": 0}
    assert again["unchanged"] == 3
    assert _digests(tmp_path / "out") == files
    elsewhere = _bill(tmp_path / "c.db", "--out", str(tmp_path / "out2"))
    assert elsewhere["issued"] == first["issued"]
    assert _digests(tmp_path / "out2") == files  # no clock: another store, the same bytes
    issued_on = json.loads((tmp_path / "out" / "INV-2026-0001.json").read_text())["issued_on"]
    assert issued_on == "2026-11-01"


def test_late_usage_then_a_correction_down(tmp_path: Path) -> None:
    store, out = tmp_path / "b.db", tmp_path / "out"
    _bill(store, "--out", str(out))
    late = _bill(
        store, "--out", str(out), "--issued-on", "2026-11-12", usage=_late_usage(tmp_path, 100)
    )
    assert late["issued"] == {"invoice": 0, "supplementary": 1, "credit_note": 0}
    supplementary = json.loads((out / "INV-2026-0004.json").read_text())
    assert supplementary["supplements"] == "INV-2026-0001"
    assert supplementary["issued_on"] == "2026-11-12"
    down = _bill(store, "--out", str(out), usage=_late_usage(tmp_path, 10))
    assert down["issued"] == {"invoice": 0, "supplementary": 0, "credit_note": 1}
    note = json.loads((out / "CN-2026-0001.json").read_text())
    assert note["schema"] == "cloudrate.credit_note/1"
    assert note["invoice_number"] == "INV-2026-0004"  # the supplementary that billed it
    assert _bill(store, usage=_late_usage(tmp_path, 10))["issued"] == {
        "invoice": 0,
        "supplementary": 0,
        "credit_note": 0,
    }


def test_the_text_summary_names_every_count(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*_command(tmp_path / "b.db")])
    assert result.exit_code == 0, result.output
    for words in ("3 customer(s) billed", "3 invoice(s)", "0 unchanged", "duplicate record(s)"):
        assert words in result.output


def test_tables_and_a_bad_store(tmp_path: Path) -> None:
    _bill(tmp_path / "b.db", "--out", str(tmp_path / "out"), "--format", "csv")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "invoices.csv",
        "invoices-summary.csv",
    }
    (tmp_path / "dir.db").mkdir()
    result = CliRunner().invoke(main, [*_command(tmp_path / "dir.db")])
    assert result.exit_code == 2
    assert "document store" in result.output
    assert "Traceback" not in result.output


def test_killed_at_random_moments_the_rerun_completes(tmp_path: Path) -> None:
    """The CLI killed with SIGKILL mid-run, then rerun: the same documents and files as an
    uninterrupted run, every number with its document and its file."""
    reference = tmp_path / "reference"
    _bill(tmp_path / "ref.db", "--out", str(reference))
    want = _digests(reference)
    command = [
        sys.executable,
        "-c",
        "from cloudrate.cli import main; main()",
        *_command(tmp_path / "b.db"),
        "--out",
        str(tmp_path / "out"),
    ]
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    took = time.perf_counter() - began
    (tmp_path / "b.db").unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / 'b.db'}{suffix}").unlink(missing_ok=True)
    for name in list(want):
        (tmp_path / "out" / name).unlink()
    rng = random.Random(7)
    for _ in range(8):
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(took * 0.5, took))
        process.send_signal(signal.SIGKILL)
        process.wait()
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    assert _digests(tmp_path / "out") == want
    store = SQLiteDocumentStore(tmp_path / "b.db")
    assert sorted(d.number for d in store.documents()) == sorted(n[:-5] for n in want)
    store.close()


def test_usage_delivered_twice_is_billed_once_and_counted(tmp_path: Path) -> None:
    text = sample_usage_path().read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join([header, *rows, *rows[:7]]) + "\n", encoding="utf-8")
    once = _bill(tmp_path / "once.db", "--out", str(tmp_path / "once"))
    doubled = _bill(tmp_path / "twice.db", "--out", str(tmp_path / "twice"), usage=twice)
    assert doubled["duplicates_dropped"] == 7
    assert once["duplicates_dropped"] == 0
    assert _digests(tmp_path / "twice") == _digests(tmp_path / "once")


def test_customers_with_a_plan_change_across_two_plans(tmp_path: Path) -> None:
    basic = tmp_path / "basic.yaml"
    basic.write_text(
        "name: Basic\ncurrency: EUR\ncharges:\n  - {name: fee, model: flat, price: '31.00'}\n",
        encoding="utf-8",
    )
    pro = tmp_path / "pro.yaml"
    pro.write_text(
        "name: Pro\ncurrency: EUR\ncharges:\n  - {name: fee, model: flat, price: '62.00'}\n",
        encoding="utf-8",
    )
    customers = tmp_path / "customers.yaml"
    customers.write_text(
        """customers:
  - id: acme
    name: ACME GmbH
    subscriptions:
      - {plan: Basic, from: "2026-10-01T00:00:00Z"}
      - {plan: Pro, from: "2026-10-16T00:00:00Z"}
""",
        encoding="utf-8",
    )
    usage = tmp_path / "usage.csv"
    usage.write_text("account,metric,quantity,start,end\n", encoding="utf-8")
    args = [
        "bill", "--period", "2026-10", "--plan", str(basic), "--plan", str(pro),
        "--customers", str(customers), "--usage", str(usage), "--store", str(tmp_path / "b.db"),
        "--out", str(tmp_path / "out"), "--json",
    ]  # fmt: skip
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["issued"]["invoice"] == 1
    invoice = json.loads((tmp_path / "out" / "INV-2026-0001.json").read_text())
    amounts = {x["charge"]: x["amount"] for x in invoice["lines"]}
    # the Basic plan's plan 31.00 for 15 of 31 days, then Pro's 62.00 for 16 of 31
    assert amounts == {"fee@Basic/2026-10-01": "15.00", "fee@Pro/2026-10-16": "32.00"}
    again = CliRunner().invoke(main, args)
    assert json.loads(again.output)["unchanged"] == 1
    assert json.loads(again.output)["unbilled_accounts"] == []
    # usage of an account the customers file lacks is not billed, and the summary says so
    usage.write_text(
        "account,metric,quantity,start,end\n"
        "ghost,vcpu_hours,1,2026-10-02T00:00:00Z,2026-10-02T01:00:00Z\n",
        encoding="utf-8",
    )
    text = CliRunner().invoke(main, [a for a in args if a != "--json"])
    assert text.exit_code == 0, text.output
    assert "not billed: usage of 1 account(s) with no customer in --customers" in text.output
    assert "in force in the period: ghost; add them" in text.output
    bad = customers.read_text().replace("plan: Pro", "plan: Gold")
    customers.write_text(bad, encoding="utf-8")
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    assert "customers[0].subscriptions[1].plan" in refused.output
