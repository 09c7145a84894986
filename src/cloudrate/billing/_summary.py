"""What a billing run did: one outcome per customer's period, and the run's summary."""

from __future__ import annotations

from typing import Any, Literal, get_args

import attrs

from ._stored import DocumentKind, StoredDocument

__all__ = ["OUTCOMES", "CustomerOutcome", "Outcome", "RunSummary"]

#: What a run did for a customer's period: ``issued`` (its invoice), ``corrected`` (a
#: supplementary invoice and/or a credit note), ``unchanged`` (nothing to issue).
Outcome = Literal["issued", "corrected", "unchanged"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@attrs.frozen(kw_only=True)
class CustomerOutcome:
    """What a run did for one customer's period and the documents it issued."""

    customer: str
    period: str
    outcome: Outcome
    documents: tuple[StoredDocument, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "period": self.period,
            "outcome": self.outcome,
            "documents": [
                {
                    "number": d.number,
                    "kind": d.kind,
                    "total": str(d.total),
                    "refers_to": d.refers_to,
                }
                for d in self.documents
            ],
        }


@attrs.frozen(kw_only=True)
class RunSummary:
    """A billing run's result: one outcome per customer, and the usage duplicates the
    rating dropped."""

    period: str
    outcomes: tuple[CustomerOutcome, ...]
    duplicates_dropped: int = 0
    corrections_applied: int = 0

    @property
    def documents(self) -> tuple[StoredDocument, ...]:
        """Every document the run issued, in customer order."""
        return tuple(d for o in self.outcomes for d in o.documents)

    @property
    def issued(self) -> dict[DocumentKind, int]:
        """How many documents of each kind the run issued."""
        counts: dict[DocumentKind, int] = {"invoice": 0, "supplementary": 0, "credit_note": 0}
        for d in self.documents:
            counts[d.kind] += 1
        return counts

    @property
    def unchanged(self) -> int:
        """Customers whose documents already bill what their usage calls for."""
        return sum(o.outcome == "unchanged" for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (schema ``cloudrate.billing_run/1``)."""
        return {
            "schema": "cloudrate.billing_run/1",
            "period": self.period,
            "customers": len(self.outcomes),
            "issued": dict(self.issued),
            "unchanged": self.unchanged,
            "duplicates_dropped": self.duplicates_dropped,
            "corrections_applied": self.corrections_applied,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }
