"""Aggregate columnar usage by (account, charge), exactly, one record batch at a time.

``sum`` metrics are aggregated vectorised on int64 fixed-point quantities with overflow
checks (:class:`~cloudrate.rating.columnar._exact.GroupSum`); ``max``, ``average``, ``unique``,
``latest``, per-resource flat fees and metrics that round each record go through the
same per-record code as :func:`cloudrate.rate`, on the rows of those metrics only.
"""

from __future__ import annotations

import decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cloudrate._intmath import LIMIT
from cloudrate._money import EXACT
from cloudrate.period import BillingPeriod, overlaps, spans_within, zone
from cloudrate.plans import Plan
from cloudrate.rating._accumulate import Acc, accumulate, record_quantity
from cloudrate.rating._slots import ChargeSlot, charge_slots
from cloudrate.rating._unpriced import NO_CHARGE, NO_SELECTION, UnpricedReason, UnpricedTally
from cloudrate.rating._window import outside_error
from cloudrate.usage import UsageRecord

from ._columns import FIRST_LINE, SCALE, Batch
from ._exact import GroupSum
from ._fingerprint import Fingerprints
from ._values import from_micros, micros

#: Rows aggregated at a time: bounds the temporary arrays (about 40 bytes a row).
CHUNK = 1 << 20
#: Dictionaries remembered (slices of one batch share one; files give one per block).
_CACHED = 4
#: Instants (microseconds) before and after every record, for an open side of a window.
_EARLIEST_US = -(2**62)
_LATEST_US = 2**62

__all__ = ["Aggregator"]


def _known_codes(dictionary: pa.Array, names: pa.Array) -> np.ndarray:
    """For each value of *dictionary*, its position in *names* (distinct values), -1 when
    absent.

    Arrow hashes the value set of a look-up on every call, so the smaller of the two is
    made the value set: a batch's dictionary is usually smaller than the accounts seen.

    >>> _known_codes(pa.array(["b", "x", "a"]), pa.array(["a", "b", "c", "d"])).tolist()
    [1, -1, 0]
    >>> _known_codes(pa.array(["b", "x", "a", "c", "y"]), pa.array(["a", "b"])).tolist()
    [1, -1, 0, -1, -1]
    """
    if len(names) <= len(dictionary):
        found = pc.fill_null(pc.index_in(dictionary, value_set=names), -1)
        return found.to_numpy(zero_copy_only=False).astype(np.int64)
    # where each known name is in the dictionary; a value repeated in the dictionary
    # (Arrow allows it) keeps -1 at its later positions, and is then found by name
    at = pc.fill_null(pc.index_in(names, value_set=dictionary), -1)
    at = at.to_numpy(zero_copy_only=False).astype(np.int64)
    known = np.flatnonzero(at >= 0)
    mapping = np.full(len(dictionary), -1, dtype=np.int64)
    mapping[at[known]] = known
    return mapping


