"""``cloudrate features``: validate a feature configuration from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cloudrate.cli import main


def test_prints_resolved_settings(tmp_path):
    path = tmp_path / "features.yaml"
    path.write_text("currency: EUR\ntenants:\n  t1: {organisation: {whmcs_billing: true}}\n")
    out = CliRunner().invoke(
        main, ["features", str(path), "--tenant", "t1", "--account-type", "organisation"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["capabilities"]["whmcs_billing"] is True
    assert data["settings"]["currency"] == "EUR"


def test_reports_every_problem(tmp_path):
    path = tmp_path / "features.yaml"
    path.write_text("currency: EUR\nfree_firts_ip: true\ncost_decimals: -1\n")
    out = CliRunner().invoke(main, ["features", str(path)])
    assert out.exit_code == 2  # bad input (docs/cli.md, exit codes)
    assert "2 problems" in out.output and "did you mean 'free_first_ip'" in out.output


def test_unknown_tenant(tmp_path):
    path = tmp_path / "features.yaml"
    path.write_text("currency: EUR\n")
    out = CliRunner().invoke(main, ["features", str(path), "--tenant", "nope"])
    assert out.exit_code == 2 and "no tenant 'nope'" in out.output
