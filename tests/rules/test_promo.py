"""Promo codes: generation, validation, redemption limits and discount lines."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.accounts import InMemoryRedemptionStore, SQLiteRedemptionStore
from cloudrate.rules import PromoCode, PromoDiscount, PromoError, find_code, generate_code

NOW = datetime(2026, 10, 15, tzinfo=UTC)


class TestGenerate:
    @given(st.integers())
    def test_prefix_and_alphabet(self, seed):
        code = generate_code("NEWUSER", random.Random(seed))
        prefix, _, tail = code.partition("-")
        assert prefix == "NEWUSER" and len(tail) == 6
        assert not set(tail) & set("01OI")

    def test_same_seed_same_codes(self):
        a, b = random.Random(42), random.Random(42)
        first = [generate_code("X", a) for _ in range(5)]
        assert first == [generate_code("X", b) for _ in range(5)]

    def test_bad_prefix(self):
        with pytest.raises(cloudrate.PlanError, match="prefix"):
            generate_code("new user", random.Random(1))


class TestValidate:
    codes = (
        PromoCode(
            code="NEWUSER-7F3K9Q",
            percent=10,
            first_time_only=True,
            valid_from=datetime(2026, 10, 1, tzinfo=UTC),
            valid_until=datetime(2026, 11, 1, tzinfo=UTC),
            max_redemptions=2,
        ),
    )

    @pytest.mark.parametrize(
        ("text", "reason"), [("NEW USER!", "malformed"), ("NEWUSER-XXXXXX", "unknown")]
    )
    def test_malformed_and_unknown(self, text, reason):
        with pytest.raises(PromoError) as info:
            find_code(text, self.codes)
        assert info.value.reason == reason

    @pytest.mark.parametrize(
        ("now", "reason"),
        [
            (datetime(2026, 9, 30, tzinfo=UTC), "not_yet_valid"),
            (datetime(2026, 11, 1, tzinfo=UTC), "expired"),
        ],
    )
    def test_validity_window(self, now, reason):
        with pytest.raises(PromoError, match=reason):
            self.codes[0].check("acme", now, InMemoryRedemptionStore(), new_customer=True)

    def test_first_time_only_on_and_off(self):
        store = InMemoryRedemptionStore()
        with pytest.raises(PromoError, match="first_time_only"):
            self.codes[0].check("acme", NOW, store, new_customer=False)
        PromoCode(code="ANY-2222", percent=5).check("acme", NOW, store, new_customer=False)

    def test_redemption_limits(self):
        """Two redemptions in total, one per account: the third account is refused."""
        store, code = InMemoryRedemptionStore(), self.codes[0]
        code.redeem("a", NOW, store, new_customer=True)
        with pytest.raises(PromoError, match="already_redeemed"):
            code.redeem("a", NOW, store, new_customer=True)
        code.redeem("b", NOW, store, new_customer=True)
        with pytest.raises(PromoError, match="used_up"):
            code.redeem("c", NOW, store, new_customer=True)
        assert store.count(code.code) == 2

    def test_racing_redemptions_respect_the_limit(self):
        """20 threads redeem a 5-use code: exactly 5 succeed."""
        store = InMemoryRedemptionStore()
        code = PromoCode(code="RACE-2345", percent=5, max_redemptions=5)
        ok: list[str] = []

        def go(i: int) -> None:
            try:
                code.redeem(f"acct-{i}", NOW, store)
                ok.append(f"acct-{i}")
            except PromoError:
                pass

        threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ok) == 5 == store.count("RACE-2345")

    def test_bad_definitions(self):
        with pytest.raises(cloudrate.PlanError, match="either percent or fixed"):
            PromoCode(code="A-2345")
        with pytest.raises(cloudrate.PlanError, match="at most 100"):
            PromoCode(code="A-2345", percent=150)


class TestDiscount:
    def test_percent_limited_to_charges(self, result, context):
        """10% off compute and memory only."""
        bill = result.bill("acme")
        promo = PromoCode(code="NEWUSER-7F3K9Q", percent=10, charges={"compute", "memory"})
        (line,) = PromoDiscount(promo).lines(bill, context)
        base = bill.line("compute").amount.amount + bill.line("memory").amount.amount
        assert line.amount.amount == -base / 10 and line.kind == "discount"

    def test_limited_to_metrics(self, result, context):
        bill = result.bill("acme")
        promo = PromoCode(code="IP-2345", percent=100, metrics={"public_ip_hours"})
        (line,) = PromoDiscount(promo).lines(bill, context)
        assert line.rounded == -bill.line("public_ip").rounded

    def test_fixed_never_below_zero(self, result, context):
        bill = result.bill("initech")
        promo = PromoCode(code="BIG-2345", fixed=Money("10000", "EUR"))
        after = bill.with_lines(PromoDiscount(promo).lines(bill, context))
        usage = sum(x.rounded.amount for x in bill.lines if x.kind == "charge")
        assert after.total.amount == bill.total.amount - usage

    def test_no_matching_lines_no_discount(self, result, context):
        promo = PromoCode(code="X-2345", percent=10, charges={"nothing"})
        assert PromoDiscount(promo).lines(result.bill("acme"), context) == ()

    def test_fixed_in_other_currency(self, result, context):
        promo = PromoCode(code="USD-2345", fixed=Money("5", "USD"))
        with pytest.raises(PromoError, match="currency"):
            PromoDiscount(promo).lines(result.bill("acme"), context)

    def test_amounts_exact(self, result, context):
        line = PromoDiscount(PromoCode(code="P-2345", percent=Decimal("12.5"))).lines(
            result.bill("globex"), context
        )[0]
        assert isinstance(line.amount.amount, Decimal)


def _redeem_in_process(path: str, account: str) -> bool:
    store = SQLiteRedemptionStore(path)
    code = PromoCode(code="PROC-2345", percent=5, max_redemptions=3)
    try:
        code.redeem(account, NOW, store)
        return True
    except PromoError:
        return False
    finally:
        store.close()


def test_sqlite_store_holds_the_limit_across_processes(tmp_path):
    """Eight redemptions from two processes, one SQLite file, a 3-use code: 3 succeed."""
    import multiprocessing

    path = str(tmp_path / "promo.sqlite")
    SQLiteRedemptionStore(path).close()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(_redeem_in_process, [(path, f"acct-{i}") for i in range(8)])
    assert sum(results) == 3
    store = SQLiteRedemptionStore(path)
    assert store.count("PROC-2345") == 3 and len(store.redemptions("PROC-2345")) == 3
    store.close()
