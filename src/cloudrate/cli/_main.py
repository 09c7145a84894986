"""The ``cloudrate`` command: ``demo``, ``rate``, ``check``, ``import-cloudstack``,
``invoice``, ``bill`` and ``features``.

JSON output (``--json``) follows the schema ``cloudrate.rating/1`` documented in
docs/json.md: every amount is a decimal string. How the commands fail (exit codes, errors
as JSON under ``--json``) and read or write the standard streams (``-``): docs/cli.md.
"""

from __future__ import annotations

import decimal
import json
import sys
from pathlib import Path
from typing import Any

import click

from cloudrate._money import EXACT
from cloudrate.accounts import AccountType, AccountTypeName
from cloudrate.exceptions import CloudrateError, UsageError
from cloudrate.integrations.cloudstack import ACCOUNT_KEYS, AccountBy, read_cloudstack
from cloudrate.period import BillingPeriod
from cloudrate.plans import load_plan
from cloudrate.portal.features import load_features
from cloudrate.portal.report import format_result
from cloudrate.rating import RatingResult, rate

from . import _batch
from ._bill import bill_command
from ._demo_pdf import write_demo_pdfs
from ._einvoice_demo import demo_format_option
from ._errors import EPILOG, report
from ._invoice import invoice_command
from ._options import InputPath, json_option, plan_option, usage_option
from ._serve import serve_command
from ._streams import STREAM, UsageFormat, UsageInput, open_usage, read_records
from .samples import sample_plan_path, sample_usage_path

__all__ = ["CloudrateGroup", "main"]

_ARGS = "cloudrate.args"


