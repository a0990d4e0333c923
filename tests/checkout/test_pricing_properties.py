"""Properties of the pricing engine over random carts (hypothesis).

Exact rational arithmetic (fractions.Fraction, whose round() is half-even) is the
independent oracle for tax and percentages; the sums are checked line by line.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.checkout.pricing import (
    FIXED,
    FREE_SHIPPING,
    PERCENTAGE,
    Discount,
    Priced,
    PriceLine,
    Shipping,
    price,
    round_half_even,
    spread,
    tax_of,
)

# A loaded 2-core machine must not turn a slow example into a failure.
settings.register_profile("pricing", deadline=None, max_examples=200)
PROFILE = settings.get_profile("pricing")

ids = st.frozensets(st.integers(1, 4), max_size=2)


@st.composite
def price_lines(draw: st.DrawFn) -> list[PriceLine]:
    count = draw(st.integers(0, 6))
    unit = st.integers(0, 10**7) | st.integers(0, 10**12)
    return [
        PriceLine(key, draw(unit), draw(st.integers(0, 999)), draw(st.integers(1, 4)), draw(ids))
        for key in range(count)
    ]


@st.composite
def discount_lists(draw: st.DrawFn) -> list[Discount]:
    found = []
    for promotion_id in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from([PERCENTAGE, FIXED, FREE_SHIPPING]))
        share = st.decimals(Decimal("0.01"), Decimal(100), places=2)
        found.append(
            Discount(
                promotion_id,
                f"promotion {promotion_id}",
                kind,
                code=draw(st.none() | st.just(f"C{promotion_id}")),
                percentage=draw(share) if kind == PERCENTAGE else None,
                amount=draw(st.integers(1, 10**9)) if kind == FIXED else None,
                min_subtotal=draw(st.none() | st.integers(0, 10**9)),
                product_ids=draw(ids),
                category_ids=draw(ids),
            )
        )
    return found


@dataclass(frozen=True)
class Cart:
    lines: list[PriceLine]
    discounts: list[Discount]
    shipping: Shipping | None
    tax_rate: Decimal
    prices_include_tax: bool

    def price(self, **changes: Any) -> Priced:
        values = {
            "discounts": self.discounts,
            "shipping": self.shipping,
            "tax_rate": self.tax_rate,
            "prices_include_tax": self.prices_include_tax,
        }
        return price(self.lines, **(values | changes))


carts = st.builds(
    Cart,
    price_lines(),
    discount_lists(),
    st.none() | st.builds(Shipping, st.integers(0, 10**6), st.none() | st.integers(0, 10**9)),
    st.decimals(Decimal(0), Decimal(100), places=3),
    st.booleans(),
)


def exact_tax(amount: int, rate: Decimal, *, gross: bool) -> int:
    r = Fraction(rate)
    return round(Fraction(amount) * r / ((100 + r) if gross else 100))


def shipping_before_discount(cart: Cart, priced: Priced) -> int:
    return priced.shipping_amount + sum(
        d.amount for d in priced.discounts if d.kind == FREE_SHIPPING
    )


@PROFILE
@given(carts)
def test_line_discounts_add_up_to_each_applied_discount(cart: Cart) -> None:
    # Each promotion's effect is what it adds to the lines over the promotions before it.
    for index, discount in enumerate(cart.discounts):
        before = cart.price(discounts=cart.discounts[:index])
        after = cart.price(discounts=cart.discounts[: index + 1])
        applied = [d for d in after.discounts if d.promotion_id == discount.promotion_id]
        shares = [
            a.discount_amount - b.discount_amount
            for a, b in zip(after.lines, before.lines, strict=True)
        ]
        left = [b.undiscounted_amount - b.discount_amount for b in before.lines]
        assert all(0 <= share <= rest for share, rest in zip(shares, left, strict=True))
        if discount.kind == FREE_SHIPPING or not applied:
            assert shares == [0] * len(shares)
            continue
        assert [d.amount for d in applied] == [sum(shares)]
        if discount.kind == PERCENTAGE:
            assert discount.percentage is not None
            base = sum(rest for rest, line in zip(left, cart.lines, strict=True)
                       if discount.covers(line))  # fmt: skip
            exact = round(Fraction(base) * Fraction(discount.percentage) / 100)
            assert sum(shares) == min(base, exact)


@PROFILE
@given(carts)
def test_lines_and_totals_add_up(cart: Cart) -> None:
    priced = cart.price()
    gross = cart.prices_include_tax

    for line, p in zip(cart.lines, priced.lines, strict=True):
        entered = p.undiscounted_amount - p.discount_amount
        assert (p.key, p.unit_amount, p.quantity) == (line.key, line.unit_amount, line.quantity)
        assert p.undiscounted_amount == line.unit_amount * line.quantity
        assert 0 <= p.discount_amount <= p.undiscounted_amount
        assert p.tax_amount == exact_tax(entered, cart.tax_rate, gross=gross)
        assert p.net_amount + p.tax_amount == p.gross_amount
        assert (p.gross_amount if gross else p.net_amount) == entered
        assert min(p.net_amount, p.tax_amount, p.gross_amount) >= 0

    shipping = shipping_before_discount(cart, priced)
    free_shipping = shipping - priced.shipping_amount
    assert priced.shipping_tax_amount == exact_tax(priced.shipping_amount, cart.tax_rate,
                                                   gross=gross)  # fmt: skip
    assert priced.subtotal_amount == sum(p.undiscounted_amount for p in priced.lines)
    assert priced.discount_amount == sum(p.discount_amount for p in priced.lines) + free_shipping
    assert priced.tax_amount == sum(p.tax_amount for p in priced.lines) + (
        priced.shipping_tax_amount
    )
    shipping_gross = priced.shipping_amount + (0 if gross else priced.shipping_tax_amount)
    assert priced.total_amount == sum(p.gross_amount for p in priced.lines) + shipping_gross
    if gross:
        assert priced.total_amount == priced.subtotal_amount - priced.discount_amount + shipping
    else:
        assert priced.total_amount == (
            priced.subtotal_amount - priced.discount_amount + shipping + priced.tax_amount
        )
    assert priced.discount_amount == sum(d.amount for d in priced.discounts)
    assert min(priced.shipping_amount, priced.shipping_tax_amount, free_shipping) >= 0
    assert all(d.amount >= 0 for d in priced.discounts)


@PROFILE
@given(carts, st.data())
def test_shipping_follows_the_free_above_rule(cart: Cart, data: st.DataObject) -> None:
    # The threshold is drawn around the cart's own amounts, where the rule can go wrong: the
    # discounted goods, one either side, and the subtotal before discounts.
    goods = sum(p.undiscounted_amount - p.discount_amount for p in cart.price().lines)
    subtotal = sum(line.amount for line in cart.lines)
    near = st.sampled_from([goods, goods + 1, max(goods - 1, 0), subtotal])
    free_above = data.draw(st.none() | near | st.integers(0, subtotal + 1))
    method = Shipping(data.draw(st.integers(1, 10**6)), free_above)
    priced = cart.price(shipping=method)

    reached = free_above is not None and goods >= free_above
    assert shipping_before_discount(cart, priced) == (0 if reached else method.price_amount)


@PROFILE
@given(carts)
def test_every_promotion_is_applied_or_skipped_once_in_order(cart: Cart) -> None:
    priced = cart.price()

    applied = [d.promotion_id for d in priced.discounts]
    skipped = dict(priced.skipped)
    assert sorted(applied + list(skipped)) == [d.promotion_id for d in cart.discounts]
    assert applied == sorted(applied) and list(skipped) == sorted(skipped)
    for index, discount in enumerate(cart.discounts):
        before = cart.price(discounts=cart.discounts[:index])
        covered = [
            p.undiscounted_amount - p.discount_amount
            for p, line in zip(before.lines, cart.lines, strict=True)
            if discount.covers(line)
        ]
        # A free-shipping promotion needs a covered line; the others something left on one.
        matches = bool(covered) if discount.kind == FREE_SHIPPING else sum(covered) > 0
        short = discount.min_subtotal is not None and priced.subtotal_amount < discount.min_subtotal
        expected = "minimum" if short else None if matches else "no_eligible_line"
        assert skipped.get(discount.promotion_id) == expected


@PROFILE
@given(carts)
def test_the_result_does_not_depend_on_the_decimal_context(cart: Cart) -> None:
    expected = cart.price()

    with decimal.localcontext(prec=4, rounding=decimal.ROUND_UP, traps=[]):
        assert cart.price() == expected


@PROFILE
@given(
    st.integers(0, 10**18),
    st.decimals(Decimal(0), Decimal(100), places=3),
    st.booleans(),
)
def test_tax_of_is_exact_half_even(amount: int, rate: Decimal, gross: bool) -> None:
    assert tax_of(amount, rate, gross=gross) == exact_tax(amount, rate, gross=gross)


@PROFILE
@given(st.decimals(Decimal(-(10**30)), Decimal(10**30), places=4))
def test_round_half_even_is_exact(value: Decimal) -> None:
    assert round_half_even(value) == round(Fraction(value))


@st.composite
def spreads(draw: st.DrawFn) -> tuple[int, list[int]]:
    weights = draw(st.lists(st.integers(0, 10**6) | st.integers(0, 10**15), max_size=10))
    return draw(st.integers(0, sum(weights))), weights


@PROFILE
@given(spreads())
def test_spread_sums_to_the_total_by_largest_remainder(case: tuple[int, list[int]]) -> None:
    total, weights = case
    shares = spread(total, weights)
    whole = sum(weights)

    assert sum(shares) == total
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))
    if not whole:
        return
    quotas = [Fraction(total * weight, whole) for weight in weights]
    up = [share - int(q) for share, q in zip(shares, quotas, strict=True)]
    assert set(up) <= {0, 1}
    # Every line rounded up has a larger remainder than every line not, or an equal one
    # and an earlier place.
    rest = [q - int(q) for q in quotas]
    for i, got in enumerate(up):
        for j, missed in enumerate(up):
            if got and not missed:
                assert rest[i] > rest[j] or (rest[i] == rest[j] and i < j)


@pytest.mark.parametrize(
    ("total", "weights"), [(-1, [1, 2]), (4, [1, 2]), (1, []), (1, [0, 0]), (0, [3, -1])]
)
def test_spread_refuses_what_it_cannot_split(total: int, weights: list[int]) -> None:
    with pytest.raises(ValueError):
        spread(total, weights)


@pytest.mark.parametrize(
    "bad",
    [
        {"lines": [PriceLine(1, -1, 1, 1)]},
        {"lines": [PriceLine(1, 100, -1, 1)]},
        {"shipping": Shipping(-1)},
        {"shipping": Shipping(100, free_above_amount=-1)},
        {"tax_rate": Decimal(-1)},
        {"tax_rate": Decimal("NaN")},
        {"discounts": [Discount(1, "x", PERCENTAGE, percentage=Decimal("100.01"))]},
        {"discounts": [Discount(1, "x", PERCENTAGE, percentage=Decimal("-5"))]},
        {"discounts": [Discount(1, "x", PERCENTAGE)]},
        {"discounts": [Discount(1, "x", FIXED, amount=-100)]},
        {"discounts": [Discount(1, "x", FIXED)]},
        # Refused even where it would be skipped (minimum not reached): bad data is loud.
        {"discounts": [Discount(1, "x", "bogus", amount=100, min_subtotal=10**9)]},
    ],
)
def test_price_refuses_what_the_database_could_not_hold(bad: dict[str, Any]) -> None:
    values: dict[str, Any] = {"lines": [PriceLine(1, 100, 1, 1)]} | bad
    lines = values.pop("lines")

    with pytest.raises(ValueError):
        price(lines, **values)
