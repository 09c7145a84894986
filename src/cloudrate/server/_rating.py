"""Endpoints that compute from a plan and usage given in the request: rating, plan
checking, cost estimation, invoice preview, the usage page, the billing overview and
budget alerts. Only budget alerts (their record of alerts sent) and the overview (the
account's invoices) read or write the store, each for the request's tenant only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, get_args

from moneyed import Money

from cloudrate.billing import customer_invoices
from cloudrate.invoice import Customer, Invoice, TaxMethod, TaxRate, assemble_all
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan
from cloudrate.portal.budget import (
    AlertStore,
    Budget,
    BudgetAlert,
    DocumentAlertStore,
    InMemoryAlertStore,
    check_budget,
)
from cloudrate.portal.estimation import HourlyUsage, estimate, instance_usage
from cloudrate.portal.usage_view import (
    PRESETS,
    DateRange,
    InvoiceSummary,
    billing_overview,
    usage_view,
)
from cloudrate.rating import RatingResult, rate

from ._input import Fields
from ._service import Call, Reply, read_plan, read_usage

__all__ = [
    "budget_alerts",
    "check_plan",
    "cost_estimate",
    "invoice_preview",
    "overview",
    "rate_usage",
    "usage_page",
]

TAX_METHODS: tuple[str, ...] = get_args(TaxMethod)
_CUSTOMER_FIELDS = ("name", "address", "tax_id", "country", "locale", "email")


def _rated(call: Call, known: tuple[str, ...]) -> tuple[Plan, RatingResult]:
    body = call.body
    plan = read_plan(body, call.service.plans)
    period, strict = body.text("period"), body.flag("strict", False)
    usage = read_usage(body)
    body.done(known)
    assert plan is not None  # done() raised otherwise
    chosen = BillingPeriod.parse(period, plan.timezone) if period else None
    return plan, rate(plan, usage, chosen, on_unpriced="error" if strict else "report")


def rate_usage(call: Call) -> Reply:
    """``POST /v1/rate``: the ``cloudrate.rating/1`` document ``cloudrate rate --json``
    prints for the same plan, usage and period."""
    _, result = _rated(call, ("plan", "plan_name", "usage", "period", "strict"))
    return Reply(data=(result.to_json() + "\n").encode("utf-8"))


def check_plan(call: Call) -> Reply:
    """``POST /v1/plans/check``: the plan described as ``cloudrate check --json`` does."""
    plan = read_plan(call.body, call.service.plans)
    call.body.done(("plan", "plan_name"))
    assert plan is not None
    return Reply(
        data={
            "path": None,
            "valid": True,
            "plan": plan.name,
            "version": plan.version,
            "currency": plan.currency,
            "charges": len(plan.charges),
        }
    )


def _hourly(body: Fields) -> list[HourlyUsage]:
    instance = body.mapping("instance")
    resources = body.items("resources", limit=1000)
    out: list[HourlyUsage] = []
    if instance.data:
        vcpus = instance.whole("vcpus", low=0, high=10**6, default=0)
        ips = instance.whole("public_ips", low=0, high=1000, default=0)
        memory = instance.number("memory_gb", required=True)
        disk = instance.number("disk_gb") or Decimal(0)
        instance.unknown(("vcpus", "memory_gb", "disk_gb", "public_ips"))
        if memory is not None:
            out.extend(instance_usage(vcpus=vcpus, memory_gb=memory, disk_gb=disk, public_ips=ips))
    for index, item in enumerate(resources):
        one = Fields(item, body.where, body.problems, f"resources[{index}].")
        metric, quantity = one.text("metric", required=True), one.number("quantity", required=True)
        unit = one.text("unit") or "hour"
        resource = one.text("resource_id") or f"new-resource-{index + 1}"
        attributes = one.mapping("attributes")
        texts = {str(k): v for k, v in attributes.data.items() if isinstance(v, str)}
        if len(texts) != len(attributes.data):
            one.problem("attributes", "not_text", "expected an object of text values")
        one.unknown(("metric", "quantity", "unit", "resource_id", "attributes"))
        if metric is not None and quantity is not None:
            out.append(
                HourlyUsage(
                    metric=metric,
                    quantity=quantity,
                    unit=unit,
                    resource_id=resource,
                    attributes=texts,
                )
            )
    if not instance.data and not resources:
        body.problem("resources", "missing", "give resources or instance")
    return out


def cost_estimate(call: Call) -> Reply:
    """``POST /v1/estimate``: what a resource used every hour of a period would cost."""
    body = call.body
    plan = read_plan(body, call.service.plans)
    period = body.text("period", required=True)
    usage = _hourly(body)
    body.done(("plan", "plan_name", "period", "resources", "instance"))
    assert plan is not None and period is not None
    result = estimate(plan, usage, BillingPeriod.parse(period, plan.timezone))
    return Reply(data=result.to_dict())


def read_customers(body: Fields) -> dict[str, Customer]:
    given = body.mapping("customers")
    out: dict[str, Customer] = {}
    for account, details in given.data.items():
        one = Fields(details, body.where, body.problems, f"customers.{account}.")
        one.unknown(_CUSTOMER_FIELDS)
        texts = {k: one.text(k) for k in _CUSTOMER_FIELDS if k != "address"}
        address = one.names("address") if "address" in one.data else []
        if not one.problems:
            out[str(account)] = Customer(
                id=str(account),
                name=texts["name"] or str(account),
                address=address,
                tax_id=texts["tax_id"],
                country=texts["country"],
                locale=texts["locale"],
                email=texts["email"],
            )
    return out


def invoice_preview(call: Call) -> Reply:
    """``POST /v1/invoices/preview``: the draft invoices of a period, numbered and stored
    nowhere (what ``cloudrate invoice`` assembles)."""
    body = call.body
    plan = read_plan(body, call.service.plans)
    period, accounts = body.text("period"), body.names("accounts")
    tax_rate = body.number("tax_rate")
    tax_method = body.choice("tax_method", TAX_METHODS, "total")
    customers = read_customers(body)
    usage = read_usage(body)
    body.done(
        ("plan", "plan_name", "usage", "period", "customers", "accounts", "tax_rate", "tax_method")
    )
    assert plan is not None
    chosen = BillingPeriod.parse(period, plan.timezone) if period else None
    result = rate(plan, usage, chosen)
    drafts = assemble_all(
        result,
        customers,
        taxes=None if tax_rate is None else TaxRate(percent=tax_rate),
        tax_method=tax_method,  # type: ignore[arg-type]  # one of TAX_METHODS
        accounts=accounts or None,
    )
    return Reply(data={"invoices": [d.to_dict() for d in drafts]})


def _range(call: Call, body: Fields, timezone: str) -> DateRange | None:
    preset = body.choice("preset", (*PRESETS, "custom"), "month_to_date")
    if preset == "custom":
        first, last = body.day("first", required=True), body.day("last", required=True)
        if first is None or last is None:
            return None
        return DateRange.custom(first, last, timezone)
    if "now" in body.data:
        now = body.instant("now")
        return None if now is None else DateRange.preset_named(preset, now=now, timezone=timezone)  # type: ignore[arg-type]
    today = call.today(body, "today")
    if today is None:
        return None
    return DateRange.preset_named(preset, today=today, timezone=timezone)  # type: ignore[arg-type]


def usage_page(call: Call) -> Reply:
    """``POST /v1/usage-view``: the usage page of an account for a date-range preset."""
    body = call.body
    plan = read_plan(body, call.service.plans)
    account = body.text("account", required=True)
    timezone = body.text("timezone") or (plan.timezone if plan else "UTC")
    date_range = _range(call, body, timezone)
    include_fixed = body.flag("include_fixed", False)
    usage = read_usage(body)
    body.done(
        (
            "plan",
            "plan_name",
            "usage",
            "account",
            "preset",
            "first",
            "last",
            "today",
            "now",
            "timezone",
            "include_fixed",
        )
    )
    assert plan is not None and account is not None and date_range is not None
    view = usage_view(
        plan, usage, account=account, date_range=date_range, include_fixed=bool(include_fixed)
    )
    return Reply(data=view.to_dict())


def _summaries(call: Call, account: str, today: date) -> list[InvoiceSummary]:
    """The account's invoices in this tenant's store, as the overview counts them."""
    if call.service.store is None:
        return []
    invoices: tuple[Invoice, ...] = customer_invoices(
        call.service.store, account, "all", now=today, tenant=call.tenant
    )
    return [
        InvoiceSummary(
            number=i.number or i.id,
            total=i.total,
            due_date=i.due_on or i.issued_on or today,
            paid=i.status_at(today) == "paid",
            issued=i.issued_on,
        )
        for i in invoices
        if i.state != "void"
    ]


def overview(call: Call) -> Reply:
    """``POST /v1/billing-overview``: the month to date of an account, with its invoices
    from the store (this tenant's)."""
    body = call.body
    plan = read_plan(body, call.service.plans)
    account = body.text("account", required=True)
    timezone = body.text("timezone") or (plan.timezone if plan else "UTC")
    today = call.today(body, "today")
    usage = read_usage(body)
    body.done(("plan", "plan_name", "usage", "account", "today", "timezone"))
    assert plan is not None and account is not None and today is not None
    result = billing_overview(
        plan,
        usage,
        account=account,
        today=today,
        timezone=timezone,
        invoices=_summaries(call, account, today),
    )
    return Reply(data=result.to_dict())


def _alert(alert: BudgetAlert) -> dict[str, Any]:
    return {
        "account": alert.account,
        "period": alert.period,
        "threshold": str(alert.threshold),
        "basis": alert.basis,
        "month_to_date": str(alert.month_to_date.amount),
        "forecast": str(alert.forecast.amount),
        "budget": str(alert.budget.amount),
        "currency": str(alert.budget.currency.code),
        "recipients": list(alert.recipients),
        "at": alert.at.isoformat(),
        "subject": alert.subject(),
    }


def _budget(fields: Fields, account: str | None, currency: str) -> Budget | None:
    amount = fields.number("amount", required=True)
    thresholds = fields.items("thresholds", limit=100)
    recipients = fields.names("recipients")
    use_forecast = fields.flag("use_forecast", True)
    fields.unknown(("amount", "thresholds", "recipients", "use_forecast"))
    if amount is None or account is None:
        return None
    kwargs: Mapping[str, Any] = {"thresholds": thresholds} if thresholds else {}
    return Budget(
        account=account,
        amount=Money(amount, currency),
        recipients=recipients,
        use_forecast=bool(use_forecast),
        **kwargs,
    )


def _month_to_date(
    given: Decimal | None, usage: list[Any], plan: Plan, account: str, month: DateRange
) -> Money:
    """The month-to-date cost: as given, else the month so far rated with its fixed fees."""
    if given is not None:
        return Money(given, plan.currency)
    view = usage_view(plan, usage, account=account, date_range=month, include_fixed=True)
    return view.total


def budget_alerts(call: Call) -> Reply:
    """``POST /v1/budget-alerts``: check an account's monthly budget at *now*; the alerts
    new since the last check (the store's outbox, this tenant's, remembers those sent)."""
    body = call.body
    plan = read_plan(body, call.service.plans)
    account = body.text("account", required=True)
    timezone = body.text("timezone") or (plan.timezone if plan else "UTC")
    now = call.now(body, "now")
    budget = _budget(
        body.mapping("budget", required=True), account, plan.currency if plan else "EUR"
    )
    given, usage = body.number("month_to_date"), read_usage(body)
    body.done(
        ("plan", "plan_name", "usage", "account", "timezone", "now", "budget", "month_to_date")
    )
    assert plan is not None and account is not None and now is not None and budget is not None
    month = DateRange.preset_named("month_to_date", now=now, timezone=timezone)
    month_to_date = _month_to_date(given, usage, plan, account, month)
    period = BillingPeriod.month(month.first.year, month.first.month, timezone)
    store: AlertStore = (
        InMemoryAlertStore()
        if call.service.store is None
        else DocumentAlertStore(call.service.store, tenant=call.tenant)
    )
    alerts = check_budget(budget, period, month_to_date, now, store)
    return Reply(data={"alerts": [_alert(a) for a in alerts]})
