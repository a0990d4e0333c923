"""The price of a cart, in integer minor units: discounts, shipping, tax, totals.

Pure arithmetic, no database: the caller gathers lines, the promotions to apply, the
chosen shipping method and the tax rate. The rules (docs/pricing.md):

1. A line's undiscounted amount is unit price x quantity, as entered (gross when prices
   include tax, net otherwise). The subtotal is their sum.
2. Promotions apply in the given order, each to what earlier ones left. One limited to
   products or categories applies to the lines of those products (a category covers its
   subcategories: the caller passes each line's category and its ancestors). A promotion
   whose minimum subtotal the cart does not reach, or that matches no line, is skipped and
   reported in `skipped`. A percentage is rounded half-even on the eligible amount; a fixed
   amount is capped by it. Either is spread over the eligible lines in proportion to their
   amounts by largest remainder (ties to the earlier line), so the lines' discounts always
   add up to the promotion's amount and no line goes below zero.
3. Shipping is the method's price, or 0 when the discounted goods reach its free-above
   amount; a free-shipping promotion takes the rest to 0 (one limited to products or
   categories needs one of their lines in the cart, else it is skipped like the others).
4. Tax is computed per line on its discounted amount, and on shipping, at the one rate of
   the delivery address, rounded half-even to the minor unit: from a gross amount as
   amount x rate / (100 + rate), on a net amount as amount x rate / 100.
5. Every total is the sum of its lines (and shipping): a cent never appears or vanishes.

The arithmetic is exact: every rounding is done on integer fractions, so the result does not
depend on the ambient `decimal` context (precision, rounding) nor on the size of the numbers.
Inputs the database could not hold (negative amounts, a percentage outside 0-100, an unknown
kind) raise ValueError: they are programming errors, not shopper input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

PERCENTAGE = "percentage"
FIXED = "fixed"
FREE_SHIPPING = "free_shipping"


@dataclass(frozen=True)
class PriceLine:
    key: int
    unit_amount: int
    quantity: int
    product_id: int
    # The product's category and all its ancestors (empty without a category).
    category_ids: frozenset[int] = frozenset()

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class Discount:
    """A promotion to apply; dates, usage limits and currency are the caller's to check."""

    promotion_id: int
    name: str
    kind: str
    code: str | None = None
    percentage: Decimal | None = None
    amount: int | None = None
    min_subtotal: int | None = None
    # Both empty: every line is eligible.
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()

    def covers(self, line: PriceLine) -> bool:
        if not self.product_ids and not self.category_ids:
            return True
        return line.product_id in self.product_ids or bool(self.category_ids & line.category_ids)


@dataclass(frozen=True)
class Shipping:
    price_amount: int
    free_above_amount: int | None = None


@dataclass(frozen=True)
class PricedLine:
    key: int
    unit_amount: int
    quantity: int
    undiscounted_amount: int
    discount_amount: int
    net_amount: int
    tax_amount: int
    gross_amount: int


@dataclass(frozen=True)
class AppliedDiscount:
    promotion_id: int
    name: str
    code: str | None
    kind: str
    amount: int


@dataclass(frozen=True)
class Priced:
    lines: list[PricedLine]
    subtotal_amount: int
    discount_amount: int
    shipping_amount: int  # after its discount, as entered
    shipping_tax_amount: int
    tax_amount: int
    total_amount: int  # gross: what the shopper pays
    tax_rate: Decimal
    discounts: list[AppliedDiscount] = field(default_factory=list)
    # Promotions not applied: (promotion id, why) with why "minimum" or "no_eligible_line".
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _round_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half-even, in integers only."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _ratio(value: Decimal, what: str) -> tuple[int, int]:
    if not value.is_finite():
        raise ValueError(f"{what} must be finite, not {value}")
    return value.as_integer_ratio()


