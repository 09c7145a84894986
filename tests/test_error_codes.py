"""Every error has a stable code, its fields, and a row in docs/errors.md."""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import (
    CloudrateError,
    ConfigError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    PlanError,
    Problem,
    UnpricedUsageError,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
SOURCES = ROOT / "src" / "cloudrate"


def _problem_codes(source: str) -> set[str]:
    """The problem codes written literally at raise sites: the second argument of
    ``Problem(...)``, of a document's ``.problem(...)``, of ``_refuse(...)`` and of a
    problem list's ``.add(path, code, message)``."""
    codes = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        func = node.func
        named = (
            (isinstance(func, ast.Name) and func.id in ("Problem", "_refuse"))
            or (isinstance(func, ast.Attribute) and func.attr == "problem")
            or (isinstance(func, ast.Attribute) and func.attr == "add" and len(node.args) >= 3)
        )
        code = node.args[1]
        if named and isinstance(code, ast.Constant) and isinstance(code.value, str):
            codes.add(code.value)
    return codes


def _error_classes() -> list[type[CloudrateError]]:
    for module in pkgutil.walk_packages(cloudrate.__path__, "cloudrate."):
        if module.name != "cloudrate._hypothesis":  # a pytest plugin, loaded by pytest
            importlib.import_module(module.name)
    found: set[type[CloudrateError]] = set()
    todo = [CloudrateError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return sorted((c for c in found if c.__module__.startswith("cloudrate")), key=str)


def _table(title: str) -> dict[str, str]:
    """The first two columns (code, then class or meaning) of the table under *title*."""
    section = DOCS.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = [
        (code, second.strip("`"))
        for code, second in re.findall(r"^\| `([a-z_]+)` \| (.+?) \|", section, re.M)
    ]
    codes = [code for code, _ in rows]
    assert len(codes) == len(set(codes)), f"a code is listed twice under {title!r}"
    return dict(rows)


ERRORS = _error_classes()


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__qualname__)
def test_every_error_class_has_its_own_listed_code(cls: type[CloudrateError]) -> None:
    assert "code" in vars(cls), f"{cls.__qualname__} has no code of its own"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code)
    listed = _table("Error classes")
    assert listed.get(cls.code) == cls.__name__, (
        f"docs/errors.md: add | `{cls.code}` | `{cls.__name__}` | ... to 'Error classes'"
    )


def test_no_two_classes_share_a_code_and_the_docs_list_no_other() -> None:
    codes = [c.code for c in ERRORS]
    assert len(codes) == len(set(codes))
    assert set(_table("Error classes")) == set(codes)


def test_every_problem_code_raised_is_listed() -> None:
    raised = {
        code
        for path in SOURCES.rglob("*.py")
        for code in _problem_codes(path.read_text(encoding="utf-8"))
    }
    assert raised, "the pattern finds the raise sites"
    listed = set(_table("Problem codes (in `ConfigError.problems`)"))
    assert raised - listed == set(), "docs/errors.md: list these problem codes"
    assert listed - raised == set(), "docs/errors.md lists problem codes nothing raises"


_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@given(
    message=_TEXT,
    path=st.none() | _TEXT,
    value=st.none() | _TEXT | st.integers() | st.decimals(allow_nan=False),
    fix=st.none() | _TEXT,
    code=st.none() | st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True),
)
def test_fields_round_trip_through_json(
    message: str, path: str | None, value: object, fix: str | None, code: str | None
) -> None:
    err = PlanError(message, path=path, value=value, fix=fix, code=code)
    data = json.loads(json.dumps(err.to_dict()))
    assert data["code"] == (code or "plan_invalid")
    assert data["message"] == str(err) == message
    assert data.get("path") == path
    assert data.get("fix") == fix
    if value is not None:
        assert data["value"] == (value if isinstance(value, str | int) else str(value))
    assert isinstance(err, ValueError)  # except ValueError keeps working


