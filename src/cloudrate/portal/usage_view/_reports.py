"""Usage reports for a date range: a summary (per charge), the same per resource, and a
detail (per record)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from cloudrate._money import EXACT
from cloudrate.period import zone

from ._export import Cell, to_csv, to_xlsx
from ._ranges import UsageViewError
from ._view import UsageView

__all__ = [
    "DETAIL_HEADER",
    "RESOURCE_HEADER",
    "SUMMARY_HEADER",
    "ReportKind",
    "detail_table",
    "report_csv",
    "report_xlsx",
    "resource_table",
    "summary_table",
]

#: A usage report: one row per service and charge (``summary``), per service, resource
#: and charge (``resources``) or per record (``detail``).
ReportKind = Literal["summary", "resources", "detail"]

SUMMARY_HEADER = (
    "Service",
    "Charge",
    "Description",
    "Quantity",
    "Unit",
    "Estimated cost",
    "Currency",
)
RESOURCE_HEADER = (
    "Service",
    "Resource",
    "Charge",
    "Description",
    "Quantity",
    "Unit",
    "Estimated cost",
    "Currency",
)
DETAIL_HEADER = (
    "Date",
    "Start",
    "End",
    "Account",
    "Metric",
    "Resource",
    "Service",
    "Quantity",
    "Unit",
)


def _shown(quantity: Decimal, places: int) -> Decimal:
    """*quantity* cut to *places* decimals for display (half-up); costs are never cut."""
    exponent = quantity.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent <= places:  # not finite, or short enough
        return quantity
    return quantity.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, context=EXACT)


def summary_table(view: UsageView, quantity_places: int = 6) -> list[list[Cell]]:
    """One row per service and charge, then the Total Estimated Bill row.

    The total row's cost is the view's total: the sum of the rows above it. Quantities
    are shown with at most *quantity_places* decimals (half-up); costs are the costs the
    view shows: the rated lines' rounded amounts, or, with the view's cost decimals, the
    amounts they show (see :func:`~cloudrate.portal.usage_view.usage_view`).
    """
    cur = view.currency
    rows: list[list[Cell]] = [
        [
            row.service,
            item.charge,
            item.description,
            _shown(item.quantity, quantity_places),
            item.unit,
            item.shown,
            cur,
        ]
        for row in view.services
        for item in row.items
    ]
    rows.append(["Total Estimated Bill", None, None, None, None, view.shown, cur])
    return rows


def resource_table(view: UsageView, quantity_places: int = 6) -> list[list[Cell]]:
    """One row per service, resource and charge (see ``UsageView.resources``).

    A charge's rows add up to its row in the summary; charges that price no metered
    usage (flat fees, percentages, adjustments) have no resource rows. Quantities and
    costs are shown as in :func:`summary_table`.
    """
    cur = view.currency
    return [
        [
            row.service,
            row.label,
            item.charge,
            item.description,
            _shown(item.quantity, quantity_places),
            item.unit,
            item.shown,
            cur,
        ]
        for row in view.resources
        for item in row.items
    ]


def detail_table(view: UsageView) -> list[list[Cell]]:
    """One row per usage record inside the range, in time order, times in its timezone."""
    tz = zone(view.date_range.timezone)
    rows: list[list[Cell]] = []
    ordered = sorted(view.records, key=lambda r: (r.start, r.end, r.metric, r.resource_id or ""))
    for r in ordered:
        metric = view.plan.metric(r.metric)
        start, end = r.start.astimezone(tz), r.end.astimezone(tz)
        rows.append(
            [
                start.date(),
                start.isoformat(),
                end.isoformat(),
                r.account,
                r.metric,
                r.resource_id,
                r.service,
                r.quantity,
                metric.usage_unit or metric.unit,
            ]
        )
    return rows


def report_csv(view: UsageView, kind: ReportKind = "summary") -> str:
    """The ``summary``, ``resources`` or ``detail`` report as CSV text (formula-safe).

    >>> import cloudrate
    >>> from datetime import date
    >>> from cloudrate.portal.usage_view import DateRange, usage_view
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> view = usage_view(plan, cloudrate.read_usage(cloudrate.sample_usage_path()),
    ...     account="initech", date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 7),
    ...                                                    "Europe/Berlin"))
    >>> print(report_csv(view).splitlines()[0])
    Service,Charge,Description,Quantity,Unit,Estimated cost,Currency
    """
    header: Sequence[str]
    if kind == "summary":
        header, rows = SUMMARY_HEADER, summary_table(view)
    elif kind == "resources":
        header, rows = RESOURCE_HEADER, resource_table(view)
    elif kind == "detail":
        header, rows = DETAIL_HEADER, detail_table(view)
    else:
        raise UsageViewError(
            f"report kind must be 'summary', 'resources' or 'detail' (got {kind!r})"
        )
    return to_csv(header, rows)


def report_xlsx(view: UsageView) -> bytes:
    """The reports as one XLSX workbook (sheets ``Summary``, ``Resources`` and ``Detail``).

    >>> import cloudrate
    >>> from datetime import date
    >>> from cloudrate.portal.usage_view import DateRange, usage_view
    >>> view = usage_view(cloudrate.load_plan(cloudrate.sample_plan_path()), [],
    ...     account="acme", date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 1)))
    >>> report_xlsx(view)[:2]
    b'PK'
    """
    return to_xlsx(
        [
            ("Summary", SUMMARY_HEADER, summary_table(view)),
            ("Resources", RESOURCE_HEADER, resource_table(view)),
            ("Detail", DETAIL_HEADER, detail_table(view)),
        ]
    )
