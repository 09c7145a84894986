"""The command line as a citizen of other services: ``-`` for the standard streams,
``--usage-format``, ``check --json``, errors as JSON with codes, the exit codes, missing
extras, unknown ``--customer`` accounts (docs/cli.md)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.cli import main
from cloudrate.cli._errors import (
    BAD_INPUT,
    EPILOG,
    INTERNAL,
    MISSING_EXTRA,
    MISSING_FILE,
    describe,
    error_code,
)
from cloudrate.exceptions import ConfigError
from cloudrate.testing import usage_records

PLAN = """\
name: Streams
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: '0.0125'}
  - {name: storage, metric: storage_gb_hours, model: per_unit, unit_price: '0.0001'}
"""
HEADER = ("account", "metric", "quantity", "start", "end")
SAMPLE_PLAN = str(cloudrate.sample_plan_path())
SAMPLE_USAGE = cloudrate.sample_usage_path()
# a function-scoped tmp_path reused across Hypothesis examples is fine: each writes anew
REUSED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def invoke(*args: str, input: str | bytes | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input)


@pytest.fixture(name="plan")
def fixture_plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return path


def csv_text(records) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for r in records:
        writer.writerow([r.account, r.metric, r.quantity, r.start.isoformat(), r.end.isoformat()])
    return out.getvalue()


def jsonl_text(records) -> str:
    return "".join(json.dumps(r.to_dict()) + "\n" for r in records)


# Usage file content: valid records, or valid records with hostile lines mixed in.
HOSTILE = st.sampled_from(
    [
        "",
        "acme,vcpu_hours,-1,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z",
        "acme,vcpu_hours,abc,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z",
        '{"account": "a"}',
        "not json, not csv: \u00e9\u202e",
        "acme,vcpu_hours,1,2026-10-01T00:00:00Z",
        "b,vcpu_hours,1,2026-12-01T00:00:00Z,2026-12-02T00:00:00Z",
    ]
)


@st.composite
def usage_contents(draw, fmt: str) -> str:
    records = draw(st.lists(usage_records(), max_size=8))
    text = csv_text(records) if fmt == "csv" else jsonl_text(records)
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 2))):
        first = 1 if fmt == "csv" else 0  # after the header
        lines.insert(draw(st.integers(first, len(lines))), draw(HOSTILE))
    return "\n".join(lines) + "\n"


class TestUsageFromStandardInput:
    @REUSED
    @given(fmt=st.sampled_from(["csv", "jsonl"]), data=st.data(), as_json=st.booleans())
    def test_any_content_gives_what_the_file_gives(self, tmp_path, plan, fmt, data, as_json):
        """Any usage content, valid or not, piped to --usage - gives the same exit code,
        output and messages as the same bytes in a file (messages name it <stdin>)."""
        content = data.draw(usage_contents(fmt)).encode("utf-8")
        from_file, piped = self._both(tmp_path, plan, fmt, content, as_json)
        assert piped.exit_code == from_file.exit_code in (0, BAD_INPUT)
        assert piped.stdout == from_file.stdout
        assert piped.stderr == from_file.stderr.replace(str(tmp_path / f"usage.{fmt}"), "<stdin>")

    @REUSED
    @given(fmt=st.sampled_from(["csv", "jsonl"]), content=st.binary(max_size=200))
    def test_any_bytes_give_what_the_file_gives(self, tmp_path, plan, fmt, content):
        """Any bytes at all (invalid UTF-8 too) give the same exit code and output
        through standard input as through a file."""
        from_file, piped = self._both(tmp_path, plan, fmt, content, True)
        assert piped.exit_code == from_file.exit_code
        assert piped.stdout == from_file.stdout
        assert json.loads(piped.stderr or "{}").get("code") == json.loads(
            from_file.stderr or "{}"
        ).get("code")

    @staticmethod
    def _both(tmp_path, plan, fmt, content: bytes, as_json: bool):
        path = tmp_path / f"usage.{fmt}"
        path.write_bytes(content)
        flags = ["--json"] if as_json else []
        from_file = invoke("rate", "--plan", str(plan), "--usage", str(path), *flags)
        piped = invoke(
            "rate", "--plan", str(plan), "--usage", "-", "--usage-format", fmt, *flags,
            input=content,
        )  # fmt: skip
        return from_file, piped

    @pytest.mark.parametrize("batch", ["--batch", "--no-batch"])
    def test_both_paths_read_standard_input(self, batch):
        """The columnar path reads standard input too (copies of records included, which
        it reads twice), and both give the bills of the file."""
        lines = SAMPLE_USAGE.read_text(encoding="utf-8").splitlines()
        doubled = "\n".join([*lines, *lines[1:5]]) + "\n"
        args = ["rate", "--plan", SAMPLE_PLAN, "--json", batch]
        piped = invoke(*args, "--usage", "-", "--usage-format", "csv", input=doubled)
        once = invoke(*args, "--usage", str(SAMPLE_USAGE))
        assert piped.exit_code == 0, piped.stderr
        assert json.loads(piped.stdout)["accounts"] == json.loads(once.stdout)["accounts"]
        assert json.loads(piped.stdout)["duplicates_dropped"] == 4

    def test_cloudstack_format(self, tmp_path):
        """--usage-format cloudstack reads a listUsageRecords response as
        import-cloudstack converts it."""
        response = {
            "listusagerecordsresponse": {
                "count": 1,
                "usagerecord": [
                    {
                        "account": "admin",
                        "accountid": "acme",
                        "usagetype": 1,
                        "rawusage": "24",
                        "offeringid": "small",
                        "startdate": "2026-10-02'T'00:00:00+02:00",
                        "enddate": "2026-10-02'T'23:59:59+02:00",
                    }
                ],
            }
        }
        text = json.dumps(response)
        converted = invoke("import-cloudstack", "-", "--out", "-", input=text)
        assert converted.exit_code == 0, converted.stderr
        jsonl = tmp_path / "usage.jsonl"
        jsonl.write_text(converted.stdout, encoding="utf-8")
        args = ["rate", "--plan", SAMPLE_PLAN, "--json"]
        direct = invoke(*args, "--usage", "-", "--usage-format", "cloudstack", input=text)
        assert direct.exit_code == 0, direct.stderr
        assert direct.stdout == invoke(*args, "--usage", str(jsonl)).stdout

    def test_format_required_for_stdin_and_unknown_names(self, tmp_path):
        """Without --usage-format, - and names without a known suffix are refused naming
        the option; with it, any name is read in that format."""
        usage = SAMPLE_USAGE.read_text(encoding="utf-8")
        rate = ("rate", "--plan", SAMPLE_PLAN, "--usage")
        expected = invoke(*rate, str(SAMPLE_USAGE)).stdout
        piped = invoke(*rate, "-", input=usage)
        assert piped.exit_code == BAD_INPUT and "give --usage-format csv" in piped.stderr
        for name in ("usage", "usage.txt"):
            (tmp_path / name).write_text(usage, encoding="utf-8")
            refused = invoke(*rate, str(tmp_path / name))
            assert refused.exit_code == BAD_INPUT and "--usage-format" in refused.stderr
            for batch in ("--batch", "--no-batch"):
                named = invoke(*rate, str(tmp_path / name), "--usage-format", "csv", batch)
                assert named.exit_code == 0, named.stderr
                assert named.stdout == expected

    def test_a_format_the_command_cannot_read(self, tmp_path):
        """invoice reads usage record by record: Parquet is refused with a clear error."""
        res = invoke(
            "invoice", "--plan", SAMPLE_PLAN, "--usage", "-", "--usage-format", "parquet",
            "--period", "2026-10", "--out", str(tmp_path),
        )  # fmt: skip
        assert res.exit_code == 2  # click refuses the choice
        assert "parquet" in res.stderr

    def test_no_file_named_dash_is_made(self, tmp_path, monkeypatch):
        """- is never a file or directory name: nothing is created in the working
        directory."""
        monkeypatch.chdir(tmp_path)
        res = invoke(
            "invoice", "--plan", SAMPLE_PLAN, "--usage", "-", "--usage-format", "csv",
            "--period", "2026-10", "--out", "-",
            input="account,metric,quantity,start,end\n",  # a month without usage
        )  # fmt: skip
        assert res.exit_code == 0, res.stderr
        assert list(tmp_path.iterdir()) == []

    def test_empty_standard_input_is_refused_as_an_empty_file(self):
        """Nothing at all on stdin is a producer that failed, not a month without usage."""
        res = invoke(
            "rate", "--plan", SAMPLE_PLAN, "--usage", "-", "--usage-format", "csv",
            "--period", "2026-10", "--json",
        )  # fmt: skip
        assert res.exit_code == 2
        assert json.loads(res.stderr)["problems"][0]["code"] == "empty_file"


class TestOutToStandardOutput:
    ARGS = ("invoice", "--plan", SAMPLE_PLAN, "--usage", str(SAMPLE_USAGE), "--period", "2026-10")

    def test_invoice_json_lines(self, tmp_path):
        """--out - writes each invoice's JSON document on one line: the document of the
        file --out DIR writes, in the same order."""
        piped = invoke(*self.ARGS, "--out", "-")
        written = invoke(*self.ARGS, "--out", str(tmp_path))
        assert piped.exit_code == written.exit_code == 0
        files = [Path(line) for line in written.stdout.splitlines()]
        lines = piped.stdout.splitlines()
        assert [json.loads(line) for line in lines] == [json.loads(f.read_text()) for f in files]
        assert all("\n" not in line and line.startswith('{"schema"') for line in lines)

    def test_one_html_invoice_and_the_workbook(self, tmp_path):
        """The HTML of one invoice and the XLSX workbook go to standard output with the
        bytes of their files."""
        for fmt, extra in (("html", ("--customer", "acme", "--locale", "de_DE")), ("xlsx", ())):
            out = tmp_path / fmt
            written = invoke(*self.ARGS, "--format", fmt, *extra, "--out", str(out))
            assert written.exit_code == 0, written.stderr
            [path] = [Path(p) for p in written.stdout.splitlines()]
            piped = CliRunner().invoke(main, [*self.ARGS, "--format", fmt, *extra, "--out", "-"])
            assert piped.exit_code == 0, piped.stderr
            assert piped.stdout_bytes == path.read_bytes()

    @pytest.mark.parametrize("fmt", ["pdf", "html", "csv"])
    def test_refused_before_anything_is_numbered(self, tmp_path, fmt):
        """Several PDFs or HTML pages, or the two CSV tables, cannot share standard output:
        refused (bad input) before any invoice takes a number."""
        db = tmp_path / "seq.db"
        res = invoke(
            *self.ARGS, "--format", fmt, "--out", "-", "--sequence-db", str(db),
            "--issued-on", "2026-11-01",
        )  # fmt: skip
        assert res.exit_code == BAD_INPUT and res.stdout == ""
        assert "write them to a directory" in res.stderr
        if db.exists():
            from cloudrate.invoice import SQLiteSequenceStore

            store = SQLiteSequenceStore(db)
            try:
                assert store.last("default/invoice/2026") in (None, 0)
            finally:
                store.close()

    def test_bill_json_lines(self, tmp_path):
        """bill --out - writes every document of the period as JSON lines, as the store
        keeps them; the summary goes to stderr. --format pdf is refused."""
        args = ["bill", "--period", "2026-10", "--plan", SAMPLE_PLAN, "--usage"]
        piped = invoke(*args, "-", "--usage-format", "csv", "--store", str(tmp_path / "a.db"),
                       "--out", "-", input=SAMPLE_USAGE.read_bytes())  # fmt: skip
        assert piped.exit_code == 0, piped.stderr
        assert "3 customer(s) billed" in piped.stderr
        written = invoke(*args, str(SAMPLE_USAGE), "--store", str(tmp_path / "b.db"),
                         "--out", str(tmp_path / "docs"))  # fmt: skip
        files = [Path(p) for p in written.stdout.splitlines()[1:]]
        assert [json.loads(x) for x in piped.stdout.splitlines()] == [
            json.loads(f.read_text()) for f in files
        ]
        pdf = invoke(*args, str(SAMPLE_USAGE), "--store", str(tmp_path / "c.db"), "--out", "-",
                     "--format", "pdf")  # fmt: skip
        assert pdf.exit_code == BAD_INPUT and "JSON lines" in pdf.stderr
        assert not (tmp_path / "c.db").exists()

    def test_demo(self, tmp_path, monkeypatch):
        """demo --out - is refused (three PDFs) unless --no-pdf; nothing named - is made."""
        monkeypatch.chdir(tmp_path)
        refused = invoke("demo", "--out", "-")
        assert refused.exit_code == BAD_INPUT and "three PDF" in refused.stderr
        assert invoke("demo", "--out", "-", "--no-pdf").exit_code == 0
        assert list(tmp_path.iterdir()) == []


class TestCheckJson:
    def test_valid(self, plan):
        """check --json describes a valid plan on stdout."""
        res = invoke("check", str(plan), "--json")
        assert res.exit_code == 0 and res.stderr == ""
        data = json.loads(res.stdout)
        loaded = cloudrate.load_plan(plan)
        assert data == {
            "path": str(plan),
            "valid": True,
            "plan": loaded.name,
            "version": loaded.version,
            "currency": loaded.currency,
            "charges": len(loaded.charges),
        }

    @REUSED
    @given(
        currency=st.sampled_from(["EUR", "EURO", "", "eur", "1"]),
        charges=st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["a", "b", ""]),
                    "metric": st.sampled_from(["vcpu_hours", ""]),
                    "model": st.sampled_from(["per_unit", "graduatd", "flat", "x"]),
                    "unit_price": st.sampled_from(["0.1", "-1", "abc", "1e400"]),
                },
                optional={"unit_prise": st.just("1"), "tiers": st.just("none")},
            ),
            max_size=4,
        ),
        top=st.dictionaries(st.sampled_from(["nmae", "rounding", "timezone"]), st.just("x")),
    )
    def test_any_invalid_plan_gives_json_problems(self, tmp_path, currency, charges, top):
        """Any plan load_plan refuses gives, under --json, one JSON object on stderr with
        the error's code, the bad-input exit code and every problem load_plan reports."""
        path = tmp_path / "plan.yaml"
        doc = {"name": "P", "currency": currency, "charges": charges, **top}
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        try:
            cloudrate.load_plan(path)
        except ConfigError as exc:
            expected = exc
        else:
            assume(False)
        res = invoke("check", str(path), "--json")
        assert res.exit_code == BAD_INPUT and res.stdout == ""
        error = json.loads(res.stderr)
        assert error["code"] == error_code(expected) and error["exit_code"] == BAD_INPUT
        assert [(p["code"], p["path"]) for p in error["problems"]] == [
            (p.code, p.path) for p in expected.problems
        ]
        assert all(p["code"] and p["message"] for p in error["problems"])


