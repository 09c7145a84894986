"""The usage page and billing overview of a customer portal, computed from usage.

Date range presets, metric cards with estimated costs, a per-service summary with the
Total Estimated Bill, the billing overview (month-to-date usage per day, consumed
resources, the billing notification) and usage reports exportable as CSV and XLSX.
"""

from ._clip import clip_records
from ._export import neutralise
from ._overview import (
    STATUSES,
    BillingOverview,
    DailyUsage,
    InvoiceStatus,
    InvoiceSummary,
    Notification,
    billing_overview,
    status_counts,
)
from ._ranges import PRESETS, DateRange, Preset, UsageViewError
from ._reports import ReportKind, detail_table, report_csv, report_xlsx, summary_table
from ._view import (
    CARD_KINDS,
    DEFAULT_CARDS,
    CardKind,
    CardSpec,
    MetricCard,
    ServiceQuantity,
    ServiceRow,
    UsageView,
    usage_view,
)

__all__ = [
    "CARD_KINDS",
    "DEFAULT_CARDS",
    "PRESETS",
    "STATUSES",
    "BillingOverview",
    "CardKind",
    "CardSpec",
    "DailyUsage",
    "DateRange",
    "InvoiceStatus",
    "InvoiceSummary",
    "MetricCard",
    "Notification",
    "Preset",
    "ReportKind",
    "ServiceQuantity",
    "ServiceRow",
    "UsageView",
    "UsageViewError",
    "billing_overview",
    "clip_records",
    "detail_table",
    "neutralise",
    "report_csv",
    "report_xlsx",
    "status_counts",
    "summary_table",
    "usage_view",
]
