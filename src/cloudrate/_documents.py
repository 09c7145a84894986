"""YAML and mapping documents read exactly, with the line of every path and every problem.

Numbers are read as exact Decimals (never floats), YAML tags never run, and a reader
collects each problem (path, stable code, message, value, line) before one
:class:`~cloudrate.exceptions.ConfigError` reports them all. Plans, feature configurations
and every other document cloudrate loads go through here.

>>> doc = load_document("price: 0.10")
>>> doc.data["price"], doc.lines["price"]
(Decimal('0.10'), 1)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from moneyed import Money

from cloudrate._money import check_currency
from cloudrate.exceptions import CloudrateError, ConfigError, Problem

__all__ = ["UNSET", "Document", "FieldReader", "join_path", "load_document"]


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")
#: The tag YAML's safe loader would give a plain scalar. One resolver serves every call: it
#: keeps no state between them (no path resolvers are registered).
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve
)

Option = TypeVar("Option", bound=str)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


class Document:
    """Plain data of a document, with the YAML line of each path and the problems found."""

    def __init__(self, data: Any, source: str, lines: dict[str, int] | None = None) -> None:
        self.data = data
        self.source = source
        self.lines = lines or {}
        self.problems: list[Problem] = []
        self.nodes = 0  # values reached again through aliases
        self.walked: dict[int, yaml.Node] = {}  # the nodes walked, by identity (kept alive)

    def problem(self, path: str, code: str, message: str, value: Any = None) -> None:
        probe, line = path, self.lines.get(path)
        while line is None and probe:
            shorter = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", probe)
            if shorter == probe:
                break
            probe, line = shorter, self.lines.get(shorter)
        self.problems.append(Problem(path, code, message, value, line, self.source))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems, source=self.source)


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style is not None:  # quoted or block scalars are strings as written
        return text
    tag = _resolve(yaml.ScalarNode, text, (True, False))
    if tag in _NUMBER_TAGS:
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return text


#: More values reached through aliases than any plan writes: a document whose aliases
#: expand beyond it (aliases nested in aliases, "billion laughs") is refused instead of
#: being expanded for minutes. Values written out count nothing, so a large plan (40,000
#: tiers, megabytes of YAML) loads.
MAX_ALIASED = 100_000

#: The deepest nesting of lists and mappings a document may have (no plan needs more than
#: a dozen levels); deeper documents are refused before Python's recursion limit.
MAX_DEPTH = 100
_TOO_DEEP = (
    f"lists and mappings nested more than {MAX_DEPTH} deep; a plan needs a dozen "
    "levels at most: check the brackets"
)


class _TooDeepError(Exception):
    """Raised by :class:`_BoundedLoader` at the line where nesting passes MAX_DEPTH."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that stops where nesting passes :data:`MAX_DEPTH`.

    Without the bound, ``[[[[...`` thousands deep costs PyYAML's scanner time quadratic
    in the depth (it rechecks every open bracket's possible key on each token: 1.2 s for
    6,000 brackets) and its composer Python's recursion limit.
    """

    _depth = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level > MAX_DEPTH:  # this bracket opens a level _walk refuses
            raise _TooDeepError(self.get_mark().line + 1)
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if index is None and isinstance(parent, yaml.MappingNode):  # a key (PyYAML passes
            # None for keys): no level, as _walk reads keys (text only) at no depth
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _TooDeepError(event.start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _refuse(doc: Document, code: str, message: str, line: int | None = None) -> ConfigError:
    return ConfigError([Problem("", code, message, line=line, source=doc.source)], doc.source)


def _walk(node: yaml.Node, path: str, doc: Document, depth: int = 0) -> Any:
    if id(node) in doc.walked:  # reached again through an alias: its values count
        doc.nodes += 1
        if doc.nodes > MAX_ALIASED:
            raise _refuse(
                doc,
                "too_large",
                f"the document's aliases expand to more than {MAX_ALIASED} values "
                "(aliases of aliases?); write the plan without nested aliases",
            )
    else:
        doc.walked[id(node)] = node
    if depth > MAX_DEPTH:
        raise _refuse(doc, "too_deep", _TOO_DEEP, node.start_mark.line + 1)
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _walk(key_node, path, doc) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                doc.lines[join_path(path, str(key))] = key_node.start_mark.line + 1
                doc.problem(join_path(path, str(key)), "bad_key", "keys must be text", key)
                continue
            child = join_path(path, key)
            doc.lines[child] = key_node.start_mark.line + 1
            if key in out:
                doc.problem(child, "duplicate_key", "this key is given twice; keep one")
            out[key] = _walk(value_node, child, doc, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(item, join_path(path, i), doc, depth + 1) for i, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def load_document(source: str | Path | Mapping[str, Any]) -> Document:
    """Read a path, YAML text or a mapping into a :class:`Document` (data + lines).

    YAML syntax errors raise :class:`~cloudrate.exceptions.ConfigError` with the line.
    """
    if isinstance(source, Mapping):
        return Document(dict(source), "<dict>")
    name = "<text>"
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
    ):
        name = str(source)
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise ConfigError(
                [Problem("", "unreadable", f"cannot read the file: {exc.strerror}")], source=name
            ) from None
        text = _utf8(raw, name)
    else:
        text = str(source)
    doc = Document(None, name)
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
        doc.data = None if node is None else _walk(node, "", doc)
    except _TooDeepError as exc:
        raise _refuse(doc, "too_deep", _TOO_DEEP, exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem}"
        if exc.context:
            message += f" ({exc.context})"
        raise _refuse(doc, "yaml_syntax", message, line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        raise _refuse(
            doc,
            "yaml_syntax",
            f"YAML syntax error: the character {chr(exc.character)!r} "
            f"(U+{exc.character:04X}) is not allowed in YAML; remove it or quote it "
            'escaped ("\\u....")',
            line,
        ) from None
    except RecursionError:  # pragma: no cover - the bounded loader stops long before
        raise _refuse(doc, "too_deep", _TOO_DEEP) from None
    finally:
        doc.walked.clear()
    return doc


def _utf8(raw: bytes, name: str) -> str:
    """*raw* decoded as UTF-8 (a byte order mark dropped), or a ConfigError naming the
    line and byte of the first bytes that are not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start : exc.end].hex(" ")
        raise ConfigError(
            [
                Problem(
                    "",
                    "bad_encoding",
                    f"not UTF-8: byte {column} of the line (offset {exc.start}) is {bad} "
                    f"({exc.reason}); save the file as UTF-8",
                    line=line,
                    source=name,
                )
            ],
            source=name,
        ) from None


class FieldReader:
    """Reads fields from plain data into typed values, recording problems with paths."""

    def __init__(self, doc: Document, currency: str | None = None) -> None:
        self.doc = doc
        self.currency = currency

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.doc.problem(
                path,
                "not_a_mapping",
                "expected a mapping of key: value",
                value if value is None or isinstance(value, str | int) else None,
            )
            return {}
        for key in value:
            if key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = (
                    f"; did you mean {near[0]!r}?"
                    if near
                    else (f"; known keys are {', '.join(allowed)}")
                )
                self.doc.problem(join_path(path, key), "unknown_key", f"unknown key{hint}", key)
        return dict(value)

    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        default: Any = None,
    ) -> Any:
        value = data.get(key, UNSET)
        if value is UNSET or value is None:
            if required:
                self.doc.problem(join_path(path, key), "missing", f"{key} is required")
            return default
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return str(value)  # version: 2 or 2026.10 is text as written
        if not isinstance(value, str):
            self.doc.problem(join_path(path, key), "not_text", "expected text", value)
            return default
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        minimum: Decimal | None = Decimal(0),
        above: bool = False,
    ) -> Decimal | None:
        value = data.get(key, UNSET)
        where = join_path(path, key)
        if value is UNSET or value is None:
            if required:
                self.doc.problem(where, "missing", f"{key} is required")
            return None
        number = self._decimal(value, where)
        if number is None:
            return None
        if minimum is not None and (number < minimum or (above and number == minimum)):
            word = "above" if above else "at least"
            self.doc.problem(where, "out_of_range", f"must be {word} {minimum}", str(number))
            return None
        return number

    def _decimal(self, value: Any, where: str) -> Decimal | None:
        if isinstance(value, float):
            self.doc.problem(
                where,
                "float",
                f"floats cannot hold money exactly; write '{value!r}' as a string or Decimal",
                value,
            )
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self.doc.problem(where, "not_a_number", "expected a number", value)
            return None
        try:
            number = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
        except InvalidOperation:
            self.doc.problem(where, "not_a_number", "expected a number such as 0.0125", value)
            return None
        if not number.is_finite():
            self.doc.problem(where, "not_a_number", "expected a finite number", value)
            return None
        return number

    def price(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> Money | None:
        """A price: a number in the plan's currency, or ``'0.10 USD'`` text."""
        value = data.get(key, UNSET)
        where = join_path(path, key)
        if value is UNSET or value is None:
            if required:
                self.doc.problem(where, "missing", f"{key} is required")
            return None
        currency = self.currency
        if isinstance(value, str) and " " in value.strip():
            amount_text, _, currency = value.strip().rpartition(" ")
            value = amount_text
            try:
                check_currency(currency)
            except CloudrateError:
                self.doc.problem(
                    where, "unknown_currency", 'not an ISO 4217 code such as "EUR"', currency
                )
                return None
        number = self._decimal(value, where)
        if number is None or currency is None:
            return None
        if number < 0:
            self.doc.problem(
                where,
                "negative_price",
                "prices are >= 0; give credits as discounts or adjustments",
                str(number),
            )
            return None
        if currency != self.currency:
            self.doc.problem(
                where,
                "currency_mismatch",
                f"is in {currency}, but this plan bills in {self.currency}; give "
                "every price in a plan the plan's currency",
                f"{number} {currency}",
            )
            return None
        return Money(number, currency)

    def choice(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        options: tuple[Option, ...],
        default: Option,
    ) -> Option:
        """The option *data[key]* names, typed as *options* are (a ``Literal``'s values)."""
        value = data.get(key, default)
        if value is None:
            return default
        for option in options:
            if value == option:
                return option
        near = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        self.doc.problem(
            join_path(path, key),
            "bad_choice",
            f"must be one of {', '.join(options)}{hint}",
            value,
        )
        return default

    def whole(self, data: Mapping[str, Any], key: str, path: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | Decimal)
            or (isinstance(value, Decimal) and value != value.to_integral_value())
            or value < 0
        ):
            self.doc.problem(
                join_path(path, key), "not_whole", "expected a whole number >= 0", value
            )
            return None
        return int(value)

    def names(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.doc.problem(
            join_path(path, key), "not_names", "expected a charge name or a list of them", value
        )
        return ()

    def day(self, data: Mapping[str, Any], key: str, path: str) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            self.doc.problem(
                join_path(path, key),
                "bad_date",
                "expected a date such as 2026-10-01, not a date and time",
                value,
            )
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.doc.problem(
                join_path(path, key), "bad_date", "expected a date such as 2026-10-01", value
            )
            return None
