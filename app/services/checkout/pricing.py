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
   amount; a free-shipping promotion takes the rest to 0.
4. Tax is computed per line on its discounted amount, and on shipping, at the one rate of
   the delivery address, rounded half-even to the minor unit: from a gross amount as
   amount x rate / (100 + rate), on a net amount as amount x rate / 100.
5. Every total is the sum of its lines (and shipping): a cent never appears or vanishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

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


def round_half_even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` by largest remainder; sums to `total`.

    Requires 0 <= total <= sum(weights); no share exceeds its weight.
    """
    whole = sum(weights)
    if total == 0 or whole == 0:
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
    if rate == 0 or amount == 0:
        return 0
    base = Decimal(100) + rate if gross else Decimal(100)
    return round_half_even(Decimal(amount) * rate / base)


def _discount_total(discount: Discount, eligible: int) -> int:
    if discount.kind == PERCENTAGE:
        assert discount.percentage is not None
        return min(eligible, round_half_even(Decimal(eligible) * discount.percentage / 100))
    assert discount.amount is not None
    return min(eligible, discount.amount)


def price(
    lines: Sequence[PriceLine],
    *,
    discounts: Sequence[Discount] = (),
    shipping: Shipping | None = None,
    tax_rate: Decimal = Decimal(0),
    prices_include_tax: bool = False,
) -> Priced:
    """The cart's prices under the rules of this module's docstring."""
    subtotal = sum(line.amount for line in lines)
    remaining = [line.amount for line in lines]
    applied: list[AppliedDiscount] = []
    skipped: list[tuple[int, str]] = []
    free_shipping: list[Discount] = []
    for discount in discounts:
        if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
            skipped.append((discount.promotion_id, "minimum"))
            continue
        if discount.kind == FREE_SHIPPING:
            free_shipping.append(discount)
            continue
        eligible = [index for index, line in enumerate(lines) if discount.covers(line)]
        base = sum(remaining[index] for index in eligible)
        if not eligible or base == 0:
            skipped.append((discount.promotion_id, "no_eligible_line"))
            continue
        total = _discount_total(discount, base)
        for index, share in zip(
            eligible, spread(total, [remaining[i] for i in eligible]), strict=True
        ):
            remaining[index] -= share
        applied.append(
            AppliedDiscount(
                discount.promotion_id, discount.name, discount.code, discount.kind, total
            )
        )

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

    goods = sum(remaining)
    shipping_price = 0
    shipping_discount = 0
    if shipping is not None:
        free = shipping.free_above_amount is not None and goods >= shipping.free_above_amount
        shipping_price = 0 if free else shipping.price_amount
        for discount in free_shipping:
            applied.append(
                AppliedDiscount(
                    discount.promotion_id, discount.name, discount.code, discount.kind,
                    shipping_price - shipping_discount,
                )
            )  # fmt: skip
            shipping_discount = shipping_price
    else:
        for discount in free_shipping:
            applied.append(
                AppliedDiscount(
                    discount.promotion_id, discount.name, discount.code, discount.kind, 0
                )
            )
    shipping_amount = shipping_price - shipping_discount
    shipping_tax = tax_of(shipping_amount, tax_rate, gross=gross)
    shipping_gross = shipping_amount if gross else shipping_amount + shipping_tax

    line_discounts = sum(line.discount_amount for line in priced_lines)
    return Priced(
        lines=priced_lines,
        subtotal_amount=subtotal,
        discount_amount=line_discounts + shipping_discount,
        shipping_amount=shipping_amount,
        shipping_tax_amount=shipping_tax,
        tax_amount=sum(line.tax_amount for line in priced_lines) + shipping_tax,
        total_amount=sum(line.gross_amount for line in priced_lines) + shipping_gross,
        tax_rate=tax_rate,
        discounts=applied,
        skipped=skipped,
    )