class TestExitCodes:
    def test_table_in_help(self):
        """cloudrate --help ends with the table of exit codes."""
        res = invoke("--help")
        assert res.exit_code == 0
        for code in (0, INTERNAL, BAD_INPUT, MISSING_FILE, MISSING_EXTRA):
            assert f"  {code}  " in res.stdout
        assert len({0, INTERNAL, BAD_INPUT, MISSING_FILE, MISSING_EXTRA}) == 5
        assert "Exit codes:" in EPILOG

    @pytest.mark.parametrize("as_json", [False, True])
    def test_missing_files(self, tmp_path, as_json):
        """A missing plan, usage or customers file exits 3, in text and JSON."""
        flags = ["--json"] if as_json else []
        cases = [
            ["check", str(tmp_path / "none.yaml")],
            ["rate", "--plan", str(tmp_path / "none.yaml"), "--usage", str(SAMPLE_USAGE)],
            ["rate", "--plan", SAMPLE_PLAN, "--usage", str(tmp_path / "none.csv")],
            ["invoice", "--plan", SAMPLE_PLAN, "--usage", str(SAMPLE_USAGE), "--period",
             "2026-10", "--out", str(tmp_path), "--customers", str(tmp_path / "c.yaml")],
        ]  # fmt: skip
        for args in cases:
            res = invoke(*args, *flags)
            assert res.exit_code == MISSING_FILE, (args, res.output)
            if as_json:
                assert json.loads(res.stderr)["code"] == "file_not_found"

    @pytest.mark.parametrize("as_json", [False, True])
    def test_internal_error(self, monkeypatch, as_json):
        """An unexpected exception is an internal error, exit 1: a traceback to report in
        text mode, a JSON object with code internal_error under --json."""

        def broken(*_a, **_k):
            raise ZeroDivisionError("a bug")

        monkeypatch.setattr("cloudrate.cli._main.rate", broken)
        flags = ["--json"] if as_json else []
        res = invoke("rate", "--plan", SAMPLE_PLAN, "--usage", str(SAMPLE_USAGE), *flags)
        assert res.exit_code == INTERNAL
        if as_json:
            error = json.loads(res.stderr)
            assert error == {
                "code": "internal_error",
                "message": "ZeroDivisionError: a bug",
                "exit_code": INTERNAL,
            }
        else:
            assert "Traceback" in res.stderr and "please report it" in res.stderr

    def test_option_errors_under_json(self):
        """click's own usage errors are bad input, as JSON under --json."""
        res = invoke("rate", "--json", "--plan", SAMPLE_PLAN)
        assert res.exit_code == BAD_INPUT
        error = json.loads(res.stderr)
        assert error["code"] == "bad_option" and "--usage" in error["message"]

    def test_codes_come_from_the_error(self):
        """The code is the error's code where it has one, else its class name in snake
        case."""

        class QuotaGoneError(Exception):
            pass

        class CodedError(Exception):
            code = "coded_thing"

        assert error_code(QuotaGoneError()) == "quota_gone"
        assert error_code(CodedError()) == "coded_thing"
        exc = ConfigError([], source="x")
        assert describe(exc)[1]["code"] == error_code(exc)


