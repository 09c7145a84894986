"""Distributed billing runs: lines and invoices built on the workers, numbered and
stored by the driver.

The workers rate their group of accounts (:mod:`cloudrate.rating.distributed`). For the
plans, policies and taxes :meth:`BillingRun.bill_table` covers, each worker builds its
group's lines with the columnar kernel and writes their invoices' JSON documents without
the numbers (:mod:`._shipped`); the driver numbers and stores them as ``bill_table``
does. Otherwise (or when the kernel declines a group's usage) the workers assemble each
account's draft invoice (:func:`cloudrate.invoice.assemble_all`) and the driver bills the
drafts in account order with :meth:`BillingRun.bill_invoices`. Either way the documents
are those ``BillingRun.bill`` stores for the result of one process. Dask and Spark are
imported only when a run needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, get_args

import attrs

from cloudrate.exceptions import BillingError, InvoiceError, OptionError
from cloudrate.invoice import (
    Customer,
    EmptyBill,
    Invoice,
    TaxMethod,
    TaxRate,
    TaxRule,
    assemble_all,
)
from cloudrate.rating import OnUnpriced, RatingResult

from ._fast import fast_taxes
from ._run import BillingRun, issue_date
from ._shipped import Issue, bill_shipped, write_group
from ._summary import RunSummary

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan
    from cloudrate.rating.columnar.lines import LineColumns

__all__ = ["bill_dask", "bill_spark"]

#: Bills assembled per call of assemble_all on a worker (it finds each account's bill
#: by scanning the result, so smaller results keep the assembly linear).
_CHUNK = 256

#: What a worker sends back when it assembles drafts: its drafts, the accounts it rated,
#: and its result without bills (unpriced usage and copies left out, settled on the
#: driver).
_Drafts = tuple[tuple[Invoice, ...], tuple[str, ...], RatingResult]


@attrs.frozen
class _Written:
    """What a worker sends back when it writes invoices: its group's lines, their
    invoices without numbers (:func:`write_group`) and its partial rows of unpriced
    usage and copies left out (settled on the driver)."""

    lines: LineColumns
    invoices: bytes
    rest: pa.Table


@attrs.frozen(kw_only=True)
class _Options:
    """How the workers rate and assemble (pickled to each of them). *issue* is set when
    the workers write the invoices (a plan, policy and taxes ``bill_table`` covers)."""

    rounding: RoundingPolicy | None
    taxes: TaxRule | TaxRate | None
    tax_method: TaxMethod
    empty: EmptyBill
    only: frozenset[str] | None
    issue: Issue | None = None


def _drafts(result: RatingResult, customers: Mapping[str, Customer], options: _Options) -> _Drafts:
    """The draft invoices of *result*'s accounts, in account order."""
    from cloudrate.rating.distributed import paused_gc

    drafts: list[Invoice] = []
    bills = result.bills
    with paused_gc():
        for start in range(0, len(bills), _CHUNK):
            chunk = bills[start : start + _CHUNK]
            wanted = None
            if options.only is not None:
                wanted = [b.account for b in chunk if b.account in options.only]
            drafts.extend(
                assemble_all(
                    result.with_bills(chunk),
                    customers,
                    taxes=options.taxes,
                    tax_method=options.tax_method,
                    empty=options.empty,
                    accounts=wanted,
                )
            )
    return tuple(drafts), tuple(b.account for b in bills), result.with_bills(())


def _group(
    plan: Plan,
    period: BillingPeriod,
    options: _Options,
    customers: Mapping[str, Customer],
    accounts: Sequence[str],
    partials: Sequence[Any],
) -> bytes:
    """On a worker: one group's partials to its lines and their invoices without
    numbers, as bytes (Arrow IPC); or, where the kernel does not cover them, to its
    pickled drafts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cloudrate.rating.columnar import combine_partials
    from cloudrate.rating.columnar.lines import lines_of_partials, lines_to_ipc
    from cloudrate.rating.distributed import dumps, rate_group, to_ipc

    combined = combine_partials(partials)
    if options.issue is not None:
        lines = lines_of_partials(
            plan, combined, period, accounts=accounts, rounding=options.rounding
        )
        if lines is not None:
            rest = combined.filter(pc.is_in(combined.column("kind"), pa.array(_REST)))
            invoices = write_group(options.issue, lines, customers)
            return dumps(("written", lines_to_ipc(lines), invoices, to_ipc(rest)))
    result = rate_group(plan, [combined], period, rounding=options.rounding, accounts=accounts)
    return dumps(("drafts", *_drafts(result, customers, options)))


#: The partial rows a worker that writes invoices sends beside its lines.
_REST = ("unpriced", "duplicates", "corrections")


def _draft_group(
    plan: Plan,
    period: BillingPeriod,
    options: _Options,
    customers: Mapping[str, Customer],
    accounts: Sequence[str],
    *blobs: bytes,
) -> bytes:
    """On a Dask worker: :func:`_group` of one group's partials (IPC bytes)."""
    from cloudrate.rating.distributed import from_ipc

    return _group(plan, period, options, customers, accounts, [from_ipc(b) for b in blobs])


