"""A plan as an HTML table, for notebooks (``Plan._repr_html_``).

One row per charge: what it prices (metric and unit, selector, free units) and its price
(the tiers one per line). Every text is escaped. Numbers are shown rounded to at most
:data:`SHOWN_PLACES` decimals; a number shown rounded carries its exact value in the
cell's ``title`` (the tooltip), so nothing of the plan is lost.
"""

from __future__ import annotations

import decimal
import html
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from cloudrate._money import EXACT

if TYPE_CHECKING:
    from ._charge import Charge
    from ._plan import Plan

__all__ = ["SHOWN_PLACES", "plan_html", "shown_number"]

#: Decimals a plan's HTML view shows; more are in the tooltip.
SHOWN_PLACES = 6

_HEAD = ("Charge", "Service", "Metric", "Unit", "Free units", "Price", "Selector")


def shown_number(value: Decimal | str, places: int = SHOWN_PLACES) -> tuple[str, str | None]:
    """*value* as shown, rounded half-even to *places* decimals with trailing zeros kept as
    written, and its exact text when the rounding changed it (else None).

    >>> shown_number(Decimal("0.0125"))
    ('0.0125', None)
    >>> shown_number(Decimal("0.354838709677419354838709677419"))
    ('0.354839', '0.354838709677419354838709677419')
    """
    number = Decimal(value)
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= -places:
        return f"{number:f}", None
    with decimal.localcontext(EXACT):
        rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{rounded.normalize():f}", f"{number:f}"


def _number(value: Any) -> str:
    shown, exact = shown_number(str(value))
    if exact is None:
        return html.escape(shown)
    return f'<span title="{html.escape(exact)}">{html.escape(shown)}</span>'


#: Model fields that hold an amount of the plan's currency.
_MONEY_KEYS = frozenset(
    {
        "unit_price",
        "price",
        "amount",
        "block_price",
        "price_per_period",
        "fixed_fee",
        "free_amount",
        "min_per_transaction",
        "max_per_transaction",
    }
)


def _price(data: dict[str, Any], currency: str) -> str:
    """The model's price fields as short HTML lines: ``0.10 EUR / unit up to 100``."""
    cur = html.escape(currency)
    parts = [f"<i>{html.escape(str(data.get('model', '')))}</i>"]
    for tier in data.get("tiers", ()):
        up_to = tier.get("up_to")
        bound = "above" if up_to is None else f"up to {_number(up_to)}"
        price = tier.get("unit_price", tier.get("percent"))
        unit = "%" if "percent" in tier else f" {cur}"
        text = f"{bound}: {_number(price)}{unit}"
        if tier.get("flat_price") is not None:
            text += f" + {_number(tier['flat_price'])} {cur} flat"
        parts.append(text)
    for key, value in data.items():
        if key in ("model", "tiers", "name", "metric", "description", "service", "where"):
            continue
        if key == "free_units":
            continue
        if isinstance(value, list):
            shown = ", ".join(html.escape(str(v)) for v in value)
        elif isinstance(value, str | int | Decimal) and _is_number(value):
            shown = _number(value) + (f" {cur}" if key in _MONEY_KEYS else "")
        else:
            shown = html.escape(str(value))
        parts.append(f"{html.escape(key)}: {shown}")
    return "<br>".join(parts)


def _is_number(value: object) -> bool:
    try:
        return Decimal(str(value)).is_finite()
    except decimal.InvalidOperation:
        return False


def _row(plan: Plan, charge: Charge) -> str:
    e = html.escape
    data = charge.to_dict()
    unit = plan.metric(charge.metric).unit if charge.metric else ""
    where = str(charge.where) if charge.where else ""
    if charge.valid is not None:
        where = f"{where}; {charge.valid}" if where else str(charge.valid)
    cells = (
        f"<b>{e(charge.name)}</b><br>{e(charge.description or '')}",
        e(charge.service or ""),
        e(charge.metric or ""),
        e(unit),
        _number(charge.free_units) if charge.free_units else "",
        _price(data, plan.currency),
        e(where),
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def plan_html(plan: Plan) -> str:
    """*plan* as an HTML table: its name, version and currency, then a row per charge.

    >>> import cloudrate
    >>> page = plan_html(cloudrate.load_plan(cloudrate.sample_plan_path()))
    >>> page.startswith("<table><caption>CloudStack Standard 2026.10 (EUR"), "up to 100" in page
    (True, True)
    """
    e = html.escape
    facts = [plan.currency, plan.timezone]
    if plan.effective_from is not None:
        facts.append(f"from {plan.effective_from.isoformat()}")
    if plan.effective_to is not None:
        facts.append(f"to {plan.effective_to.isoformat()}")
    if plan.versions:
        facts.append(f"{len(plan.versions)} later price version(s)")
    title = " ".join(x for x in (plan.name, plan.version) if x)
    head = "".join(f"<th>{h}</th>" for h in _HEAD)
    body = "".join(_row(plan, c) for c in plan.charges)
    note = f"<p>{e(plan.description)}</p>" if plan.description else ""
    return (
        f"<table><caption>{e(title)} ({e(', '.join(facts))})</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
    )
