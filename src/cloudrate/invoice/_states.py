"""The stored states and the derived statuses of an invoice, as types mypy checks."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["STATES", "InvoiceState", "InvoiceStatus"]

#: What an invoice stores: ``draft`` (no number), ``issued`` (numbered) or ``void``.
InvoiceState = Literal["draft", "issued", "void"]

#: What an invoice shows: its state, with ``issued`` told apart as ``unpaid``, ``paid`` or,
#: on a given day, ``overdue``.
InvoiceStatus = Literal["draft", "unpaid", "paid", "overdue", "void"]

#: Stored states. ``paid`` and ``overdue`` are derived: see :meth:`Invoice.status_at`.
STATES: tuple[InvoiceState, ...] = get_args(InvoiceState)