def _without(monkeypatch, *modules: str) -> None:
    """Make *modules* unimportable and forget the cloudrate modules that imported them."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)
    for name in list(sys.modules):
        if name.startswith("cloudrate.rating.columnar"):
            monkeypatch.delitem(sys.modules, name)


class TestMissingExtras:
    @pytest.mark.parametrize("as_json", [False, True])
    def test_batch_without_pyarrow(self, monkeypatch, tmp_path, as_json):
        """Without pyarrow, Parquet usage and --batch say to install cloudrate[batch],
        exit 4, no traceback."""
        _without(monkeypatch, "pyarrow")
        parquet = tmp_path / "usage.parquet"
        parquet.write_bytes(b"PAR1")
        flags = ["--json"] if as_json else []
        for usage, extra in ((parquet, []), (SAMPLE_USAGE, ["--batch"])):
            res = invoke("rate", "--plan", SAMPLE_PLAN, "--usage", str(usage), *extra, *flags)
            assert res.exit_code == MISSING_EXTRA, res.output
            assert "Traceback" not in res.stderr
            if as_json:
                error = json.loads(res.stderr)
                assert error["code"] == "missing_extra" and error["extra"] == "batch"
                assert error["install"] == "pip install 'cloudrate[batch]'"
            else:
                assert "pip install 'cloudrate[batch]'" in res.stderr

    def test_xlsx_without_openpyxl(self, monkeypatch, tmp_path):
        """XLSX without openpyxl (an InvoiceError caused by the ImportError): the pip
        install to run, exit 4."""
        monkeypatch.setitem(sys.modules, "openpyxl", None)
        res = invoke(*TestOutToStandardOutput.ARGS, "--format", "xlsx", "--out", str(tmp_path))
        assert res.exit_code == MISSING_EXTRA, res.output
        assert "pip install 'cloudrate[xlsx]'" in res.stderr

    def test_subprocess(self, tmp_path):
        """As a process: no pyarrow gives exit 4 and the pip install line on stderr."""
        code = "import sys; sys.modules['pyarrow'] = None; from cloudrate.cli import main; main()"
        args = [sys.executable, "-c", code, "rate", "--plan", SAMPLE_PLAN, "--usage",
                str(SAMPLE_USAGE), "--batch", "--json"]  # fmt: skip
        done = subprocess.run(args, capture_output=True, timeout=120, check=False, text=True)
        assert done.returncode == MISSING_EXTRA, done.stderr
        assert json.loads(done.stderr)["install"] == "pip install 'cloudrate[batch]'"


class TestUnknownCustomer:
    def test_nobody(self, tmp_path):
        """--customer with an account neither the usage nor the customers file names is
        refused naming the accounts, and no invoice is written."""
        res = invoke(*TestOutToStandardOutput.ARGS, "--customer", "nobody",
                     "--out", str(tmp_path / "out"))  # fmt: skip
        assert res.exit_code == BAD_INPUT
        assert "--customer nobody" in res.stderr
        assert "The accounts are: acme, globex, initech" in res.stderr
        assert not (tmp_path / "out").exists()

    def test_a_customer_without_usage_still_gets_a_zero_invoice(self, tmp_path):
        """An account of the customers file without usage is known: it gets its invoice
        (of the plan's fixed fees only)."""
        customers = tmp_path / "customers.yaml"
        customers.write_text("quiet: {name: Quiet Ltd}\n", encoding="utf-8")
        res = invoke(*TestOutToStandardOutput.ARGS, "--customer", "quiet", "--customers",
                     str(customers), "--out", "-")  # fmt: skip
        assert res.exit_code == 0, res.stderr
        invoice = json.loads(res.stdout)
        assert invoice["customer"]["id"] == "quiet"

    @given(name=st.text(min_size=1, max_size=12))
    def test_any_account(self, name):
        """Any --customer is invoiced exactly when the usage has it; otherwise refused
        with the nearest account suggested when one is close."""
        from cloudrate.cli._accounts import check_accounts
        from cloudrate.exceptions import InvoiceError

        known = {"acme", "globex", "initech"}
        if name in known:
            check_accounts([name], known)
            return
        with pytest.raises(InvoiceError, match="so its invoice would be empty") as info:
            check_accounts([name], known)
        assert "acme, globex, initech" in str(info.value)


class TestSubprocess:
    def test_pipe_through_a_process(self):
        """As a real process, usage piped to stdin gives the JSON the file gives, and a
        bad plan gives JSON on stderr with exit 2."""
        code = "from cloudrate.cli import main; main()"
        args = [sys.executable, "-c", code, "rate", "--plan", SAMPLE_PLAN, "--json"]
        piped = subprocess.run(
            [*args, "--usage", "-", "--usage-format", "csv"],
            input=SAMPLE_USAGE.read_bytes(),
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert piped.returncode == 0, piped.stderr
        direct = invoke("rate", "--plan", SAMPLE_PLAN, "--json", "--usage", str(SAMPLE_USAGE))
        assert piped.stdout.decode() == direct.stdout
        bad = subprocess.run(
            [sys.executable, "-c", code, "check", "-", "--json"],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert bad.returncode == MISSING_FILE
        assert json.loads(bad.stderr)["code"] == "file_not_found"