class Aggregator:
    """Running exact aggregates of usage for one plan and period.

    With *fingerprints* (a :class:`Fingerprints`), the fingerprint of every row is kept
    (for :mod:`._dedup` to find copies); with *drop*, the rows at those positions
    (sorted, counted over every row given) are left out: the copies :mod:`._dedup`
    found. Batches are aggregated in slices of at most *chunk* rows; the aggregates do
    not depend on where the slices end.
    """

    def __init__(
        self,
        plan: Plan,
        period: BillingPeriod,
        *,
        exponents: bool = True,
        fingerprints: Fingerprints | None = None,
        drop: np.ndarray | None = None,
        chunk: int = CHUNK,
    ) -> None:
        self.plan, self.period = plan, period
        self.tz = zone(plan.timezone)
        self.fingerprints = fingerprints
        self.chunk = chunk
        self.drop = drop
        self.position = 0  # rows given so far, dropped ones included
        self.duplicates_dropped = self.corrections = 0
        self.exponents = exponents  # track how quantities were written (for lines, not totals)
        self.p_start, self.p_end = micros(period.start), micros(period.end)
        self.slots = charge_slots(plan, period)
        self.metric_names = list(self.slots)
        self.metric_code = {m: i for i, m in enumerate(self.metric_names)}
        self._number_metrics(self.metric_names)
        self._account_code: dict[str, int] | None = {}
        self.account_names: list[str] = []
        self.seen = np.zeros(0, dtype=bool)
        self.sums = GroupSum()  # key: account * metrics + metric
        self.where_sums: dict[int, GroupSum] = {}  # key: account, per charge index
        self.slow: dict[tuple[str, int], Acc] = {}
        self.unpriced = UnpricedTally()
        self.scale = 6
        self.outside = 0
        self.first_outside: tuple[str, str, int, int] | None = None
        self.rows = 0
        # caches by dictionary buffers; each entry holds its dictionary alive (see _coded)
        self._dictionaries: dict[Any, Any] = {}
        self._maps: dict[Any, tuple[Any, np.ndarray]] = {}
        self._identity: dict[Any, bool] = {}  # dictionaries whose codes are the global ones
        self._names_arr: pa.Array | None = None
        self._started = False  # whether metric codes are fixed (by the first batch)

    # --- one batch ---------------------------------------------------------------------

    def add(self, batch: pa.RecordBatch) -> None:
        """Aggregate one record batch (in slices of :attr:`chunk` rows, for the caches)."""
        if self.drop is not None:
            batch = self._without_dropped(batch)
        if self.fingerprints is not None:
            self.fingerprints.begin(batch.num_rows)
        for offset in range(0, batch.num_rows, self.chunk):
            part = batch.slice(offset, self.chunk)
            self._add(part if offset == 0 else _from_line(part, offset))

    def _without_dropped(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """*batch* without the rows :attr:`drop` names (positions over every row given)."""
        assert self.drop is not None
        first, n = self.position, batch.num_rows
        self.position += n
        lo, hi = np.searchsorted(self.drop, [first, first + n])
        if lo == hi:
            return batch
        keep = np.ones(n, dtype=bool)
        keep[self.drop[lo:hi] - first] = False
        return batch.filter(pa.array(keep))

    def _add(self, batch: pa.RecordBatch) -> None:
        """Aggregate one slice of at most :attr:`chunk` rows."""
        data = Batch(batch, self.rows, self._dictionaries, self.exponents)
        self.rows += data.rows
        if data.rows == 0:
            return
        inside = self._inside(data)
        accounts, metrics, metric_map = self._codes(data)
        if self.fingerprints is not None:
            self.fingerprints.add(data, accounts, metrics)
        if inside is not None:
            metrics = np.where(inside, metrics, -2)  # outside rows are only counted
        self._widen_scale(data.scale)
        self._grow_seen()
        if inside is None and bool(self.only_plain[metric_map].all()):
            self._add_plain(data, accounts, metrics)
        else:
            self._add_mixed(data, accounts.astype(np.int64, copy=False), metrics)

    def _inside(self, data: Batch) -> np.ndarray | None:
        """Which rows lie in the period (None when all do); the others are noted.

        The rule applied to the extremes first (the earliest and the latest start, each
        with the latest end) says at the cost of three reductions whether every row is in.
        """
        if not data.rows:
            return None
        latest_end = int(data.end.max())
        extremes = np.array([int(data.start.min()), int(data.start.max())])
        if spans_within(extremes, latest_end, self.p_start, self.p_end).all():
            return None
        inside = spans_within(data.start, data.end, self.p_start, self.p_end)
        self._note_outside(data, inside)
        return inside

    def codes(self, data: Batch) -> tuple[np.ndarray, np.ndarray]:
        """(global account code, global metric code, -1 for a metric the plan does not
        price) of each row of *data*."""
        accounts, metrics, _ = self._codes(data)
        return accounts, metrics

    def _codes(self, data: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(global account code, global metric code) of each row, and the metric map."""
        account_map = self._account_map(data)
        if self._identity.get(data.account_key):
            accounts = data.account_codes
        else:
            accounts = account_map[data.account_codes]
        metric_map = self._metric_map(data)
        if self._identity.get(data.metric_key):
            metrics = data.metric_codes
        else:
            metrics = metric_map[data.metric_codes]
        return accounts, metrics, metric_map

    def _widen_scale(self, scale: int) -> None:
        """Keep the sums in units of 10**-*scale* when a batch has more decimals."""
        if scale <= self.scale:
            return
        factor = 10 ** (scale - self.scale)
        self.sums.rescale(factor)
        for group in self.where_sums.values():
            group.rescale(factor)
        self.scale = scale

    def _add_plain(self, data: Batch, accounts: np.ndarray, metrics: np.ndarray) -> None:
        """Rows all in the period, of metrics only summed without a selector: one pass."""
        values, wide = data.low_words()
        m_count = len(self.metric_names)
        size = len(self.account_names) * m_count
        self.sums.grow(size)
        keys = np.multiply(accounts, m_count, dtype=np.int64)
        keys += metrics
        self._add_sums(self.sums, data, None, keys, values, wide, size)

    def _add_mixed(self, data: Batch, accounts: np.ndarray, metrics: np.ndarray) -> None:
        """The general pass: plain sums vectorised, the other rows charge by charge; rows
        outside the period (metric code -2) are skipped, :meth:`_inside` counted them."""
        values, wide = data.low_words()
        m_count = len(self.metric_names)
        size = len(self.account_names) * m_count
        plain = metrics >= 0  # -1: a metric no charge prices, -2: outside the period
        plain[plain] = self.plain[metrics[plain]]
        rest = np.flatnonzero(~plain & (metrics != -2))
        self.seen[accounts[rest]] = True
        self._add_sums(
            self.sums, data, np.flatnonzero(plain), accounts * m_count + metrics, values, wide, size
        )
        unknown = rest[metrics[rest] == -1]
        if len(unknown):
            self._note_unpriced(data, accounts, unknown, NO_CHARGE)
        for name, slots in self.slots.items():
            code = self.metric_code[name]
            if self.only_plain[code]:
                continue  # every charge of the metric sums it in the vectorised pass
            if self.plain[code]:
                rows = np.flatnonzero(metrics == code)
            else:
                rows = rest[metrics[rest] == code]
            if len(rows):
                self._add_metric(data, slots, rows, accounts, values, wide)

    def _add_metric(
        self,
        data: Batch,
        slots: tuple[ChargeSlot, ...],
        rows: np.ndarray,
        accounts: np.ndarray,
        values: np.ndarray,
        wide: np.ndarray | None,
    ) -> None:
        """Give *rows* (of one metric) to the charges whose slots select them, except
        the sums already added in the vectorised pass; note the rows none selects."""
        matched = np.zeros(len(rows), dtype=bool)
        for slot in slots:
            mask = self._select(data, rows, slot)
            matched |= mask
            if slot.summed:
                continue  # done in the vectorised pass
            chosen = rows[mask]
            if slot.adds_raw:
                group = self.where_sums.setdefault(slot.index, GroupSum())
                self._add_sums(group, data, chosen, accounts, values, wide, len(self.account_names))
            else:
                self._add_slow(data, chosen, slot)
        if not matched.all():
            self._note_unpriced(data, accounts, rows[~matched], NO_SELECTION)

    @property
    def account_code(self) -> dict[str, int]:
        """Global code of each account name."""
        if self._account_code is None:
            self._account_code = {name: i for i, name in enumerate(self.account_names)}
        return self._account_code

    def _account_map(self, data: Batch) -> np.ndarray:
        """Global account codes of the batch's dictionary (cached by dictionary)."""
        cached = self._maps.get(data.account_key)
        if cached is not None:
            return cached[1]
        if not self.account_names and len(set(data.accounts)) == len(data.accounts):
            self.account_names = list(data.accounts)
            self._account_code = None  # built when a second dictionary needs it
            mapping = np.arange(len(self.account_names), dtype=np.int64)
            self._identity[data.account_key] = True
        else:
            mapping = _known_codes(data.account_dict, self._names_array())
            new = np.flatnonzero(mapping < 0)
            if len(new):
                codes = self.account_code
                for i, name in zip(
                    new.tolist(), data.account_dict.take(pa.array(new)).to_pylist(), strict=True
                ):
                    code = codes.get(name)
                    if code is None:
                        code = codes[name] = len(self.account_names)
                        self.account_names.append(name)
                    mapping[i] = code
        if len(mapping) == 0:
            mapping = np.zeros(1, dtype=np.int64)
        self._cache(data.account_key, mapping, data.account_dict)
        return mapping

    def _number_metrics(self, order: list[str]) -> None:
        """Code the plan's metrics in *order*, and note which are summed in one pass."""
        self.metric_names = order
        self.metric_code = {m: i for i, m in enumerate(order)}
        # plain: some charge sums the metric with no selector (one vectorised pass);
        # only_plain: every charge of the metric does (its records need nothing else).
        # Both end with False for the code -1 (unknown metric).
        self.plain = np.array([any(s.summed for s in self.slots[m]) for m in order] + [False])
        self.only_plain = np.array([all(s.summed for s in self.slots[m]) for m in order] + [False])

    def _names_array(self) -> pa.Array:
        """The account names as an Arrow array (for vectorised look-ups), kept up to date."""
        have = self._names_arr
        if have is None or len(have) != len(self.account_names):
            start = 0 if have is None else len(have)
            tail = pa.array(self.account_names[start:], pa.string())
            have = tail if have is None else pa.concat_arrays([have, tail])
            self._names_arr = have
        return have

    def _metric_map(self, data: Batch) -> np.ndarray:
        cached = self._maps.get(data.metric_key)
        if cached is not None:
            return cached[1]
        if (
            not self._started
            and all(m in self.metric_code for m in data.metrics)
            and len(set(data.metrics)) == len(data.metrics)
        ):
            # number the plan's metrics in this dictionary's order: its codes need no map
            given = set(data.metrics)
            order = [*data.metrics, *(m for m in self.metric_names if m not in given)]
            self._number_metrics(order)
            self._identity[data.metric_key] = True
        self._started = True
        mapping = np.array(
            [self.metric_code.get(m, -1) for m in data.metrics] or [-1], dtype=np.int64
        )
        self._cache(data.metric_key, mapping, data.metric_dict)
        return mapping

    def _cache(self, key: Any, mapping: np.ndarray, dictionary: pa.Array) -> None:
        if len(self._maps) >= _CACHED:
            oldest = next(iter(self._maps))
            del self._maps[oldest]
            self._identity.pop(oldest, None)
        self._maps[key] = (dictionary, mapping)  # holding the dictionary keeps the key valid

    def _grow_seen(self) -> None:
        if len(self.seen) < len(self.account_names):
            seen = np.zeros(max(len(self.account_names), 2 * len(self.seen)), dtype=bool)
            seen[: len(self.seen)] = self.seen
            self.seen = seen

    def _add_sums(
        self,
        group: GroupSum,
        data: Batch,
        rows: np.ndarray | None,
        keys: np.ndarray,
        values: np.ndarray,
        wide: np.ndarray | None,
        size: int,
    ) -> None:
        """Add the quantities of *rows* (None: all rows) to *group* under *keys*."""
        if rows is not None and len(rows) == 0:
            group.grow(size)
            return
        factor = 10 ** (self.scale - data.scale)
        exps = data.exponent
        if rows is None:
            keys_r, values_r, wide_r = keys, values, wide
        else:
            keys_r, values_r = keys[rows], values[rows]
            wide_r = None if wide is None else wide[rows]
            exps = exps if isinstance(exps, int) else exps[rows]
        too_big = wide_r is not None and bool(wide_r.any())
        if factor > 1 and int(values_r.max()) > LIMIT // factor:
            too_big = True
            wide_r = (
                (values_r > LIMIT // factor)
                if wide_r is None
                else (wide_r | (values_r > LIMIT // factor))
            )
        if too_big:
            assert wide_r is not None
            # rows too large for int64 (or its rescaling): exact Python ints, row by row
            odd = np.flatnonzero(wide_r)
            picked = odd if rows is None else rows[odd]
            for i, q in zip(odd.tolist(), data.decimals(picked.tolist()), strict=True):
                e = exps if isinstance(exps, int) else int(exps[i])
                group.add_one(int(keys_r[i]), int(q.scaleb(self.scale, EXACT)), min(e, 0), size)
            keep = ~wide_r
            keys_r, values_r = keys_r[keep], values_r[keep]
            exps = exps if isinstance(exps, int) else exps[keep]
        if factor > 1:
            values_r = values_r * np.int64(factor)
        group.add(keys_r, values_r, exps, size)

    def _select(self, data: Batch, rows: np.ndarray, slot: ChargeSlot) -> np.ndarray:
        """Which of *rows* the slot's ``where`` (the condition's own mask) and validity
        window (:func:`cloudrate.period.overlaps`) select."""
        where = slot.charge.where
        if where:
            taken = pa.array(rows)
            columns: dict[str, pa.Array] = {}
            for key in where.attributes():
                column = data.attribute(key)
                if column is not None:
                    columns[key] = column.take(taken)
            chosen = where.mask(columns, len(rows))
        else:
            chosen = np.ones(len(rows), dtype=bool)
        if slot.window is not None:
            low, high = slot.window
            chosen &= overlaps(
                data.start[rows],
                data.end[rows],
                _EARLIEST_US if low is None else micros(low),
                _LATEST_US if high is None else micros(high),
            )
        return chosen

    def _add_slow(self, data: Batch, rows: np.ndarray, slot: ChargeSlot) -> None:
        """Give *rows* to *slot* one record at a time, as :func:`cloudrate.rate` does
        (in the library's decimal context, the records of a metric that rounds each
        record converted and rounded first)."""
        if len(rows) == 0:
            return
        ids = data.optional("record_id")
        resources = data.optional("resource_id")
        quantities = data.decimals(rows.tolist())
        scale = None
        if slot.per_record:
            assert slot.charge.metric is not None, "slots price a metric"
            scale = record_quantity(self.plan, self.period, slot.charge.metric)
        with decimal.localcontext(EXACT):
            for i, quantity in zip(rows.tolist(), quantities, strict=True):
                record = UsageRecord(
                    account=data.accounts[data.account_codes[i]],
                    metric=data.metrics[data.metric_codes[i]],
                    quantity=quantity,
                    start=from_micros(int(data.start[i])),
                    end=from_micros(int(data.end[i])),
                    record_id=ids[i],
                    resource_id=resources[i],
                )
                key = (record.account, slot.index)
                acc = self.slow.get(key)
                if acc is None:
                    acc = self.slow[key] = Acc()
                acc.count += 1
                accumulate(
                    acc,
                    slot.aggregation,
                    record,
                    None if scale is None else scale(quantity, record.start),
                    self.tz,
                )

    def _note_unpriced(
        self, data: Batch, accounts: np.ndarray, rows: np.ndarray, reason: UnpricedReason
    ) -> None:
        metric_codes = data.metric_codes[rows]
        for m in np.unique(metric_codes).tolist():
            chosen = accounts[rows[metric_codes == m]]
            codes, counts = np.unique(chosen, return_counts=True)
            metric = data.metrics[m]
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                self.unpriced.add(metric, reason, self.account_names[code], count)

    def _note_outside(self, data: Batch, inside: np.ndarray) -> None:
        rows = np.flatnonzero(~inside)
        self.outside += len(rows)
        if self.first_outside is None:
            i = int(rows[0])
            self.first_outside = (
                data.accounts[data.account_codes[i]],
                data.metrics[data.metric_codes[i]],
                int(data.start[i]),
                int(data.end[i]),
            )

    def check(self) -> None:
        """Raise as :func:`cloudrate.rate` does when records lie outside the period."""
        if not self.outside or self.first_outside is None:
            return
        account, metric, start, end = self.first_outside
        raise outside_error(
            self.period, self.outside, account, metric, from_micros(start), from_micros(end)
        )

    # --- results ------------------------------------------------------------------------

    def seen_mask(self) -> np.ndarray:
        """Which accounts have records in the period (by global account code)."""
        n = len(self.account_names)
        self._grow_seen()
        m_count = len(self.metric_names)
        self.sums.grow(n * m_count)
        seen = self.seen[:n].copy()
        if m_count:
            seen |= self.sums.counts[: n * m_count].reshape(n, m_count).any(axis=1)
        return seen

    def seen_accounts(self) -> list[str]:
        return [self.account_names[i] for i in np.flatnonzero(self.seen_mask())]

    def sum_groups(self) -> list[tuple[ChargeSlot, np.ndarray, np.ndarray, GroupSum]]:
        """For every sum charge: (slot, account codes, keys into the group, group)."""
        return [
            (slot, *self.sum_group(slot))
            for slots in self.slots.values()
            for slot in slots
            if slot.adds_raw
        ]

    def sum_group(self, slot: ChargeSlot) -> tuple[np.ndarray, np.ndarray, GroupSum]:
        """(account codes, keys into the group, group) of the sum charge *slot*: the
        accounts with records for it."""
        group, keys = self.slot_sums(slot, np.arange(len(self.account_names), dtype=np.int64))
        hit = group.counts[keys] > 0
        return np.flatnonzero(hit), keys[hit], group

    def slot_sums(self, slot: ChargeSlot, accounts: np.ndarray) -> tuple[GroupSum, np.ndarray]:
        """(group, keys of *accounts* in it) holding the sums of the sum charge *slot*:
        its metric's sums, shared by the charges that add every record up, or the slot's
        own when it selects records (a ``where`` or a validity window)."""
        m_count = len(self.metric_names)
        n = len(self.account_names)
        self.sums.grow(n * m_count)
        if slot.summed:
            assert slot.charge.metric is not None, "a slot's charge prices a metric"
            return self.sums, accounts * m_count + self.metric_code[slot.charge.metric]
        group = self.where_sums.setdefault(slot.index, GroupSum())
        group.grow(n)
        return group, accounts

    def scale_factor(self) -> int:
        """Multiply the int sums by this to get units of 10**-SCALE."""
        return 10 ** (SCALE - self.scale)


def _from_line(part: pa.RecordBatch, offset: int) -> pa.RecordBatch:
    """A slice of a file's batch, *offset* rows in: its first row is that many lines on."""
    meta = part.schema.metadata
    if not meta or FIRST_LINE not in meta:
        return part
    line = int(meta[FIRST_LINE]) + offset
    return part.replace_schema_metadata({**meta, FIRST_LINE: str(line).encode()})
