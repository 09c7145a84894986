"""``read_columnar(on_progress=...)``: after each batch, the bytes read so far and the
file's size, rising to the size at the last batch, for every kind of file."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from cloudrate.rating.columnar import _io, read_columnar  # noqa: E402

from .conftest import T0  # noqa: E402


def _rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "account": f"acct-{i % 7}",
            "metric": "vcpu_hours",
            "quantity": f"{i}.5",
            "start": (T0 + timedelta(hours=i % 700)).isoformat(),
            "end": (T0 + timedelta(hours=i % 700 + 1)).isoformat(),
        }
        for i in range(n)
    ]


def _write(tmp_path, kind: str, n: int, group: int):
    rows = _rows(n)
    path = tmp_path / f"usage.{kind}"
    if kind == "csv":
        lines = [",".join(rows[0])] + [",".join(r.values()) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=group)
    return path


def _reports(path, **options) -> tuple[list[tuple[int, int]], int]:
    seen: list[tuple[int, int]] = []
    batches = sum(1 for _ in read_columnar(path, on_progress=lambda *a: seen.append(a), **options))
    return seen, batches


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_progress_rises_to_the_file_size(tmp_path, kind):
    """One report a batch, never falling, the size as the total, the last one the size
    (text files report where the reader is, which may be a block or two ahead)."""
    path = _write(tmp_path, kind, 3000, group=700)
    size = path.stat().st_size
    options = {"batch_rows": 500} if kind == "parquet" else {"block_size": 20_000}
    seen, batches = _reports(path, **options)
    assert batches > 3 and len(seen) == batches
    done = [d for d, _ in seen]
    assert {t for _, t in seen} == {size}
    assert done == sorted(done) and len(set(done)) > batches // 2
    assert 0 < done[0] < size and done[-1] == size


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 400), st.integers(1, 150), st.integers(1, 160))
def test_parquet_progress_follows_the_row_groups(tmp_path_factory, n, group, batch):
    """Whatever the row groups and batch sizes: a report at each batch, rising, within
    the file, the size at the end; a row group's end is reported at its end's offset."""
    path = _write(tmp_path_factory.mktemp("pq"), "parquet", n, group)
    size = path.stat().st_size
    seen, batches = _reports(path, batch_rows=batch)
    done = [d for d, _ in seen]
    assert len(seen) == batches and done == sorted(done) and done[-1] == size
    assert all(0 < d <= size for d in done)
    progress = _io._ParquetProgress(path)
    ends = [progress(r, size) for r in range(group, n, group)]  # each full row group
    assert ends == sorted(ends) and all(e < size for e in ends)
