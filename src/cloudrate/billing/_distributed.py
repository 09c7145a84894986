"""Distributed billing runs: lines and draft invoices built on the workers, numbered and
stored by the driver through :meth:`BillingRun.bill_invoices`.

The workers rate their group of accounts (:mod:`cloudrate.rating.distributed`) and
assemble each account's draft invoice (:func:`cloudrate.invoice.assemble_all`); the
driver puts the drafts in account order and bills them exactly once, as
``BillingRun.bill`` does with the result of one process. Dask and Spark are imported
only when a run needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, get_args

import attrs

from cloudrate.exceptions import InvoiceError, OptionError
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

from ._run import BillingRun, issue_date
from ._summary import RunSummary

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate._money import RoundingPolicy
    from cloudrate.period import BillingPeriod
    from cloudrate.plans import Plan

__all__ = ["bill_dask", "bill_spark"]

#: Bills assembled per call of assemble_all on a worker (it finds each account's bill
#: by scanning the result, so smaller results keep the assembly linear).
_CHUNK = 256

#: What a worker sends back: its drafts, the accounts it rated, and its result without
#: bills (unpriced usage and copies left out, settled on the driver).
_Drafts = tuple[tuple[Invoice, ...], tuple[str, ...], RatingResult]


@attrs.frozen(kw_only=True)
class _Options:
    """How the workers rate and assemble (pickled to each of them)."""

    rounding: RoundingPolicy | None
    taxes: TaxRule | TaxRate | None
    tax_method: TaxMethod
    empty: EmptyBill
    only: frozenset[str] | None


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


def _draft_group(
    plan: Plan,
    period: BillingPeriod,
    options: _Options,
    customers: Mapping[str, Customer],
    accounts: Sequence[str],
    *blobs: bytes,
) -> bytes:
    """On a worker: one group's partials (IPC bytes) to its pickled drafts."""
    from cloudrate.rating.distributed import dumps, from_ipc, rate_group

    result = rate_group(
        plan, [from_ipc(b) for b in blobs], period, rounding=options.rounding, accounts=accounts
    )
    return dumps(_drafts(result, customers, options))


def _bill(
    run: BillingRun,
    plan: Plan,
    period: BillingPeriod,
    parts: list[_Drafts],
    options: _Options,
    *,
    issued_on: date | None,
    on_unpriced: OnUnpriced,
    batch: int,
) -> RunSummary:
    """The driver's part: settle unpriced usage, order the drafts, bill them once."""
    from cloudrate.rating.distributed import merge_results

    merged = merge_results(
        plan, period, [p[2] for p in parts], rounding=options.rounding, on_unpriced=on_unpriced
    )
    if options.only is not None:
        rated = sorted(a for p in parts for a in p[1])
        missing = options.only - set(rated)
        if missing:  # as assemble_all says it
            raise InvoiceError(
                f"no rated usage for account(s) {', '.join(sorted(missing))}; "
                f"accounts are {', '.join(rated)}"
            )
    drafts = sorted((d for p in parts for d in p[0]), key=lambda d: d.customer.id)
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
    parts: list[_Drafts],
    accounts: Sequence[str],
    customers: Mapping[str, Customer],
    options: _Options,
) -> None:
    """Accounts to bill that no partition had usage of: rated and assembled here."""
    from cloudrate.rating.distributed import rate_group

    seen = {a for p in parts for a in p[1]}
    extra = sorted(set(accounts) - seen)
    if extra:
        result = rate_group(plan, [], period, rounding=options.rounding, accounts=extra)
        parts.append(_drafts(result, customers, options))


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
    batch: int = 500,
    groups: int | None = None,
    fan_in: int = 8,
    by_account: bool = False,
) -> RunSummary:
    """Bill a Dask DataFrame of usage for *period*: the same documents, numbers and
    summary as ``run.bill(rate_table(plan, usage, period, accounts=accounts))`` in one
    process.

    The workers aggregate their partitions, rate their group of accounts
    (:func:`cloudrate.rating.distributed.rate_dask`, with *groups*, *fan_in* and
    *by_account*) and assemble the draft invoices; the driver (this process) numbers and
    stores them in account order with :meth:`BillingRun.bill_invoices`, *batch*
    customers per transaction. *client* is a ``distributed.Client`` (default: the current
    Dask scheduler).

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
        loads,
    )

    options = _check(plan, period, rounding, taxes, tax_method, empty, only, on_unpriced)
    customers = customers or {}
    accounts = tuple(accounts)
    delayed = importlib.import_module("dask").delayed
    if by_account:
        shared = delayed(customers, traverse=False)
        extra: list[tuple[Any, ...]] = [(plan, period, options, shared, ())]
        k = 1
    else:
        k = group_count(frame, groups)
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
    parts: list[_Drafts] = [loads(b) for b in dask_compute(tasks, client)]
    if by_account:
        _leftover(plan, period, parts, accounts, customers, options)
    return _bill(
        run, plan, period, parts, options, issued_on=issued_on, on_unpriced=on_unpriced, batch=batch
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
    batch: int = 500,
    groups: int | None = None,
    by_account: bool = False,
) -> RunSummary:
    """:func:`bill_dask` for a Spark DataFrame: the executors rate and assemble their
    accounts (:func:`cloudrate.rating.distributed.rate_spark`), the driver numbers and
    stores. The options are those of :func:`bill_dask`.

    >>> bill_spark.__name__  # see tests/billing/test_distributed_billing.py
    'bill_spark'
    """
    from cloudrate.rating.distributed import loads, spark_groups

    options = _check(plan, period, rounding, taxes, tax_method, empty, only, on_unpriced)
    customers = customers or {}
    blobs = spark_groups(
        plan,
        frame,
        period,
        _SparkDrafts(plan, period, options, customers),
        groups=groups,
        by_account=by_account,
    )
    parts: list[_Drafts] = [loads(b) for b in blobs]
    _leftover(plan, period, parts, tuple(accounts), customers, options)
    return _bill(
        run, plan, period, parts, options, issued_on=issued_on, on_unpriced=on_unpriced, batch=batch
    )


@attrs.frozen
class _SparkDrafts:
    """:func:`_draft_group` for Spark's executors: partial tables to pickled drafts."""

    plan: Plan
    period: BillingPeriod
    options: _Options
    customers: Mapping[str, Customer]

    def __call__(self, partials: list[Any]) -> bytes:
        from cloudrate.rating.distributed import dumps, rate_group

        result = rate_group(self.plan, partials, self.period, rounding=self.options.rounding)
        return dumps(_drafts(result, self.customers, self.options))


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