_Part = _Written | _Drafts


def _part(plan: Plan, period: BillingPeriod, options: _Options, data: bytes) -> _Part:
    """What a worker sent back (see :func:`_group`)."""
    from cloudrate.rating.columnar.lines import lines_from_ipc
    from cloudrate.rating.distributed import from_ipc, loads

    found = loads(data)
    if found[0] == "drafts":
        return found[1], found[2], found[3]
    policy = options.rounding or plan.rounding
    return _Written(lines_from_ipc(plan, period, policy, found[1]), found[2], from_ipc(found[3]))


def _accounts(part: _Part) -> Sequence[str]:
    return part.lines.accounts if isinstance(part, _Written) else part[1]


def _settled(plan: Plan, period: BillingPeriod, part: _Written, options: _Options) -> RatingResult:
    """A written part's unpriced usage and copies, as a result without bills."""
    from cloudrate.rating.columnar import finish

    return finish(plan, part.rest, period, rounding=options.rounding)


def _as_drafts(
    plan: Plan,
    period: BillingPeriod,
    part: _Part,
    customers: Mapping[str, Customer],
    options: _Options,
) -> _Drafts:
    """*part* as drafts (a written part among parts of drafts: billed with them)."""
    if not isinstance(part, _Written):
        return part
    drafts, accounts, _ = _drafts(part.lines.result(), customers, options)
    return drafts, accounts, _settled(plan, period, part, options)


def _bill(
    run: BillingRun,
    plan: Plan,
    period: BillingPeriod,
    parts: list[_Part],
    options: _Options,
    *,
    customers: Mapping[str, Customer],
    issued_on: date | None,
    on_unpriced: OnUnpriced,
    batch: int,
) -> RunSummary:
    """The driver's part: settle unpriced usage, put the groups in account order, bill
    them once; from the invoices the workers wrote when every group wrote them."""
    from cloudrate.rating.distributed import check_disjoint, merge_results

    written = [p for p in parts if isinstance(p, _Written)]
    if options.issue is not None and len(written) == len(parts):
        check_disjoint(a for p in written for a in p.lines.accounts)
        results = [_settled(plan, period, p, options) for p in written]
        merge_results(plan, period, results, rounding=options.rounding, on_unpriced=on_unpriced)
        pieces = [(p.lines, p.invoices) for p in written]
        return bill_shipped(run, pieces, customers=customers, issue=options.issue, batch=batch)
    drafted = [_as_drafts(plan, period, p, customers, options) for p in parts]
    merged = merge_results(
        plan, period, [p[2] for p in drafted], rounding=options.rounding, on_unpriced=on_unpriced
    )
    if options.only is not None:
        rated = sorted(a for p in drafted for a in p[1])
        missing = options.only - set(rated)
        if missing:  # as assemble_all says it
            raise InvoiceError(
                f"no rated usage for account(s) {', '.join(sorted(missing))}; "
                f"accounts are {', '.join(rated)}"
            )
    drafts = sorted((d for p in drafted for d in p[0]), key=lambda d: d.customer.id)
    day = issue_date(period) if issued_on is None else issued_on
    outcomes = run.bill_invoices(drafts, issued_on=day, batch=batch)
    return RunSummary(
        period=period.label,
        outcomes=outcomes,
        duplicates_dropped=merged.duplicates_dropped,
        corrections_applied=merged.corrections,
    )


