"""The usage page and billing overview of a customer portal, computed from usage.

Date range presets (month to date included), metric cards with estimated costs, a
per-service summary with the Total Estimated Bill and the same cost per resource, the
billing overview (month-to-date usage and cost per day, consumed resources, the billing
notification) and usage reports exportable as CSV and XLSX.
"""

from ._clip import clip_records
from ._export import neutralise
from ._frames import VIEW_TABLES, ViewTable
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
from ._reports import (
    ReportKind,
    detail_table,
    report_csv,
    report_xlsx,
    resource_table,
    summary_table,
)
from ._resources import NO_RESOURCE, ResourceItem, ResourceRow, split_amount
from ._view import (
    CARD_KINDS,
    CLOUDSTACK_STORAGE,
    CLOUDSTACK_TRAFFIC,
    DEFAULT_CARDS,
    Adjust,
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
    "CLOUDSTACK_STORAGE",
    "CLOUDSTACK_TRAFFIC",
    "DEFAULT_CARDS",
    "NO_RESOURCE",
    "PRESETS",
    "STATUSES",
    "VIEW_TABLES",
    "Adjust",
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
    "ResourceItem",
    "ResourceRow",
    "ServiceQuantity",
    "ServiceRow",
    "UsageView",
    "UsageViewError",
    "ViewTable",
    "billing_overview",
    "clip_records",
    "detail_table",
    "neutralise",
    "report_csv",
    "report_xlsx",
    "resource_table",
    "split_amount",
    "status_counts",
    "summary_table",
    "usage_view",
]