def test_subclasses_fill_their_fields() -> None:
    floated = FloatNotAllowedError(0.1, "unit_price")
    assert (floated.path, floated.value, floated.code) == ("unit_price", 0.1, "float_not_allowed")
    assert "Decimal('0.1')" in (floated.fix or "")
    mismatch = CurrencyMismatchError("EUR", "USD", "tier 1 unit_price")
    assert (mismatch.expected, mismatch.value, mismatch.path) == ("EUR", "USD", "tier 1 unit_price")
    assert "plan's currency" in str(mismatch)
    unpriced = UnpricedUsageError({"gpu_hours": 3})
    assert unpriced.value == "gpu_hours" and unpriced.fix


def test_currency_mismatch_outside_a_plan_says_what_to_do_there() -> None:
    err = CurrencyMismatchError("EUR", "USD", "recharge", fix="recharge in EUR")
    assert "plan" not in str(err)
    assert str(err) == "recharge is in USD, where EUR is expected; recharge in EUR"


def test_config_error_lists_every_problem_as_data() -> None:
    err = ConfigError(
        [
            Problem("currency", "unknown_currency", "not an ISO 4217 code", "EURO", line=2),
            Problem("charges[0].unit_price", "not_a_number", "not a number", ["x"]),
        ],
        source="plan.yaml",
    )
    data = json.loads(json.dumps(err.to_dict()))
    assert data["path"] == "plan.yaml"
    assert [p["code"] for p in data["problems"]] == ["unknown_currency", "not_a_number"]
    assert data["problems"][0]["line"] == 2
    assert data["problems"][1]["value"] == "['x']"


def test_a_plan_document_reports_every_problem_with_its_code() -> None:
    with pytest.raises(ConfigError) as caught:
        cloudrate.load_plan(
            {"name": "p", "currency": "EUR", "charges": [{"name": "c", "model": "nope"}]}
        )
    assert {p["code"] for p in caught.value.to_dict()["problems"]} <= set(
        _table("Problem codes (in `ConfigError.problems`)")
    )


#: Builtin exceptions a module may raise itself: the protocol of ``__getattr__``
#: (AttributeError) and the markers of code that must not run (NotImplementedError,
#: AssertionError). Everything else the library raises is a CloudrateError (a subclass of
#: the builtin it replaces: NotFoundError of KeyError, OptionError of ValueError...).
_PROTOCOL = {"AttributeError", "NotImplementedError", "AssertionError", "StopIteration"}


def _raw_raises(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
        for sub in ast.walk(node)
    }
    builtin = {
        name
        for name in dir(builtins)
        if isinstance(getattr(builtins, name), type)
        and issubclass(getattr(builtins, name), BaseException)
    } - _PROTOCOL
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None and id(node) not in skipped:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id in builtin:
                found.append(f"{path.relative_to(SOURCES.parent)}:{node.lineno}: {exc.id}")
    return found


def test_the_library_raises_only_its_own_errors() -> None:
    """A portal maps every error by its code: none is a bare builtin exception."""
    raw = [site for path in sorted(SOURCES.rglob("*.py")) for site in _raw_raises(path)]
    assert raw == [], "raise a CloudrateError subclass (docs/errors.md) instead"


def _calls_without_fix(path: Path) -> list[str]:
    return [
        f"{path.relative_to(SOURCES.parent)}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "CurrencyMismatchError"
        and not any(k.arg == "fix" for k in node.keywords)
    ]


def test_currency_mismatches_outside_plans_say_their_own_fix() -> None:
    """The default fix ("give every price in a plan the plan's currency") is for plans
    only: every other raise site passes a fix= that fits it."""
    outside = [
        p for p in sorted(SOURCES.rglob("*.py"))
        if p.parent.name != "plans" and p.name != "exceptions.py"
    ]  # fmt: skip
    assert [site for path in outside for site in _calls_without_fix(path)] == []