def _leftover(
    plan: Plan,
    period: BillingPeriod,
    parts: list[_Part],
    accounts: Sequence[str],
    customers: Mapping[str, Customer],
    options: _Options,
) -> None:
    """Accounts to bill that no partition had usage of: rated (and written) here."""
    from cloudrate.rating.columnar import PARTIAL_SCHEMA

    seen = {a for p in parts for a in _accounts(p)}
    extra = sorted(set(accounts) - seen)
    if extra:
        empty = [PARTIAL_SCHEMA.empty_table()]
        parts.append(
            _part(plan, period, options, _group(plan, period, options, customers, extra, empty))
        )


def bill_dask(
    run: BillingRun,
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    *,
    client: Any = None,
    issued_on: date | None = None,
    customers: Mapping[str, Customer] | None = None,
    taxes: TaxRule | TaxRate | None = None,
    tax_method: TaxMethod = "total",
    empty: EmptyBill = "zero",
    accounts: Iterable[str] = (),
    only: Iterable[str] | None = None,
    rounding: RoundingPolicy | None = None,
    on_unpriced: OnUnpriced = "error",
    batch: int = 2000,
    groups: int | None = None,
    fan_in: int = 8,
    by_account: bool = False,
) -> RunSummary:
    """Bill a Dask DataFrame of usage for *period*: the same documents, numbers and
    summary as ``run.bill(rate_table(plan, usage, period, accounts=accounts))`` in one
    process.

    The workers aggregate their partitions and rate their group of accounts
    (:func:`cloudrate.rating.distributed.rate_dask`, with *groups*, *fan_in* and
    *by_account*). For a plan, rounding policy and taxes :meth:`BillingRun.bill_table`
    covers (and with every customer billed, ``empty="zero"``) each worker builds its
    group's lines with the columnar kernel and writes their invoices (JSON documents,
    events, billed rows) without the numbers; the driver (this process) numbers and
    stores them as ``bill_table`` does, the same rows byte for byte, *batch* customers
    per transaction. Otherwise the workers assemble draft invoices and the driver bills
    them with :meth:`BillingRun.bill_invoices`. *client* is a ``distributed.Client``
    (default: the current Dask scheduler).

    *accounts* are billed even without usage (as :func:`cloudrate.rate`); *only* bills
    just these accounts (as ``BillingRun.bill(accounts=...)``); *customers*, *taxes*,
    *tax_method*, *empty* and *issued_on* are those of :meth:`BillingRun.bill`. Usage no
    charge prices stops the run before anything is stored (``on_unpriced="error"``);
    ``"report"`` bills the rest, as ``run.bill(rate(...))`` does.

    >>> import tempfile, pathlib, dask, dask.dataframe as dd, cloudrate
    >>> from cloudrate.billing import SQLiteDocumentStore
    >>> from cloudrate.rating.columnar import to_table
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> period = cloudrate.BillingPeriod.month(2026, 10, plan.timezone)
    >>> frame = dd.from_pandas(to_table(usage).to_pandas(), npartitions=3)
    >>> store = SQLiteDocumentStore(pathlib.Path(tempfile.mkdtemp()) / "billing.db")
    >>> with dask.config.set(scheduler="sync"):  # or client=distributed.Client(...)
    ...     summary = bill_dask(BillingRun(store=store), plan, frame, period)
    >>> [d.number for d in summary.documents][:2]
    ['INV-2026-0001', 'INV-2026-0002']
    >>> store.close()
    """
    from cloudrate.rating.distributed import (
        dask_compute,
        dask_groups,
        group_count,
        group_of,
        grouped_accounts,
    )

    options = _check(plan, period, rounding, taxes, tax_method, empty, only, on_unpriced)
    options = _issuing(run, period, options, issued_on, batch)
    customers = customers or {}
    accounts = tuple(accounts)
    delayed = importlib.import_module("dask").delayed
    if by_account:
        shared = delayed(customers, traverse=False)
        extra: list[tuple[Any, ...]] = [(plan, period, options, shared, ())]
        k = 1
    else:
        k = group_count(frame, groups, client)
        mine: list[dict[str, Customer]] = [{} for _ in range(k)]
        for account, customer in customers.items():
            mine[group_of(account, k)][account] = customer
        extra = [
            (plan, period, options, delayed(mine[g], traverse=False), a)
            for g, a in enumerate(grouped_accounts(accounts, k))
        ]
    tasks = dask_groups(
        plan, frame, period, _draft_group, extra, groups=k, fan_in=fan_in, by_account=by_account
    )
    parts = [_part(plan, period, options, b) for b in dask_compute(tasks, client)]
    if by_account:
        _leftover(plan, period, parts, accounts, customers, options)
    return _bill(
        run,
        plan,
        period,
        parts,
        options,
        customers=customers,
        issued_on=issued_on,
        on_unpriced=on_unpriced,
        batch=batch,
    )


