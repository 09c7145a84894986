"""What every endpoint gets: the host's settings (store, plans, clock), the tenant, the
request's fields, and the readers of a plan and of usage records given in a request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from cloudrate.billing import DocumentStore
from cloudrate.exceptions import CloudrateError, ConfigError, NotFoundError, Problem
from cloudrate.plans import Plan, load_plan
from cloudrate.usage import UsageRecord, record_from_mapping

from ._input import Fields

__all__ = ["Call", "Reply", "Service", "read_plan", "read_usage"]

#: The most usage records one request may carry (the body size limit comes first).
MAX_RECORDS = 200_000


@attrs.frozen(kw_only=True)
class Service:
    """The host's settings: the document store, its named plans, and its clock (None:
    every endpoint that needs "today" takes it from the request)."""

    store: DocumentStore | None
    plans: Mapping[str, Plan]
    clock: Callable[[], datetime] | None = None

    def needs_store(self) -> DocumentStore:
        if self.store is None:
            raise NotFoundError(
                "this service has no document store; the host creates it with "
                "create_app(store=...) (cloudrate serve --store billing.db)"
            )
        return self.store


@attrs.frozen(kw_only=True)
class Reply:
    """An endpoint's answer: JSON data, or bytes of *media_type*."""

    data: Any
    status: int = 200
    media_type: str = "application/json"


@attrs.frozen(kw_only=True)
class Call:
    """One request as an endpoint sees it."""

    service: Service
    tenant: str
    body: Fields
    query: Fields
    params: Mapping[str, str]

    def today(self, fields: Fields, name: str = "on") -> date | None:
        """The date *name* of *fields*, else the host clock's date; a problem when neither."""
        found = fields.day(name, required=self.service.clock is None)
        if found is None and self.service.clock is not None and name not in fields.data:
            return self.service.clock().date()
        return found

    def now(self, fields: Fields, name: str = "now") -> datetime | None:
        """The instant *name* of *fields*, else the host clock's; a problem when neither."""
        found = fields.instant(name, required=self.service.clock is None)
        if found is None and self.service.clock is not None and name not in fields.data:
            return self.service.clock()
        return found


def read_plan(fields: Fields, plans: Mapping[str, Plan]) -> Plan | None:
    """The plan of the request: ``plan`` (YAML text or its JSON form) or ``plan_name`` (one
    of the host's plans). Problems, the plan's own included (``plan.charges[0].model``),
    are kept in *fields*."""
    given, name = fields.raw("plan"), fields.text("plan_name")
    if given is not None and name is not None:
        fields.problem("plan_name", "invalid_settings", "give plan or plan_name, not both")
        return None
    if given is None and name is None:
        # plan_name null, or absent; a plan_name of another type is a problem already
        if not any(p.path == "plan_name" for p in fields.problems):
            fields.problem("plan", "missing", "give plan (YAML text or its JSON form) or plan_name")
        return None
    if name is not None:
        if name not in plans:
            known = ", ".join(sorted(plans)) or "none"
            raise NotFoundError(
                f"plan_name: no plan {name!r}; the service's plans are: {known}",
                path="plan_name",
                value=name,
            )
        return plans[name]
    if not isinstance(given, str | Mapping):
        fields.problem("plan", "not_a_mapping", "expected YAML text or a JSON object", given)
        return None
    try:
        # A line break makes it YAML text, never a file name the loader would open.
        return load_plan(given if not isinstance(given, str) or "\n" in given else given + "\n")
    except ConfigError as exc:  # the plan's problems, listed with the request's
        fields.problems.extend(
            attrs.evolve(p, path=f"plan.{p.path}" if p.path else "plan", source=None)
            for p in exc.problems
        )
        return None


def read_usage(fields: Fields, name: str = "usage") -> list[UsageRecord]:
    """The usage records of the list *name*, each an object as in a JSON lines usage
    file; every record that cannot be read is a problem (``usage[3]``)."""
    rows = fields.items(name, limit=MAX_RECORDS)
    records: list[UsageRecord] = []
    problems: list[Problem] = []
    for index, row in enumerate(rows):
        where = f"{name}[{index}]"
        if not isinstance(row, Mapping):
            problems.append(Problem(where, "bad_record", "expected a JSON object"))
            continue
        try:
            records.append(record_from_mapping(row, where))
        except CloudrateError as exc:
            problems.append(Problem(where, "bad_record", str(exc)))
    if problems:
        raise ConfigError(problems, source="the request body")
    return records
