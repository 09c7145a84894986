"""The ``cloudrate`` command: ``demo``, ``rate``, ``check`` and ``features``.

JSON output (``--json``) follows the schema ``cloudrate.rating/1`` documented in
docs/json.md: every amount is a decimal string.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cloudrate.accounts import AccountType, AccountTypeName
from cloudrate.exceptions import CloudrateError, ConfigError
from cloudrate.integrations.cloudstack import ACCOUNT_KEYS, AccountBy, read_cloudstack
from cloudrate.period import BillingPeriod
from cloudrate.plans import load_plan
from cloudrate.portal.features import load_features
from cloudrate.portal.report import format_result
from cloudrate.rating import RatingResult, rate
from cloudrate.usage import read_usage

from . import _batch
from ._bill import bill_command
from ._demo_pdf import write_demo_pdfs
from ._invoice import invoice_command
from ._options import plan_option, usage_option
from .samples import sample_plan_path, sample_usage_path

__all__ = ["main"]


def _fail(exc: CloudrateError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _run(
    plan_path: Path,
    usage_path: Path,
    period: str | None,
    as_json: bool,
    locale: str,
    strict: bool,
    batch: bool | None = False,
) -> RatingResult:
    batched = False
    try:
        plan = load_plan(plan_path)
        chosen = BillingPeriod.parse(period, plan.timezone) if period else None
        batched = _batch.wants_batch(usage_path, batch)
        if batched:
            result = _batch.rate_batch(plan, usage_path, chosen, strict)
        else:
            usage = read_usage(usage_path)
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
        click.echo(
            f"warning: {item.records} record(s) of {item.metric!r} not priced: {item.reason}",
            err=True,
        )
    if (result.duplicates_dropped or result.corrections) and not batched:
        click.echo(_batch.copies_summary(result), err=True)  # the batch path always says it
    return result


@click.group()
@click.version_option(package_name="cloudrate")
def main() -> None:
    """Rate cloud usage against pricing plans and bill it."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result instead.")
@click.option("--locale", default="en_US", show_default=True, help="Locale for numbers.")
@click.option(
    "--out",
    "out_dir",
    default="cloudrate-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the sample invoices are written to as PDF.",
)
@click.option("--no-pdf", is_flag=True, help="Only print the bills; write no PDF.")
def demo(as_json: bool, locale: str, out_dir: Path, no_pdf: bool) -> None:
    """Rate the sample month of a small CloudStack cloud, print the bills and write the
    sample invoices as PDF."""
    if not as_json:
        click.echo(f"Plan:  {sample_plan_path()}\nUsage: {sample_usage_path()}\n")
    result = _run(sample_plan_path(), sample_usage_path(), None, as_json, locale, False)
    if not no_pdf:
        write_demo_pdfs(result, out_dir, err=as_json)


@main.command(name="rate")
@plan_option
@usage_option(".csv, .jsonl or .parquet")
@click.option("--period", help="Billing period: 2026-10, or 2026-10-01..2026-10-15.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--locale", default="en_US", show_default=True, help="Locale for numbers.")
@click.option("--strict", is_flag=True, help="Fail on usage no charge prices.")
@click.option(
    "--batch/--no-batch",
    default=None,
    help="Use the columnar batch path (default: for Parquet or > 100k rows).",
)
def rate_command(
    plan_path: Path,
    usage_path: Path,
    period: str | None,
    as_json: bool,
    locale: str,
    strict: bool,
    batch: bool | None,
) -> None:
    """Rate a usage file (.csv, .jsonl, .parquet) against a plan."""
    _run(plan_path, usage_path, period, as_json, locale, strict, batch)


@main.command()
@click.argument("plan_path", type=click.Path(exists=True, path_type=Path))
def check(plan_path: Path) -> None:
    """Validate a plan file and report every problem in it."""
    try:
        plan = load_plan(plan_path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(
        f"{plan_path}: plan {plan.name!r} ({plan.currency}) is valid: {len(plan.charges)} charges"
    )


@main.command(name="import-cloudstack")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JSON lines here instead of standard output.",
)
@click.option(
    "--account-by",
    default="accountid",
    show_default=True,
    type=click.Choice(ACCOUNT_KEYS),
    help="What names the account of each record.",
)
@click.option(
    "--compute-metrics",
    is_flag=True,
    help="Also emit vcpu_hours and memory_gb_hours for running VMs.",
)
def import_cloudstack(
    files: tuple[Path, ...], out: Path | None, account_by: AccountBy, compute_metrics: bool
) -> None:
    """Convert CloudStack listUsageRecords responses (JSON or XML) to usage JSON lines."""
    try:
        results = [
            read_cloudstack(path, account_by=account_by, compute_metrics=compute_metrics)
            for path in files
        ]
    except CloudrateError as exc:
        _fail(exc)
        raise  # unreachable
    lines = [
        json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
        for result in results
        for r in result.records
    ]
    if out is None:
        click.echo("".join(lines), nl=False)
    else:
        out.write_text("".join(lines), encoding="utf-8")
        click.echo(f"{out}: {len(lines)} usage record(s)", err=True)
    for path, result in zip(files, results, strict=True):
        for warning in result.warnings():
            click.echo(f"warning: {path}: {warning}", err=True)


main.add_command(invoice_command)
main.add_command(bill_command)


@main.command()
@click.argument("config_path", type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", default=None, help="Show this tenant's settings.")
@click.option(
    "--account-type",
    default="individual",
    show_default=True,
    type=click.Choice([kind.value for kind in AccountType]),
)
def features(config_path: Path, tenant: str | None, account_type: AccountTypeName) -> None:
    """Validate a billing feature configuration and print the resolved settings as JSON."""
    try:
        config = load_features(config_path)
        settings = config.for_account(account_type, tenant=tenant)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except KeyError as exc:
        click.echo(f"error: {exc.args[0]}", err=True)
        sys.exit(2)
    click.echo(
        json.dumps(
            {
                "tenant": tenant,
                "account_type": account_type,
                "settings": settings.to_dict(),
                "capabilities": settings.capabilities().to_dict(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":  # pragma: no cover
    main()