def bill_spark(
    run: BillingRun,
    plan: Plan,
    frame: Any,
    period: BillingPeriod,
    *,
    issued_on: date | None = None,
    customers: Mapping[str, Customer] | None = None,
    taxes: TaxRule | TaxRate | None = None,
    tax_method: TaxMethod = "total",
    empty: EmptyBill = "zero",
    accounts: Iterable[str] = (),
    only: Iterable[str] | None = None,
    rounding: RoundingPolicy | None = None,
    on_unpriced: OnUnpriced = "error",
    batch: int = 2000,
    groups: int | None = None,
    by_account: bool = False,
) -> RunSummary:
    """:func:`bill_dask` for a Spark DataFrame: the executors rate their accounts
    (:func:`cloudrate.rating.distributed.rate_spark`) and write their invoices (or
    assemble drafts), the driver numbers and stores. The options are those of
    :func:`bill_dask`.

    >>> bill_spark.__name__  # see tests/billing/test_distributed_billing.py
    'bill_spark'
    """
    from cloudrate.rating.distributed import spark_groups

    options = _check(plan, period, rounding, taxes, tax_method, empty, only, on_unpriced)
    options = _issuing(run, period, options, issued_on, batch)
    customers = customers or {}
    blobs = spark_groups(
        plan,
        frame,
        period,
        _SparkDrafts(plan, period, options, customers),
        groups=groups,
        by_account=by_account,
    )
    parts = [_part(plan, period, options, b) for b in blobs]
    _leftover(plan, period, parts, tuple(accounts), customers, options)
    return _bill(
        run,
        plan,
        period,
        parts,
        options,
        customers=customers,
        issued_on=issued_on,
        on_unpriced=on_unpriced,
        batch=batch,
    )


@attrs.frozen
class _SparkDrafts:
    """:func:`_group` for Spark's executors: a group's partial tables to bytes."""

    plan: Plan
    period: BillingPeriod
    options: _Options
    customers: Mapping[str, Customer]

    def __call__(self, partials: list[Any]) -> bytes:
        return _group(self.plan, self.period, self.options, self.customers, (), partials)


def _check(
    plan: Plan,
    period: BillingPeriod,
    rounding: RoundingPolicy | None,
    taxes: TaxRule | TaxRate | None,
    tax_method: TaxMethod,
    empty: EmptyBill,
    only: Iterable[str] | None,
    on_unpriced: OnUnpriced,
) -> _Options:
    """The options, checked here before any worker starts."""
    if on_unpriced not in get_args(OnUnpriced):
        raise OptionError(
            f"on_unpriced must be 'report' or 'error' (got {on_unpriced!r})", path="on_unpriced"
        )
    if empty not in get_args(EmptyBill):
        raise InvoiceError(f"empty: 'zero' or 'none' (got {empty!r})")
    plan.check_period(period)
    return _Options(
        rounding=rounding,
        taxes=taxes,
        tax_method=tax_method,
        empty=empty,
        only=None if only is None else frozenset(only),
    )


def _issuing(
    run: BillingRun,
    period: BillingPeriod,
    options: _Options,
    issued_on: date | None,
    batch: int,
) -> _Options:
    """*options*, with what the workers need to write the invoices when
    ``BillingRun.bill_table`` covers the taxes and options (every customer billed,
    empty invoices issued); *batch* checked."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise BillingError(f"batch: a whole number of customers >= 1 (got {batch!r})")
    if options.tax_method not in get_args(TaxMethod):
        raise BillingError(
            f"tax_method: 'total' (per rate, EN 16931) or 'line' (got {options.tax_method!r})"
        )
    covered, rule = fast_taxes(options.taxes)
    if not covered or options.empty != "zero" or options.only is not None:
        return options
    issue = Issue(
        numbering=run.numbering,
        terms=run.terms,
        tenant=run.tenant,
        day=issue_date(period) if issued_on is None else issued_on,
        taxes=rule,
        tax_method=options.tax_method,
    )
    return attrs.evolve(options, issue=issue)
