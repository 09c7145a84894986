"""Both engines read every spelling of a quantity or a time alike: the same result, or the
same refusal in the same words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate.exceptions import CloudrateError
from cloudrate.rating.columnar import rate_table, read_columnar

PLAN = cloudrate.load_plan(cloudrate.sample_plan_path())
PERIOD = cloudrate.BillingPeriod.month(2026, 10, PLAN.timezone)

_SPECIAL = ["NaN", "nan", "Infinity", "-inf", "0x10", "\u0661", "1_000", "1,5", " 1", "1 ", ""]
QUANTITIES = st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,45}(\.[0-9]{0,16})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(_SPECIAL).filter(lambda q: "," not in q),
    st.decimals(min_value=0, max_value=10**30, places=6).map(str),
)


@st.composite
def times(draw: st.DrawFn) -> str:
    """An instant in October 2026 written in one of the spellings files carry."""
    at = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(0, 30 * 86400)), microseconds=draw(st.integers(0, 999_999))
    )
    offset = draw(st.sampled_from([0, 0, 60, -300, 330]))
    local = at + timedelta(minutes=offset)
    text = local.strftime("%Y-%m-%d") + draw(st.sampled_from(["T", "t", " "]))
    text += local.strftime("%H:%M")
    if draw(st.booleans()):
        text += local.strftime(":%S")
        digits = draw(st.integers(0, 9))
        if digits:
            text += "." + f"{local.microsecond:06d}{'0' * 3}"[:digits]
    if offset == 0:
        zone = draw(st.sampled_from(["Z", "z", "+00:00", "+0000", "-00:00", "+00", ""]))
    else:
        sign, minutes = ("+" if offset > 0 else "-"), abs(offset)
        zone = draw(
            st.sampled_from(
                [
                    f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
                    f"{sign}{minutes // 60:02d}{minutes % 60:02d}",
                ]
            )
        )
    return text + zone


def _outcome(read: object) -> object:
    try:
        return ("rated", read())  # type: ignore[operator]
    except CloudrateError as exc:
        problems = getattr(exc, "problems", ())
        return (
            "refused",
            type(exc).__name__,
            [(p.code, p.line, p.message) for p in problems] or str(exc),
        )


def _both(path: Path) -> tuple[object, object]:
    per_record = _outcome(lambda: cloudrate.rate(PLAN, cloudrate.read_usage(path), PERIOD))
    columnar = _outcome(lambda: rate_table(PLAN, read_columnar(path), PERIOD))
    return per_record, columnar


@settings(max_examples=150, deadline=None)
@given(quantity=QUANTITIES)
def test_every_quantity_spelling_is_read_alike(
    tmp_path_factory: pytest.TempPathFactory, quantity: str
) -> None:
    path = tmp_path_factory.mktemp("parity") / "usage.csv"
    path.write_text(
        "account,metric,quantity,start,end\n"
        f"acme,vcpu_hours,{quantity},2026-10-02T00:00:00Z,2026-10-02T01:00:00Z\n"
    )
    per_record, columnar = _both(path)
    assert per_record == columnar


@settings(max_examples=150, deadline=None)
@given(start=times(), hours=st.integers(0, 48))
def test_every_time_spelling_is_read_alike(
    tmp_path_factory: pytest.TempPathFactory, start: str, hours: int
) -> None:
    path = tmp_path_factory.mktemp("parity") / "usage.csv"
    end = f"2026-10-{min(31, 2 + hours // 24):02d}T{hours % 24:02d}:00:00Z"
    path.write_text(f"account,metric,quantity,start,end\nacme,vcpu_hours,1.5,{start},{end}\n")
    per_record, columnar = _both(path)
    assert per_record == columnar


@settings(max_examples=80, deadline=None)
@given(quantity=QUANTITIES, start=times())
def test_json_lines_are_read_alike(
    tmp_path_factory: pytest.TempPathFactory, quantity: str, start: str
) -> None:
    path = tmp_path_factory.mktemp("parity") / "usage.jsonl"
    path.write_text(
        json.dumps(
            {
                "account": "acme",
                "metric": "vcpu_hours",
                "quantity": quantity,
                "start": start,
                "end": "2026-10-31T22:00:00Z",  # inside the Berlin October of PLAN
            }
        )
        + "\n"
    )
    per_record, columnar = _both(path)
    assert per_record == columnar


@settings(max_examples=100, deadline=None)
@given(mantissa=st.integers(1, 10**8), exponent=st.integers(-90, 30), point=st.booleans())
def test_quantities_in_scientific_notation_are_never_cut(
    tmp_path_factory: pytest.TempPathFactory, mantissa: int, exponent: int, point: bool
) -> None:
    """Arrow casts 1E-80 to 0 at any scale; the columnar engine must notice and rate such
    usage exactly (by the per-record engine) rather than bill nothing."""
    written = f"{mantissa}{'.0' if point else ''}E{exponent}"
    path = tmp_path_factory.mktemp("parity") / "usage.csv"
    path.write_text(
        "account,metric,quantity,start,end\n"
        f"acme,vcpu_hours,{written},2026-10-02T00:00:00Z,2026-10-02T01:00:00Z\n"
    )
    per_record, columnar = _both(path)
    assert per_record == columnar
