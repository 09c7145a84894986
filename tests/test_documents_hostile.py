"""Plan and settings documents: whatever the bytes, a ConfigError naming the place, or data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudrate
from cloudrate._documents import MAX_ALIASED, MAX_DEPTH, load_document
from cloudrate.exceptions import ConfigError


def _codes(err: ConfigError) -> list[str]:
    return [p.code for p in err.problems]


def _refusal(load: object, source: object) -> ConfigError | None:
    """The ConfigError loading *source* raises, or None when it loads (any other
    exception fails the test)."""
    try:
        load(source)  # type: ignore[operator]
    except ConfigError as err:
        return err
    return None


@given(st.text(max_size=200))
def test_any_text_loads_or_is_refused_with_a_config_error(text: str) -> None:
    err = _refusal(load_document, text)
    assert err is None or (err.problems and all(p.code for p in err.problems))


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_any_bytes_in_a_plan_file_load_or_are_refused(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("plans") / "plan.yaml"
    path.write_bytes(data)
    err = _refusal(cloudrate.load_plan, path)
    assert err is None or err.source == str(path)


@settings(max_examples=50)
@given(
    lines=st.lists(
        st.from_regex(r"[a-z]{1,8}: [a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=8
    ),
    where=st.data(),
    bad=st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\x80\x80"]),
)
def test_invalid_utf8_names_its_line_and_byte(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], where: st.DataObject, bad: bytes
) -> None:
    row = where.draw(st.integers(0, len(lines) - 1))
    column = where.draw(st.integers(0, len(lines[row])))
    encoded = [line.encode() for line in lines]
    encoded[row] = encoded[row][:column] + bad + encoded[row][column:]
    path = tmp_path_factory.mktemp("utf8") / "plan.yaml"
    path.write_bytes(b"\n".join(encoded))
    with pytest.raises(ConfigError) as caught:
        load_document(path)
    (problem,) = caught.value.problems
    assert problem.code == "bad_encoding"
    assert problem.line == row + 1
    assert f"byte {column + 1} of the line" in problem.message
    assert bad[:1].hex() in problem.message


@given(st.sampled_from("\x00\x01\x07\x1b\ufffe"), st.integers(0, 3))
def test_characters_yaml_refuses_are_named_with_their_line(char: str, line: int) -> None:
    text = "name: p\n" * line + f"currency: EU{char}R\n"
    with pytest.raises(ConfigError) as caught:
        load_document(text)
    (problem,) = caught.value.problems
    assert (problem.code, problem.line) == ("yaml_syntax", line + 1)
    assert f"U+{ord(char):04X}" in problem.message


@settings(max_examples=25)
@given(depth=st.integers(MAX_DEPTH + 1, 6000), open_=st.sampled_from(["[", "{a: "]))
def test_deep_nesting_is_refused_not_a_recursion_error(depth: int, open_: str) -> None:
    close = "]" if open_ == "[" else "}"
    with pytest.raises(ConfigError) as caught:
        load_document("x: " + open_ * depth + "1" + close * depth)
    assert _codes(caught.value) == ["too_deep"]


@pytest.mark.parametrize("extra", [2, 3, 200])
def test_deep_block_nesting_is_refused_at_its_line(extra: int) -> None:
    """Nesting by indentation is refused too, at the line of the first mapping deeper
    than the bound (line k holds a mapping k - 1 deep)."""
    text = "".join("  " * i + "k:\n" for i in range(MAX_DEPTH + extra))
    with pytest.raises(ConfigError) as caught:
        load_document(text)
    (problem,) = caught.value.problems
    assert (problem.code, problem.line) == ("too_deep", MAX_DEPTH + 2)


def test_brackets_up_to_the_bound_load() -> None:
    """Brackets at the root nest one level less than under a key: MAX_DEPTH + 1 empty
    lists are MAX_DEPTH deep and load; one more is refused."""
    data = load_document("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).data
    for _ in range(MAX_DEPTH):
        (data,) = data
    assert data == []
    with pytest.raises(ConfigError) as caught:
        load_document("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2))
    assert _codes(caught.value) == ["too_deep"]


@given(depth=st.integers(1, MAX_DEPTH - 2))
def test_nesting_within_the_bound_loads(depth: int) -> None:
    data = load_document("x: " + "[" * depth + "1" + "]" * depth).data["x"]
    for _ in range(depth):
        data = data[0]
    assert data == 1


def test_a_plan_with_40000_tiers_loads(tmp_path: Path) -> None:
    tiers = "".join(
        f"      - {{up_to: {i + 1}, unit_price: '0.{i % 10}'}}\n" for i in range(39_999)
    )
    text = (
        "name: big\ncurrency: EUR\nmetrics:\n  gb: {unit: GB}\ncharges:\n"
        "  - name: storage\n    metric: gb\n    model: graduated\n    tiers:\n"
        f"{tiers}      - {{up_to: null, unit_price: '0.01'}}\n"
    )
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    plan = cloudrate.load_plan(path)
    assert len(plan.charges[0].model.tiers) == 40_000  # type: ignore[attr-defined]


def test_a_ten_megabyte_plan_loads(tmp_path: Path) -> None:
    notes = "x" * 1000
    charges = "".join(
        f"  - {{name: c{i}, metric: gb, model: per_unit, unit_price: '0.01', "
        f"description: '{notes}'}}\n"
        for i in range(10_000)
    )
    path = tmp_path / "wide.yaml"
    path.write_text(f"name: wide\ncurrency: EUR\nmetrics:\n  gb: {{unit: GB}}\ncharges:\n{charges}")
    assert path.stat().st_size > 10_000_000
    assert len(cloudrate.load_plan(path).charges) == 10_000


def test_aliases_of_aliases_are_still_refused() -> None:
    text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for i in range(1, 8):
        text += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    with pytest.raises(ConfigError) as caught:
        load_document(text)
    assert _codes(caught.value) == ["too_large"]
    assert str(MAX_ALIASED) in str(caught.value)


def test_an_alias_used_a_few_times_loads() -> None:
    doc = load_document("base: &b {unit: GB}\nm1: *b\nm2: *b\n")
    assert doc.data["m1"] == doc.data["m2"] == {"unit": "GB"}
