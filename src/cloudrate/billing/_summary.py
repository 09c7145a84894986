"""What a billing run did: one outcome per customer's period, and the run's summary."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args, overload

import attrs

from ._stored import DocumentKind, StoredDocument

if TYPE_CHECKING:
    from ._store import DocumentStore

__all__ = ["OUTCOMES", "CustomerOutcome", "Outcome", "RunSummary", "TableOutcomes"]

#: What a run did for a customer's period: ``issued`` (its invoice), ``corrected`` (a
#: supplementary invoice and/or credit notes), ``unchanged`` (nothing to issue).
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


class TableOutcomes(Sequence[CustomerOutcome]):
    """The outcomes of a run over many customers, kept compact: per customer its outcome
    and the numbers of the documents issued; each :class:`CustomerOutcome` is built on
    access, its documents read from the store (which must still be open)."""

    def __init__(
        self, store: DocumentStore, tenant: str, period: str, customers: Sequence[str]
    ) -> None:
        self._store, self._tenant, self.period = store, tenant, period
        self._customers = customers
        self._outcome: list[Outcome | None] = [None] * len(customers)
        self._numbers: dict[int, tuple[str, ...]] = {}
        # invoices issued by :meth:`set_issued`, kept compact: each customer's place in the
        # blocks of numbers (-1: none), the blocks (Arrow strings) and where each starts
        self._place = array("q", [-1]) * len(customers)
        self._blocks: list[Any] = []
        self._starts: list[int] = []
        self._kept: dict[int, CustomerOutcome] = {}
        self._issued: dict[DocumentKind, int] = {"invoice": 0, "supplementary": 0, "credit_note": 0}

    def set(self, i: int, outcome: Outcome, numbers: tuple[str, ...]) -> None:
        """Customer *i* had *outcome*: an invoice for each of *numbers* (issued ones)."""
        self._outcome[i] = outcome
        if numbers:
            self._numbers[i] = numbers
            self._issued["invoice"] += len(numbers)

    def set_issued(self, customers: Sequence[int], numbers: Sequence[str]) -> None:
        """Customers *customers* were issued one invoice each, numbered *numbers*: the
        same as :meth:`set` with ``"issued"`` for each, held in a few bytes a number."""
        import pyarrow as pa

        first = self._starts[-1] + len(self._blocks[-1]) if self._blocks else 0
        self._blocks.append(pa.array(numbers, pa.string()))
        self._starts.append(first)
        for k, i in enumerate(customers):
            self._outcome[i] = "issued"
            self._place[i] = first + k
        self._issued["invoice"] += len(numbers)

    def _numbers_of(self, i: int) -> tuple[str, ...]:
        place = self._place[i]
        if place < 0:
            return self._numbers.get(i, ())
        block = bisect_right(self._starts, place) - 1
        return (self._blocks[block][place - self._starts[block]].as_py(),)

    def keep(self, i: int, outcome: CustomerOutcome) -> None:
        """Customer *i* was billed through the object path, with *outcome*."""
        self._outcome[i] = outcome.outcome
        self._kept[i] = outcome
        for d in outcome.documents:
            self._issued[d.kind] += 1

    @property
    def issued(self) -> dict[DocumentKind, int]:
        return dict(self._issued)

    @property
    def unchanged(self) -> int:
        return sum(o == "unchanged" for o in self._outcome)

    def __len__(self) -> int:
        return len(self._customers)

    @overload
    def __getitem__(self, i: int) -> CustomerOutcome: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[CustomerOutcome]: ...
    def __getitem__(self, i: int | slice) -> CustomerOutcome | Sequence[CustomerOutcome]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if i in self._kept:
            return self._kept[i]
        outcome = self._outcome[i]
        assert outcome is not None, "every customer of the run has an outcome"
        documents = []
        for number in self._numbers_of(i):
            found = self._store.document(number, tenant=self._tenant)
            assert found is not None, "issued by this run"
            documents.append(found)
        return CustomerOutcome(
            customer=self._customers[i],
            period=self.period,
            outcome=outcome,
            documents=tuple(documents),
        )

    def __iter__(self) -> Iterator[CustomerOutcome]:
        return (self[i] for i in range(len(self)))


@attrs.frozen(kw_only=True)
class RunSummary:
    """A billing run's result: one outcome per customer, the usage duplicates the rating
    dropped, and (for a run through subscriptions) the accounts with usage in the period
    that no customer of the run bills."""

    period: str
    outcomes: Sequence[CustomerOutcome]
    duplicates_dropped: int = 0
    corrections_applied: int = 0
    unbilled_accounts: tuple[str, ...] = ()

    @property
    def documents(self) -> tuple[StoredDocument, ...]:
        """Every document the run issued, in customer order."""
        return tuple(d for o in self.outcomes for d in o.documents)

    @property
    def issued(self) -> dict[DocumentKind, int]:
        """How many documents of each kind the run issued."""
        if isinstance(self.outcomes, TableOutcomes):
            return self.outcomes.issued
        counts: dict[DocumentKind, int] = {"invoice": 0, "supplementary": 0, "credit_note": 0}
        for d in self.documents:
            counts[d.kind] += 1
        return counts

    @property
    def unchanged(self) -> int:
        """Customers whose documents already bill what their usage calls for."""
        if isinstance(self.outcomes, TableOutcomes):
            return self.outcomes.unchanged
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
            "unbilled_accounts": list(self.unbilled_accounts),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }
