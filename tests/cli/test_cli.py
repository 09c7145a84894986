"""The ``cloudrate`` command (``cloudrate.cli``), run through click's CliRunner."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

import cloudrate
from cloudrate.cli import main

GOOD_PLAN = """\
name: Tiny
currency: EUR
charges:
  - {name: compute, metric: vcpu_hours, model: per_unit, unit_price: '0.0125'}
"""
USAGE = """\
account,metric,quantity,start,end
acme,vcpu_hours,1441,2026-10-01T00:00:00+00:00,2026-10-31T00:00:00+00:00
acme,gpu_hours,3,2026-10-01T00:00:00+00:00,2026-10-02T00:00:00+00:00
"""


@pytest.fixture(name="runner")
def fixture_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(name="files")
def fixture_files(tmp_path):
    plan, usage = tmp_path / "plan.yaml", tmp_path / "usage.csv"
    plan.write_text(GOOD_PLAN, encoding="utf-8")
    usage.write_text(USAGE, encoding="utf-8")
    return plan, usage


class TestDemo:
    def test_text(self, runner):
        """demo prints a bill per account of the sample data, and the grand total."""
        out = runner.invoke(main, ["demo", "--no-pdf"])
        assert out.exit_code == 0, out.output
        for account in ("acme", "globex", "initech"):
            assert f"Account {account}" in out.output
        assert "Grand total for 3 account(s)" in out.output
        assert "Support (10% of compute and storage)" in out.output

    def test_json_matches_the_api(self, runner):
        """demo --json prints exactly what rate() gives for the sample files."""
        out = runner.invoke(main, ["demo", "--json", "--no-pdf"])
        assert out.exit_code == 0
        plan = cloudrate.load_plan(cloudrate.sample_plan_path())
        expected = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
        assert json.loads(out.stdout) == json.loads(expected.to_json())

    def test_locale(self, runner):
        """--locale formats numbers for the locale (German decimal comma)."""
        out = runner.invoke(main, ["demo", "--locale", "de_DE", "--no-pdf"])
        assert out.exit_code == 0
        assert "25,00" in out.output


class TestRate:
    def test_text(self, runner, files):
        """rate prints the bill and warns on stderr about usage no charge prices."""
        plan, usage = files
        out = runner.invoke(main, ["rate", "--plan", str(plan), "--usage", str(usage)])
        assert out.exit_code == 0, out.output
        assert "Account acme" in out.stdout
        assert "€18.01" in out.stdout  # 1,441 x 0.0125 = 18.0125, rounded half-up
        assert "warning: 1 record(s) of 'gpu_hours' not priced" in out.stderr

    def test_json(self, runner, files):
        """--json gives the stable schema with amounts as decimal strings."""
        plan, usage = files
        out = runner.invoke(main, ["rate", "--plan", str(plan), "--usage", str(usage), "--json"])
        data = json.loads(out.stdout)
        assert data["schema"] == "cloudrate.rating/1"
        line = data["accounts"][0]["lines"][0]
        assert (line["amount"], line["rounded"]) == ("18.0125", "18.01")
        assert data["total"] == "18.01" and isinstance(data["total"], str)
        assert data["unpriced"][0]["metric"] == "gpu_hours"
        Decimal(data["accounts"][0]["total"])

    def test_period(self, runner, files):
        """--period picks the billing period; usage outside it is an error (exit 2)."""
        plan, usage = files
        args = ["rate", "--plan", str(plan), "--usage", str(usage), "--json"]
        ok = runner.invoke(main, [*args, "--period", "2026-10"])
        assert json.loads(ok.stdout)["period"]["label"] == "2026-10"
        bad = runner.invoke(main, [*args, "--period", "2026-11"])
        assert bad.exit_code == 2
        error = json.loads(bad.stderr)  # under --json the error is JSON too
        assert error["code"] == "rating_refused" and error["exit_code"] == 2
        assert "outside the period 2026-11" in error["message"]

    def test_strict(self, runner, files):
        """--strict refuses usage no charge prices."""
        plan, usage = files
        out = runner.invoke(main, ["rate", "--plan", str(plan), "--usage", str(usage), "--strict"])
        assert out.exit_code == 2
        assert "gpu_hours" in out.stderr

    def test_bad_usage_file(self, runner, files, tmp_path):
        """A bad usage row is reported with its line; nothing is printed on stdout."""
        plan, _ = files
        usage = tmp_path / "bad.csv"
        usage.write_text(
            "account,metric,quantity,start,end\na,m,-1,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z\n",
            encoding="utf-8",
        )
        out = runner.invoke(main, ["rate", "--plan", str(plan), "--usage", str(usage)])
        assert out.exit_code == 2
        assert "line 2" in out.stderr and out.stdout == ""

    def test_missing_file(self, runner, tmp_path):
        """A missing plan file has the missing-file exit code, 3."""
        out = runner.invoke(
            main, ["rate", "--plan", str(tmp_path / "x.yaml"), "--usage", str(tmp_path / "y.csv")]
        )
        assert out.exit_code == 3 and "does not exist" in out.stderr


class TestCheck:
    def test_valid(self, runner, files):
        """check says a valid plan is valid, with its charge count, exit code 0."""
        plan, _ = files
        out = runner.invoke(main, ["check", str(plan)])
        assert out.exit_code == 0
        assert "plan 'Tiny' (EUR) is valid: 1 charges" in out.stdout

    def test_invalid_lists_every_problem(self, runner, tmp_path):
        """check lists every problem with path and line, exit code 2 (bad input)."""
        plan = tmp_path / "bad.yaml"
        plan.write_text(
            "name: Bad\ncurrency: EUR\ncharges:\n"
            "  - {name: a, metric: m, model: per_unit, unit_prise: 1}\n"
            "  - {name: b, metric: m, model: graduatd}\n",
            encoding="utf-8",
        )
        out = runner.invoke(main, ["check", str(plan)])
        assert out.exit_code == 2
        assert "3 problems in" in out.stderr
        assert "charges[0].unit_prise (line 4)" in out.stderr
        assert "did you mean 'graduated'?" in out.stderr

    def test_sample_plan(self, runner):
        """The shipped sample plan checks clean."""
        out = runner.invoke(main, ["check", str(cloudrate.sample_plan_path())])
        assert out.exit_code == 0


class TestVersion:
    def test_version(self, runner):
        """--version prints the package version."""
        out = runner.invoke(main, ["--version"])
        assert out.exit_code == 0 and cloudrate.__version__ in out.output