def round_half_even(value: Decimal) -> int:
    return _round_ratio(*_ratio(value, "value"))


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` by largest remainder; sums to `total`.

    Requires 0 <= total <= sum(weights) and no negative weight (else ValueError); no share
    exceeds its weight.
    """
    whole = sum(weights)
    if total < 0 or total > whole or any(weight < 0 for weight in weights):
        raise ValueError(f"cannot spread {total} over {list(weights)}")
    if total == 0:
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    left = total - sum(shares)
    # Largest remainder first; ties to the earlier position.
    order = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
    for index in order[:left]:
        shares[index] += 1
    return shares


def tax_of(amount: int, rate: Decimal, *, gross: bool) -> int:
    """Tax in an amount entered gross, or on an amount entered net, rounded half-even."""
    numerator, denominator = _ratio(rate, "tax rate")
    if numerator < 0:
        raise ValueError(f"tax rate must not be negative, not {rate}")
    if numerator == 0 or amount == 0:
        return 0
    # gross: amount x rate / (100 + rate); net: amount x rate / 100, with rate = n / d.
    base = 100 * denominator + (numerator if gross else 0)
    return _round_ratio(amount * numerator, base)


def _check_discount(discount: Discount) -> None:
    what = f"promotion {discount.promotion_id}"
    if discount.kind == PERCENTAGE:
        if discount.percentage is None:
            raise ValueError(f"{what}: a percentage promotion needs its percentage")
        numerator, denominator = _ratio(discount.percentage, "percentage")
        if not 0 <= numerator <= 100 * denominator:
            raise ValueError(f"{what}: percentage {discount.percentage} outside 0-100")
    elif discount.kind == FIXED:
        if discount.amount is None or discount.amount < 0:
            raise ValueError(f"{what}: a fixed promotion needs an amount >= 0")
    elif discount.kind != FREE_SHIPPING:
        raise ValueError(f"{what}: unknown kind {discount.kind!r}")


def _discount_total(discount: Discount, eligible: int) -> int:
    if discount.kind == PERCENTAGE:
        assert discount.percentage is not None  # _check_discount
        numerator, denominator = discount.percentage.as_integer_ratio()
        # At most 100%: never more than the eligible amount.
        return _round_ratio(eligible * numerator, 100 * denominator)
    assert discount.amount is not None  # _check_discount
    return min(eligible, discount.amount)


def _check_inputs(lines: Sequence[PriceLine], shipping: Shipping | None) -> None:
    for line in lines:
        if line.unit_amount < 0 or line.quantity < 0:
            raise ValueError(f"line {line.key}: negative price or quantity")
    if shipping is not None and (
        shipping.price_amount < 0
        or (shipping.free_above_amount is not None and shipping.free_above_amount < 0)
    ):
        raise ValueError("shipping: negative price or free-above amount")


def _apply(
    lines: Sequence[PriceLine], discounts: Sequence[Discount]
) -> tuple[list[int], dict[int, AppliedDiscount], list[tuple[int, str]], list[int]]:
    """Rule 2: what each line has left, the promotions applied and skipped (by position),
    and the positions of the free-shipping promotions that apply (priced with shipping)."""
    subtotal = sum(line.amount for line in lines)
    remaining = [line.amount for line in lines]
    applied: dict[int, AppliedDiscount] = {}
    skipped: list[tuple[int, str]] = []
    free_shipping: list[int] = []
    for position, discount in enumerate(discounts):
        _check_discount(discount)
        if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
            skipped.append((discount.promotion_id, "minimum"))
            continue
        eligible = [index for index, line in enumerate(lines) if discount.covers(line)]
        if discount.kind == FREE_SHIPPING:
            if eligible:
                free_shipping.append(position)
            else:
                skipped.append((discount.promotion_id, "no_eligible_line"))
            continue
        base = sum(remaining[index] for index in eligible)
        if base == 0:
            # Also when the lines it covers were already taken to 0 by earlier promotions.
            skipped.append((discount.promotion_id, "no_eligible_line"))
            continue
        total = _discount_total(discount, base)
        shares = spread(total, [remaining[index] for index in eligible])
        for index, share in zip(eligible, shares, strict=True):
            remaining[index] -= share
        applied[position] = _applied(discount, total)
    return remaining, applied, skipped, free_shipping


def _applied(discount: Discount, amount: int) -> AppliedDiscount:
    return AppliedDiscount(discount.promotion_id, discount.name, discount.code, discount.kind,
                           amount)  # fmt: skip


def price(
    lines: Sequence[PriceLine],
    *,
    discounts: Sequence[Discount] = (),
    shipping: Shipping | None = None,
    tax_rate: Decimal = Decimal(0),
    prices_include_tax: bool = False,
) -> Priced:
    """The cart's prices under the rules of this module's docstring."""
    _check_inputs(lines, shipping)
    remaining, applied, skipped, free_shipping = _apply(lines, discounts)

    gross = prices_include_tax
    priced_lines = []
    for line, amount in zip(lines, remaining, strict=True):
        tax = tax_of(amount, tax_rate, gross=gross)
        priced_lines.append(
            PricedLine(
                key=line.key,
                unit_amount=line.unit_amount,
                quantity=line.quantity,
                undiscounted_amount=line.amount,
                discount_amount=line.amount - amount,
                net_amount=amount - tax if gross else amount,
                tax_amount=tax,
                gross_amount=amount if gross else amount + tax,
            )
        )

    # Rule 3: free above the discounted goods (as entered), then free-shipping promotions:
    # the first takes what is left, any later one finds 0.
    goods = sum(remaining)
    shipping_price = 0
    if shipping is not None:
        free = shipping.free_above_amount is not None and goods >= shipping.free_above_amount
        shipping_price = 0 if free else shipping.price_amount
    shipping_discount = 0
    for position in free_shipping:
        applied[position] = _applied(discounts[position], shipping_price - shipping_discount)
        shipping_discount = shipping_price
    shipping_amount = shipping_price - shipping_discount
    shipping_tax = tax_of(shipping_amount, tax_rate, gross=gross)
    shipping_gross = shipping_amount if gross else shipping_amount + shipping_tax

    line_discounts = sum(line.discount_amount for line in priced_lines)
    return Priced(
        lines=priced_lines,
        subtotal_amount=sum(line.undiscounted_amount for line in priced_lines),
        discount_amount=line_discounts + shipping_discount,
        shipping_amount=shipping_amount,
        shipping_tax_amount=shipping_tax,
        tax_amount=sum(line.tax_amount for line in priced_lines) + shipping_tax,
        total_amount=sum(line.gross_amount for line in priced_lines) + shipping_gross,
        tax_rate=tax_rate,
        discounts=[applied[position] for position in sorted(applied)],
        skipped=skipped,
    )