class CloudrateGroup(click.Group):
    """The command group: runs each command in the library's decimal context and turns
    every exception into its exit code and message (docs/cli.md), as JSON on stderr
    when the command line has ``--json``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = tuple(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            # The host's context is the CLI's own: what the library formats in the
            # caller's context (plain-text bills) gets its precision too.
            with decimal.localcontext(EXACT):
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # every failure gets its exit code and one message
            ctx.exit(report(exc, as_json=wants_json(ctx), ctx=ctx))


def wants_json(ctx: click.Context) -> bool:
    """Whether the command line asked for JSON (``--json`` after the command name)."""
    return "--json" in ctx.meta.get(_ARGS, ())


def _rated(
    plan_path: Path,
    source: UsageInput,
    period: str | None,
    strict: bool,
    batch: bool | None,
) -> tuple[RatingResult, bool]:
    """The rating of *source* and whether the columnar path rated it."""
    plan = load_plan(plan_path)
    chosen = BillingPeriod.parse(period, plan.timezone) if period else None
    if source.fmt == "parquet":
        if batch is False:
            raise UsageError(
                f"--usage {source.shown}: Parquet usage is read by the columnar path only; "
                "drop --no-batch"
            )
        batched = True
    elif source.fmt == "cloudstack":
        if batch:
            raise UsageError(
                f"--usage {source.shown}: CloudStack usage is read record by record; drop "
                "--batch (or convert it with `cloudrate import-cloudstack` first)"
            )
        batched = False
    else:
        batched = _batch.wants_batch(source.path, batch)
    if batched:
        return _batch.rate_batch(plan, source.path, chosen, strict), True
    usage = read_records(source)
    return rate(plan, usage, chosen, on_unpriced="error" if strict else "report"), False


def _print(result: RatingResult, as_json: bool, locale: str, batched: bool) -> None:
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


@click.group(cls=CloudrateGroup, epilog=EPILOG)
@click.version_option(package_name="cloudrate")
def main() -> None:
    """Rate cloud usage against pricing plans and bill it.

    Give - as a file name to read standard input (--usage -, with --usage-format) or to
    write standard output (--out -) where the command allows it.
    """


@main.command()
@json_option
@click.option("--locale", default="en_US", show_default=True, help="Locale for numbers.")
@click.option(
    "--out",
    "out_dir",
    default="cloudrate-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the sample invoices are written to as PDF (not -: they are three files).",
)
@click.option("--no-pdf", is_flag=True, help="Only print the bills; write no PDF.")
@demo_format_option
def demo(as_json: bool, locale: str, out_dir: Path, no_pdf: bool) -> None:
    """Rate the sample month of a small CloudStack cloud, print the bills and write the
    sample invoices as PDF."""
    if str(out_dir) == STREAM and not no_pdf:
        raise click.BadParameter(
            "the demo writes three PDF invoices, which cannot share standard output; give "
            "a directory, or --no-pdf to print the bills only",
            param_hint="'--out'",
        )
    if not as_json:
        click.echo(f"Plan:  {sample_plan_path()}\nUsage: {sample_usage_path()}\n")
    source = UsageInput(sample_usage_path(), "csv", str(sample_usage_path()))
    result, batched = _rated(sample_plan_path(), source, None, False, False)
    _print(result, as_json, locale, batched)
    if not no_pdf:
        write_demo_pdfs(result, out_dir, err=as_json)


_RATE_FORMATS: tuple[UsageFormat, ...] = ("csv", "jsonl", "parquet", "cloudstack")


@main.command(name="rate")
@plan_option
@usage_option(_RATE_FORMATS)
@click.option("--period", help="Billing period: 2026-10, or 2026-10-01..2026-10-15.")
@json_option
@click.option("--locale", default="en_US", show_default=True, help="Locale for numbers.")
@click.option("--strict", is_flag=True, help="Fail on usage no charge prices.")
@click.option(
    "--batch/--no-batch",
    default=None,
    help="Use the columnar batch path (default: for Parquet or > 100k rows).",
)
def rate_command(
    plan_path: Path,
    usage_name: str,
    usage_fmt: UsageFormat | None,
    period: str | None,
    as_json: bool,
    locale: str,
    strict: bool,
    batch: bool | None,
) -> None:
    """Rate usage (.csv, .jsonl, .parquet, CloudStack, or - for standard input) against a
    plan."""
    with open_usage(usage_name, usage_fmt, _RATE_FORMATS) as source:
        result, batched = _rated(plan_path, source, period, strict, batch)
    _print(result, as_json, locale, batched)


@main.command()
@click.argument("plan_path", type=InputPath())
@json_option
def check(plan_path: Path, as_json: bool) -> None:
    """Validate a plan file and report every problem in it."""
    plan = load_plan(plan_path)
    if as_json:
        data = {
            "path": str(plan_path),
            "valid": True,
            "plan": plan.name,
            "version": plan.version,
            "currency": plan.currency,
            "charges": len(plan.charges),
        }
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(
        f"{plan_path}: plan {plan.name!r} ({plan.currency}) is valid: {len(plan.charges)} charges"
    )


@main.command(name="import-cloudstack")
@click.argument("files", nargs=-1, required=True, type=InputPath(allow_dash=True))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write JSON lines here instead of standard output (- is standard output).",
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
    """Convert CloudStack listUsageRecords responses (JSON or XML; - reads standard input)
    to usage JSON lines."""
    results = [
        read_cloudstack(
            click.open_file("-", encoding="utf-8") if str(path) == STREAM else path,
            account_by=account_by,
            compute_metrics=compute_metrics,
        )
        for path in files
    ]
    lines = [
        json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
        for result in results
        for r in result.records
    ]
    if out is None or str(out) == STREAM:
        click.echo("".join(lines), nl=False)
    else:
        out.write_text("".join(lines), encoding="utf-8")
        click.echo(f"{out}: {len(lines)} usage record(s)", err=True)
    for path, result in zip(files, results, strict=True):
        for warning in result.warnings():
            click.echo(f"warning: {path}: {warning}", err=True)


main.add_command(invoice_command)
main.add_command(bill_command)
main.add_command(serve_command)


@main.command()
@click.argument("config_path", type=InputPath())
@click.option("--tenant", default=None, help="Show this tenant's settings.")
@click.option(
    "--account-type",
    default="individual",
    show_default=True,
    type=click.Choice([kind.value for kind in AccountType]),
)
def features(config_path: Path, tenant: str | None, account_type: AccountTypeName) -> None:
    """Validate a billing feature configuration and print the resolved settings as JSON."""
    config = load_features(config_path)
    try:
        settings = config.for_account(account_type, tenant=tenant)
    except KeyError as exc:  # an unknown tenant: bad input, said as the library says it
        if isinstance(exc, CloudrateError):
            raise  # its own code (a NotFoundError)
        raise click.BadParameter(str(exc.args[0]), param_hint="'--tenant'") from None
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
