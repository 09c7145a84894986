"""Reading a request: its JSON body exactly (numbers as Decimals), and its fields, every
problem at once as one :class:`~cloudrate.exceptions.ConfigError` (a 422 problem).

>>> body = parse_json(b'{"period": "2026-10", "strict": "yes"}')
>>> fields = Fields(body, "body")
>>> fields.text("period"), fields.flag("strict")
('2026-10', None)
>>> fields.done()
Traceback (most recent call last):
...
cloudrate.exceptions.ConfigError: 1 problem in the request body:
  strict: expected true or false (got 'yes') [bad_value]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cloudrate.exceptions import CloudrateError, ConfigError, Problem

__all__ = ["Fields", "parse_json"]

_MISSING = object()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(
                [Problem(key, "duplicate_key", "this key is given twice; keep one")],
                source="the request body",
            )
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ConfigError(
        [Problem("", "bad_json", f"{name} is not JSON; give numbers as decimal text")],
        source="the request body",
    )


def parse_json(body: bytes) -> Any:
    """*body* as JSON: numbers as ``Decimal`` (never float), duplicate keys refused.

    >>> parse_json(b'{"q": 0.1}')
    {'q': Decimal('0.1')}
    >>> parse_json(b'{"q": 1, "q": 2}')
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.ConfigError: 1 problem in the request body:
      q: this key is given twice; keep one [duplicate_key]
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem("", "bad_encoding", f"not UTF-8 at byte {exc.start}")],
            source="the request body",
        ) from None
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        problems = [Problem("", "bad_json", f"{exc.msg} (line {exc.lineno}, column {exc.colno})")]
        raise ConfigError(problems, source="the request body") from None
    except RecursionError:
        problems = [Problem("", "too_deep", "lists and objects nested too deep")]
        raise ConfigError(problems, source="the request body") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        if isinstance(exc, CloudrateError):
            raise
        raise ConfigError(
            [Problem("", "too_large", f"a number too long to read: {exc}")],
            source="the request body",
        ) from None


def _shown(value: object) -> object:
    """*value* as a problem shows it: short text, never a whole document."""
    if isinstance(value, str | int | bool) and len(str(value)) <= 80:
        return value
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Fields:
    """The fields of one JSON object of a request, read by type; each problem is kept
    and :meth:`done` raises them all at once."""

    def __init__(
        self,
        data: object,
        where: str,
        problems: list[Problem] | None = None,
        prefix: str = "",
    ) -> None:
        self.where, self.prefix = where, prefix
        self.problems: list[Problem] = [] if problems is None else problems
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            self.problems.append(
                Problem(prefix.rstrip("."), "not_a_mapping", "expected a JSON object", _shown(data))
            )
            data = {}
        self.data: Mapping[str, Any] = data

    def problem(self, name: str, code: str, message: str, value: object = None) -> None:
        shown = None if value is None else _shown(value)
        self.problems.append(Problem(f"{self.prefix}{name}", code, message, shown))

    def done(self, known: Sequence[str] | None = None) -> None:
        """Raise every problem found; with *known*, a field not in it is one too."""
        if known is not None:
            self.unknown(known)
        if self.problems:
            raise ConfigError(self.problems, source=f"the request {self.where}")

    def unknown(self, known: Sequence[str]) -> None:
        """A problem for each field not in *known*."""
        for name in self.data:
            if name not in known:
                listed = ", ".join(known)
                self.problem(str(name), "unknown_key", f"not a field; the fields are {listed}")

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problem(name, "missing", "required")
            return _MISSING
        return value

    def raw(self, name: str, *, required: bool = False) -> Any:
        """The value as given (``None`` when absent)."""
        value = self._get(name, required)
        return None if value is _MISSING else value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(name, "not_text", "expected non-empty text", value)
            return None
        return value

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            self.problem(name, "bad_choice", f"one of {', '.join(choices)}", value)
            return default
        return value

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problem(name, "bad_value", "expected true or false", value)
            return default
        return value

    def whole(self, name: str, *, low: int, high: int, default: int) -> int:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, "not_whole", "expected a whole number", value)
            return default
        if not low <= value <= high:
            self.problem(name, "out_of_range", f"from {low} to {high}", value)
            return default
        return value

    def number(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self.problem(name, "not_a_number", "expected a decimal number", value)
            return None
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except ArithmeticError:
            self.problem(name, "not_a_number", "expected a decimal number", value)
            return None
        if not number.is_finite() or abs(number.adjusted()) > 30:
            self.problem(name, "out_of_bounds", "a finite number below 10^30", value)
            return None
        return number

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(name, "bad_date", "expected a date, YYYY-MM-DD", value)
            return None

    def instant(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or moment.utcoffset() is None:
            self.problem(name, "bad_instant", "expected a date and time with an offset", value)
            return None
        return moment

    def items(self, name: str, *, required: bool = False, limit: int = 10**6) -> list[Any]:
        value = self._get(name, required)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.problem(name, "not_a_list", "expected a list", value)
            return []
        if len(value) > limit:
            self.problem(name, "too_large", f"at most {limit} items (got {len(value)})")
            return []
        return value

    def names(self, name: str) -> list[str]:
        values = self.items(name)
        if not all(isinstance(v, str) and v for v in values):
            self.problem(name, "not_names", "expected a list of names", values)
            return []
        return list(values)

    def mapping(self, name: str, *, required: bool = False) -> Fields:
        """The object *name* as fields of its own, its problems kept with these."""
        value = self._get(name, required)
        data = None if value is _MISSING else value
        return Fields(data, self.where, self.problems, f"{self.prefix}{name}.")
