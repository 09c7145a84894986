"""The ``cloudrate`` command: ``demo``, ``rate``, ``check`` and ``features``.

JSON output (``--json``) follows the schema ``cloudrate.rating/1`` documented in
docs/json.md: every amount is a decimal string.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import _load
from ._samples import sample_plan_path, sample_usage_path
from .exceptions import CloudrateError, ConfigError
from .period import BillingPeriod
from .rating import RatingResult, rate
from .report import format_result
from .usage import read_usage

__all__ = ["main"]


def _fail(exc: CloudrateError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _run(plan_path: Path, usage_path: Path, period: str | None, as_json: bool,
         locale: str, strict: bool) -> RatingResult:
    try:
        plan = _load.load_plan(plan_path)
        usage = read_usage(usage_path)
        chosen = BillingPeriod.parse(period, plan.timezone) if period else None
        result = rate(plan, usage, chosen, on_unpriced="error" if strict else "report")
    except CloudrateError as exc:
        _fail(exc)
        raise  # unreachable
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(format_result(result, locale), nl=False)
    sys.stdout.flush()
    for item in result.unpriced:
        click.echo(f"warning: {item.records} record(s) of {item.metric!r} not priced: "
                   f"{item.reason}", err=True)
    return result


@click.group()
@click.version_option(package_name="cloudrate")
def main() -> None:
    """Rate cloud usage against pricing plans and bill it."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result instead.")
@click.option("--locale", default="en_US", show_default=True, help="Locale for numbers.")
@click.option("--out", "out_dir", default="cloudrate-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder the sample invoices are written to as PDF.")
@click.option("--no-pdf", is_flag=True, help="Only print the bills; write no PDF.")
def demo(as_json: bool, locale: str, out_dir: Path, no_pdf: bool) -> None:
    """Rate the sample month of a small CloudStack cloud, print the bills and write the
    sample invoices as PDF."""
    if not as_json:
        click.echo(f"Plan:  {sample_plan_path()}\nUsage: {sample_usage_path()}\n")
    result = _run(sample_plan_path(), sample_usage_path(), None, as_json, locale, False)
    if not no_pdf:
        from ._demo_pdf import write_demo_pdfs

        write_demo_pdfs(result, out_dir, err=as_json)


@main.command(name="rate")
@click.option("--plan", "plan_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="Plan file (YAML).")
@click.option("--usage", "usage_path", required=True,
              type=click.Path(exists=True, path_type=Path), help="Usage file (.csv or .jsonl).")
@click.option("--period", help="Billing period: 2026-10, or 2026-10-01..2026-10-15.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--locale", default="en_US", show_default=True, help="Locale for numbers.")
@click.option("--strict", is_flag=True, help="Fail on usage no charge prices.")
def rate_command(plan_path: Path, usage_path: Path, period: str | None, as_json: bool,
                 locale: str, strict: bool) -> None:
    """Rate a usage file against a plan."""
    _run(plan_path, usage_path, period, as_json, locale, strict)


@main.command()
@click.argument("plan_path", type=click.Path(exists=True, path_type=Path))
def check(plan_path: Path) -> None:
    """Validate a plan file and report every problem in it."""
    try:
        plan = _load.load_plan(plan_path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{plan_path}: plan {plan.name!r} ({plan.currency}) is valid: "
               f"{len(plan.charges)} charges")


from .invoice._cli import invoice_command  # noqa: E402

main.add_command(invoice_command)
@main.command()
@click.argument("config_path", type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", default=None, help="Show this tenant's settings.")
@click.option("--account-type", default="individual", show_default=True,
              type=click.Choice(["individual", "organisation"]))
def features(config_path: Path, tenant: str | None, account_type: str) -> None:
    """Validate a billing feature configuration and print the resolved settings as JSON."""
    import json
    from .features import load_features
    try:
        config = load_features(config_path)
        settings = config.for_account(account_type, tenant=tenant)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except KeyError as exc:
        click.echo(f"error: {exc.args[0]}", err=True)
        sys.exit(2)
    click.echo(json.dumps({"tenant": tenant, "account_type": account_type,
                           "settings": settings.to_dict(),
                           "capabilities": settings.capabilities().to_dict()}, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
